#!/usr/bin/env bash
# Make a private, relocated copy of the system PostgreSQL 15 under PREFIX so
# several developers can build, install and test on one machine without
# overwriting each other's frt.so.  Prints the copy's pg_config path.
#   scripts/private-pg.sh /opt/pg-NAME
#   make PG_CONFIG=/opt/pg-NAME/lib/postgresql/15/bin/pg_config install
set -euo pipefail
prefix=$1
if [ ! -x "$prefix/lib/postgresql/15/bin/pg_config" ]; then
	mkdir -p "$prefix/lib/postgresql" "$prefix/share/postgresql" "$prefix/include"
	cp -a /usr/lib/postgresql/15 "$prefix/lib/postgresql/"
	cp -a /usr/share/postgresql/15 "$prefix/share/postgresql/"
	cp -a /usr/include/postgresql "$prefix/include/"
fi
echo "$prefix/lib/postgresql/15/bin/pg_config"
