#!/usr/bin/env bash
# N replicas of LSTM Gate Lab behind nginx, with session affinity, on one machine.
#
#   deploy/run_replicas.sh N [PORT]        e.g. deploy/run_replicas.sh 2 8080  ->  http://127.0.0.1:8080
#   UPSTREAMS="127.0.0.1:8501 10.0.0.7:8501" deploy/run_replicas.sh 0 8080   # only nginx, for app processes
#                                          # already running (containers, other machines), health-checked first
#
# Starts N `streamlit run app/streamlit_app.py` processes on 127.0.0.1:BASE_PORT.. (BASE_PORT defaults to
# PORT+1) without Streamlit's file watcher (for each session it walks every imported module's path: the
# largest cost per session under load, see benchmarks/class_load.py), waits until each answers
# /_stcore/health, then runs nginx (not daemonised) on PORT with a configuration generated into a
# temporary directory (pid file, logs and temp files there too), so no root is needed. It stays until
# Ctrl-C or a TERM signal, or until any one of the processes ends, and then stops them all.
#
# Environment: PYTHON (the interpreter with the app's requirements; default: python3), LISTEN (the
# address nginx listens on; default 127.0.0.1, use 0.0.0.0 to serve a class on the network), BASE_PORT,
# NGINX (default: nginx from PATH or /usr/sbin/nginx), MAX_UPLOAD_MB (default 50, as .streamlit/config.toml),
# KEEP_RUN_DIR=1 keeps the directory with the logs. Any other variable (e.g. LSTMLAB_CACHE_MB) reaches
# the replicas.
#
# Affinity: a Streamlit session lives in one process: its websocket (/_stcore/stream) and its uploads
# (PUT /_stcore/upload_file/<session>/...) must reach the same replica. nginx hashes the cookie
# `lstmlab_replica`; a request without it is hashed by its own $request_id, and the response sets the
# cookie to that same id, so the browser's next requests hash to the replica that served its first.
# (ip_hash would put a whole class behind one school NAT, or every client on loopback, on one replica.)
set -euo pipefail

N=${1:?usage: $0 N [PORT]  (N = 0 with UPSTREAMS="host:port ...")}
PORT=${2:-8080}
BASE_PORT=${BASE_PORT:-$((PORT + 1))}
LISTEN=${LISTEN:-127.0.0.1}
PYTHON=${PYTHON:-python3}
MAX_UPLOAD_MB=${MAX_UPLOAD_MB:-50}
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/lstmlab-replicas.XXXXXX")
PIDS=()
NGINX_PID=""

