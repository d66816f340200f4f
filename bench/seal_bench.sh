#!/usr/bin/env bash
# Encryption at rest: a sealed frt_ivf index against a plaintext one on the
# same face-like rows, in one cluster (frt_governance preloaded, a root key
# and a keyring made by scripts/cluster.sh) and one run.  Arguments go to
# bench/seal_bench.py, e.g.
#   bench/seal_bench.sh --pg-config $PGC --n 100000 --small-cache 16MB
#   bench/seal_bench.sh --pg-config $PGC --n 100000 --suite sm4-sm3
#   bench/seal_bench.sh --pg-config $PGC --n 1000000 --shared-buffers 8GB --plaintext-cache 1GB
# Run from the repository as root (the cluster runs as the user postgres).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
make -s -C "$here" facegen
exec python3 "$here/seal_bench.py" "$@"
