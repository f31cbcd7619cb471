#!/usr/bin/env bash
# A local MinIO landing zone for trying the capture agent: `make landing` (foreground; Ctrl-C stops it).
#   data in .cache/minio/data, credentials generated once into .cache/minio/env (mode 0600):
#   source .cache/minio/env && .venv/bin/netqos status
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=$ROOT/.cache/minio
MINIO_BIN=${NETQOS_MINIO_BIN:-${NETQOS_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/netqos}/bin/minio}
PORT=${NETQOS_LANDING_PORT:-9000}
[[ -x $MINIO_BIN ]] || { echo "no MinIO at $MINIO_BIN: run 'make minio' first" >&2; exit 1; }
mkdir -p "$DIR/data"
if [[ ! -f $DIR/env ]]; then
    umask 077
    user=netqos-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')
    pass=$(head -c 30 /dev/urandom | base64 | tr -d '/+=\n')
    cat > "$DIR/env" <<ENV
export NETQOS_S3__ENDPOINT_URL=http://127.0.0.1:$PORT
export NETQOS_S3__ACCESS_KEY_ID=$user
export NETQOS_S3__SECRET_ACCESS_KEY=$pass
ENV
fi
# shellcheck disable=SC1091
source "$DIR/env"
echo "MinIO on $NETQOS_S3__ENDPOINT_URL, data in $DIR/data; in another shell: source $DIR/env" >&2
# Credentials through the environment only (not visible in the process list).
export MINIO_ROOT_USER=$NETQOS_S3__ACCESS_KEY_ID MINIO_ROOT_PASSWORD=$NETQOS_S3__SECRET_ACCESS_KEY MINIO_BROWSER=off
exec "$MINIO_BIN" server --quiet --address "127.0.0.1:$PORT" "$DIR/data"
