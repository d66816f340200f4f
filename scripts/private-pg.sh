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
# Message catalogues: the server looks for them relative to its binaries
# (pg_config --localedir: $prefix/share/locale here), so the copy gets its own
# copy of PostgreSQL's catalogues, and `make install` puts frt's beside them.
if [ ! -d "$prefix/share/locale" ]; then
	mkdir -p "$prefix/share/locale"
	for mo in /usr/share/locale/*/LC_MESSAGES/*-15.mo; do
		[ -e "$mo" ] || continue
		lang=${mo#/usr/share/locale/}
		lang=${lang%%/*}
		mkdir -p "$prefix/share/locale/$lang/LC_MESSAGES"
		cp -a "$mo" "$prefix/share/locale/$lang/LC_MESSAGES/"
	done
fi
echo "$prefix/lib/postgresql/15/bin/pg_config"
