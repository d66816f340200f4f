#!/usr/bin/env bash
# Install, from Debian 12 packages, whatever frt needs that is missing.
set -euo pipefail
pkgs="postgresql-15 postgresql-server-dev-15 postgresql-15-cron libsimde-dev libssl-dev
      libipc-run-perl build-essential python3 gettext locales libsqlite3-dev sqlite3"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "frt: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq $missing >/dev/null
fi
# The Chinese messages need the zh_CN.UTF-8 locale (lc_messages =
# 'zh_CN.UTF-8'; docs/translation.md): generated once, kept afterwards.
if ! locale -a 2>/dev/null | grep -qix 'zh_CN\.utf-\?8'; then
	echo "frt: generating the locale zh_CN.UTF-8"
	grep -q '^zh_CN.UTF-8 UTF-8' /etc/locale.gen 2>/dev/null ||
		echo 'zh_CN.UTF-8 UTF-8' >> /etc/locale.gen
	locale-gen >/dev/null
fi
# Debian creates a default cluster on port 5432; frt uses throwaway clusters
# of its own and leaves that one alone.
id postgres >/dev/null 2>&1 || { echo "frt: user postgres missing" >&2; exit 1; }