read -r -a EXTERNAL <<<"${UPSTREAMS:-}"
[[ "$N" =~ ^[0-9]+$ ]] || { echo "N must be a whole number, not '$N'" >&2; exit 2; }
((N + ${#EXTERNAL[@]} > 0)) || { echo "nothing to serve: N is 0 and UPSTREAMS is empty" >&2; exit 2; }
[[ -x "$NGINX" ]] || { echo "nginx not found (Debian: apt-get install -y nginx; or set NGINX=...)" >&2; exit 2; }

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  trap - EXIT INT TERM
  if [[ -n "$NGINX_PID" ]]; then kill -TERM "$NGINX_PID" 2>/dev/null || true; fi
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}" ${NGINX_PID:+"$NGINX_PID"}; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  if [[ "${KEEP_RUN_DIR:-0}" == 1 ]]; then echo "logs kept in $RUN_DIR"; else rm -rf "$RUN_DIR"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for ((i = 0; i < N; i++)); do
  port=$((BASE_PORT + i))
  (cd "$ROOT" && exec "$PYTHON" -m streamlit run app/streamlit_app.py --server.port "$port" \
      --server.address 127.0.0.1 --server.headless true --browser.gatherUsageStats false \
      --server.maxUploadSize "$MAX_UPLOAD_MB" --server.fileWatcherType none \
      --server.runOnSave false) >"$RUN_DIR/replica-$i.log" 2>&1 &
  PIDS+=($!)
done
printf '%s\n' "${PIDS[@]}" >"$RUN_DIR/replicas.pids"

# Wait (bounded: 120 s) until each "PID URL" pair answers URL/_stcore/health (PID "-": not ours to watch).
wait_healthy() {
  "$PYTHON" - "$@" <<'EOF'
import os, sys, time, urllib.request
pairs = list(zip(sys.argv[1::2], sys.argv[2::2]))
deadline = time.monotonic() + 120
for pid, url in pairs:
    while True:
        try:
            if pid != "-":
                os.kill(int(pid), 0)
        except OSError:
            sys.exit(f"{url} (pid {pid}) exited before it was healthy")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            sys.exit(f"{url} (pid {pid}) was not healthy after 120 s")
        time.sleep(0.1)
EOF
}

SERVERS=()
pairs=()
for ((i = 0; i < N; i++)); do
  SERVERS+=("127.0.0.1:$((BASE_PORT + i))")
  pairs+=("${PIDS[$i]}" "http://127.0.0.1:$((BASE_PORT + i))")
done
for server in "${EXTERNAL[@]}"; do
  SERVERS+=("$server")
  pairs+=("-" "http://$server")
done
wait_healthy "${pairs[@]}" || { KEEP_RUN_DIR=1; exit 1; }

mkdir -p "$RUN_DIR/tmp"
if [[ $(id -u) == 0 ]]; then  # nginx started by root runs its workers as nobody: let them write temp files
  chmod 755 "$RUN_DIR"
  chown nobody "$RUN_DIR/tmp"
fi
{
  cat <<EOF
worker_processes 1;
pid $RUN_DIR/nginx.pid;
error_log $RUN_DIR/nginx-error.log warn;
events { worker_connections 4096; }
http {
  log_format replica '\$remote_addr [\$time_local] "\$request" \$status \$body_bytes_sent '
                     'upstream=\$upstream_addr key=\$lstmlab_replica t=\$request_time';
  access_log $RUN_DIR/nginx-access.log replica;
  client_body_temp_path $RUN_DIR/tmp/body;
  proxy_temp_path $RUN_DIR/tmp/proxy;
  fastcgi_temp_path $RUN_DIR/tmp/fastcgi;
  uwsgi_temp_path $RUN_DIR/tmp/uwsgi;
  scgi_temp_path $RUN_DIR/tmp/scgi;

  # Uploads: Streamlit's limit (server.maxUploadSize) plus room for the multipart framing.
  client_max_body_size $((MAX_UPLOAD_MB + 1))m;

  # Websockets get "Connection: upgrade"; other requests none, so upstream connections are kept alive.
  map \$http_upgrade \$connection_upgrade { default upgrade; '' ''; }
  # Affinity key: the browser's cookie, or for its first request that request's id (which becomes the cookie).
  map \$cookie_lstmlab_replica \$lstmlab_replica { '' \$request_id; default \$cookie_lstmlab_replica; }
  map \$cookie_lstmlab_replica \$lstmlab_set_cookie {
    '' 'lstmlab_replica=\$request_id; Path=/; HttpOnly; SameSite=Lax';
    default '';
  }

  upstream lstmlab {
    hash \$lstmlab_replica consistent;
EOF
  for server in "${SERVERS[@]}"; do echo "    server $server;"; done
  cat <<EOF
    keepalive 16;
  }

  server {
    listen $LISTEN:$PORT;
    location / {
      proxy_pass http://lstmlab;
      proxy_http_version 1.1;
      proxy_set_header Upgrade \$http_upgrade;
      proxy_set_header Connection \$connection_upgrade;
      proxy_set_header Host \$http_host;  # with the port: Streamlit compares it with the websocket's Origin
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
      proxy_read_timeout 1d;  # a websocket that is quiet while a student reads must stay open
      proxy_send_timeout 1d;
      add_header Set-Cookie \$lstmlab_set_cookie always;
    }
  }
}
EOF
} >"$RUN_DIR/nginx.conf"

"$NGINX" -t -q -p "$RUN_DIR" -e "$RUN_DIR/nginx-error.log" -c "$RUN_DIR/nginx.conf"
"$NGINX" -p "$RUN_DIR" -e "$RUN_DIR/nginx-error.log" -c "$RUN_DIR/nginx.conf" -g 'daemon off;' &
NGINX_PID=$!
[[ "$LISTEN" == 0.0.0.0 ]] && HOST=127.0.0.1 || HOST=$LISTEN
wait_healthy "$NGINX_PID" "http://$HOST:$PORT" || { KEEP_RUN_DIR=1; exit 1; }

pids_csv=$(IFS=,; echo "${PIDS[*]}")
echo "LSTM Gate Lab: ${#SERVERS[@]} app processes behind nginx at http://$LISTEN:$PORT"
echo "upstreams: ${SERVERS[*]}  replica pids: ${pids_csv:--}  nginx pid: $NGINX_PID"
echo "config and logs: $RUN_DIR   (Ctrl-C stops everything)"
status=0
wait -n "${PIDS[@]}" "$NGINX_PID" || status=$?
echo "a process ended on its own (exit status $status); stopping the others" >&2
KEEP_RUN_DIR=1
exit 1
