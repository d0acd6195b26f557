#!/bin/sh
# Starts yagna with the app key read from a file (a Docker or Kubernetes secret), so the key never
# appears in the environment of `docker inspect` or in a manifest. yagna creates the key at startup
# (YAGNA_AUTOCONF_APPKEY; docs/notes/yagna-offline.md §1.5).
#   yagna-entrypoint service run      the node (default)
#   yagna-entrypoint healthcheck      exit 0 when GET /me answers 200 with the key
set -eu
key_file="${YAGNA_APPKEY_FILE:-/run/secrets/yagna_appkey}"
[ -r "$key_file" ] || { echo "yagna-entrypoint: no app key file at $key_file (set YAGNA_APPKEY_FILE)" >&2; exit 1; }
key="$(tr -d ' \n\r\t' < "$key_file")"
[ -n "$key" ] || { echo "yagna-entrypoint: $key_file is empty" >&2; exit 1; }
api="${YAGNA_API_URL:-http://127.0.0.1:7465}"
if [ "${1:-}" = healthcheck ]; then
  # The key goes through the environment of this one process, not its arguments (ps shows those).
  YAGNA_HEALTH_PORT="${api##*:}" YAGNA_HEALTH_KEY="$key" exec python3 -c '
import os, sys, urllib.request
request = urllib.request.Request("http://127.0.0.1:%s/me" % os.environ["YAGNA_HEALTH_PORT"],
                                 headers={"Authorization": "Bearer " + os.environ["YAGNA_HEALTH_KEY"]})
sys.exit(0 if urllib.request.urlopen(request, timeout=3).status == 200 else 1)'
fi
export YAGNA_AUTOCONF_APPKEY="$key"
exec yagna "$@"
