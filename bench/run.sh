#!/usr/bin/env bash
# Run the end-to-end benchmark (bench/run.py) with a Python that can draw the
# plot: the system python3 has python3-matplotlib from apt; any python3 works
# for everything else.  Arguments go to run.py, e.g.
#   bench/run.sh --pg-config $PGC --index --lists 0,316
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
py=python3
for cand in /usr/bin/python3 python3; do
	if "$cand" -c 'import matplotlib' 2>/dev/null; then py=$cand; break; fi
done
exec "$py" "$here/run.py" "$@"
