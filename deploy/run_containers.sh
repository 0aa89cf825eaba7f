#!/usr/bin/env bash
# Run the app's image (deploy/build_offline.sh, or `docker build`) as N containers; with N >= 2, behind
# deploy/run_replicas.sh's nginx (session affinity by cookie), as that script does with plain processes.
#
#   deploy/run_containers.sh 1 [PORT]      one container published on PORT (default 8501)
#   deploy/run_containers.sh 2 [PORT]      two containers on 127.0.0.1:PORT+1, PORT+2, nginx on PORT (default 8080)
#
# Each container is started detached (--rm, named lstmlab-<its port>), waited for until /_stcore/health
# answers (120 s at most), and then checked once with the image's own HEALTHCHECK (`podman healthcheck
# run`: podman's periodic checks need systemd, which machines like this one lack, so podman logs
# "unable to get systemd connection to add healthchecks" when a container starts; that is harmless).
# The script stays until Ctrl-C or a TERM signal, or until a container or nginx ends, and then stops
# them all.
#
# Environment: IMAGE (default localhost/lstm-gate-lab:latest), ENGINE (podman, the default when installed,
# or docker), LISTEN (default 127.0.0.1; 0.0.0.0 serves a class on the network), BASE_PORT (N >= 2: the
# first container's port, default PORT+1), MAX_UPLOAD_MB (sets the containers' Streamlit limit and
# nginx's; default: the image's 50), PYTHON (for the health waits and nginx's script; default python3).
# Every LSTMLAB_* variable (e.g. LSTMLAB_CACHE_MB=512) reaches the containers.
set -euo pipefail

N=${1:?usage: $0 N [PORT]}
[[ "$N" =~ ^[1-9][0-9]*$ ]] || { echo "N must be a whole number >= 1, not '$N'" >&2; exit 2; }
if ((N == 1)); then PORT=${2:-8501}; else PORT=${2:-8080}; fi
BASE_PORT=${BASE_PORT:-$((PORT + 1))}
IMAGE=${IMAGE:-localhost/lstm-gate-lab:latest}
LISTEN=${LISTEN:-127.0.0.1}
PYTHON=${PYTHON:-python3}
ENGINE=${ENGINE:-$(command -v podman >/dev/null && echo podman || echo docker)}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PODMAN_OPTS=()
PODMAN_LIMITS=()
if [[ "$ENGINE" == podman ]]; then
  # shellcheck source=deploy/podman_opts.sh
  source "$ROOT/deploy/podman_opts.sh"
fi
command -v "$ENGINE" >/dev/null || { echo "$ENGINE not found (Debian: apt-get install -y podman runc)" >&2; exit 2; }
"$ENGINE" image inspect "$IMAGE" >/dev/null 2>&1 \
  || { echo "no image $IMAGE: build it first (deploy/build_offline.sh, or docker build -t $IMAGE .)" >&2; exit 2; }

ENV_ARGS=()
while IFS='=' read -r name _; do ENV_ARGS+=(-e "$name"); done < <(env | grep -E '^LSTMLAB_[A-Z0-9_]*=' || true)
if [[ -n "${MAX_UPLOAD_MB:-}" ]]; then ENV_ARGS+=(-e "STREAMLIT_SERVER_MAX_UPLOAD_SIZE=$MAX_UPLOAD_MB"); fi

NAMES=()
NGINX_PID=""
# shellcheck disable=SC2317,SC2329  # called by the EXIT trap
cleanup() {
  trap - EXIT INT TERM
  if [[ -n "$NGINX_PID" ]]; then kill -TERM "$NGINX_PID" 2>/dev/null || true; wait "$NGINX_PID" 2>/dev/null || true; fi
  if ((${#NAMES[@]})); then "$ENGINE" "${PODMAN_OPTS[@]}" stop -t 10 "${NAMES[@]}" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ((N == 1)); then PORTS=("$PORT"); BIND=$LISTEN; else mapfile -t PORTS < <(seq "$BASE_PORT" $((BASE_PORT + N - 1))); BIND=127.0.0.1; fi
for port in "${PORTS[@]}"; do
  name="lstmlab-$port"
  err=$(mktemp)
  "$ENGINE" "${PODMAN_OPTS[@]}" run -d --rm --name "$name" "${PODMAN_LIMITS[@]}" "${ENV_ARGS[@]}" \
    -p "$BIND:$port:8501" "$IMAGE" >/dev/null 2>"$err" || { cat "$err" >&2; rm -f "$err"; exit 1; }
  rm -f "$err"
  NAMES+=("$name")
done

for port in "${PORTS[@]}"; do
  "$PYTHON" - "http://127.0.0.1:$port/_stcore/health" <<'EOF' || { "$ENGINE" logs --tail 20 "lstmlab-$port" >&2; exit 1; }
import sys, time, urllib.request
deadline = time.monotonic() + 120
while True:
    try:
        with urllib.request.urlopen(sys.argv[1], timeout=1) as r:
            if r.status == 200:
                break
    except OSError:
        pass
    if time.monotonic() > deadline:
        sys.exit(f"{sys.argv[1]} did not answer in 120 s")
    time.sleep(0.2)
EOF
  if [[ "$ENGINE" == podman ]]; then
    podman "${PODMAN_OPTS[@]}" healthcheck run "lstmlab-$port" >/dev/null \
      || { echo "lstmlab-$port answers, but the image's HEALTHCHECK failed in it" >&2; exit 1; }
  fi
done
echo "containers (healthy): ${NAMES[*]}"

if ((N == 1)); then
  [[ "$LISTEN" == 0.0.0.0 ]] && HOST=127.0.0.1 || HOST=$LISTEN
  echo "LSTM Gate Lab in a container at http://$HOST:$PORT   (Ctrl-C stops it)"
else
  upstreams=$(printf '127.0.0.1:%s ' "${PORTS[@]}")
  UPSTREAMS=$upstreams LISTEN=$LISTEN PYTHON=$PYTHON MAX_UPLOAD_MB=${MAX_UPLOAD_MB:-50} \
    "$ROOT/deploy/run_replicas.sh" 0 "$PORT" &
  NGINX_PID=$!
fi
WATCH=()
for name in "${NAMES[@]}"; do "$ENGINE" "${PODMAN_OPTS[@]}" wait "$name" >/dev/null 2>&1 & WATCH+=($!); done
status=0
wait -n "${WATCH[@]}" ${NGINX_PID:+"$NGINX_PID"} || status=$?
echo "a container or nginx ended on its own (exit status $status); stopping the others" >&2
exit 1
