#!/usr/bin/env bash
# Start or stop a throwaway PostgreSQL cluster as an unprivileged user.
#   scripts/cluster.sh start DIR PORT     (prints nothing on success)
#   scripts/cluster.sh stop DIR
# Environment: PG_CONFIG (default pg_config), PGUSER_OS (default postgres),
# FRT_PRELOAD (shared_preload_libraries; default frt_governance,pg_cron; empty
# for a server that preloads nothing, as the core needs), FRT_AUDIT_KEY
# (on: an audit key and an anchor file under DIR/keys; default off).  A
# server that preloads frt_governance always gets a root encryption key and
# a keyring under DIR/keys; FRT_SUITE picks the suite (default aes-256-gcm,
# or sm4-sm3).
set -euo pipefail
cmd=$1; dir=$2; port=${3:-55432}
bindir=$("${PG_CONFIG:-pg_config}" --bindir)
osuser=${PGUSER_OS:-postgres}
as_user() {
	if [ "$(id -un)" = "$osuser" ]; then "$@"; else runuser -u "$osuser" -- "$@"; fi
}
# new_key FILE MODE: 32 random bytes in hex, owned by the server's user.
new_key() {
	head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$1"
	echo >>"$1"
	chown "$osuser" "$1"
	chmod "$2" "$1"
}
case "$cmd" in
start)
	rm -rf "$dir"; mkdir -p "$dir"; chown "$osuser" "$dir"
	as_user "$bindir/initdb" -D "$dir/data" -A trust -U postgres --no-sync >"$dir/initdb.log"
	mkdir -p "$dir/keys"; chown "$osuser" "$dir/keys"; chmod 0700 "$dir/keys"
	cat >>"$dir/data/postgresql.conf" <<CONF
port = $port
listen_addresses = ''
unix_socket_directories = '$dir'
shared_preload_libraries = '${FRT_PRELOAD-frt_governance,pg_cron}'
cron.database_name = 'postgres'
max_worker_processes = 16
fsync = off
CONF
	case "${FRT_PRELOAD-frt_governance,pg_cron}" in
	*frt_governance*)
		# the root key and the keyring of the sealed face store, outside the
		# data directory (docs/operations.md, "Encryption keys")
		new_key "$dir/keys/root.key" 0600
		mkdir -p "$dir/keys/keyring"
		chown "$osuser" "$dir/keys/keyring"
		chmod 0700 "$dir/keys/keyring"
		cat >>"$dir/data/postgresql.conf" <<CONF
frt.encryption_key_file = '$dir/keys/root.key'
frt.encryption_keyring = '$dir/keys/keyring'
frt.encryption_suite = '${FRT_SUITE:-aes-256-gcm}'
CONF
		;;
	esac
	if [ "${FRT_AUDIT_KEY:-off}" = on ]; then
		# an audit key and an anchor file outside the data directory
		# (docs/operations.md, "Audit key and anchors")
		new_key "$dir/keys/audit.key" 0400
		touch "$dir/keys/audit-anchors"
		chown "$osuser" "$dir/keys/audit-anchors"
		cat >>"$dir/data/postgresql.conf" <<CONF
frt.audit_key_file = '$dir/keys/audit.key'
frt.audit_anchor_file = '$dir/keys/audit-anchors'
frt.audit_anchor_interval = '10s'
CONF
	fi
	as_user "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null
	;;
stop)
	as_user "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
	;;
*) echo "usage: $0 start|stop DIR [PORT]" >&2; exit 2 ;;
esac
