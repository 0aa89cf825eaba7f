#!/usr/bin/env bash
# Build the app's image (the repository's Dockerfile) without Docker and without Docker Hub: with podman,
# on a Debian machine that reaches only Debian's mirror and PyPI.
#
#   sudo apt-get install -y podman runc debootstrap      # once
#   sudo deploy/build_offline.sh [TAG]                    # default tag: localhost/lstm-gate-lab:latest
#   sudo deploy/run_containers.sh 1                       # then run it (2 and more: behind nginx)
#
# With Docker and Docker Hub, `docker build -t lstm-gate-lab .` is all you need; this script replaces
# the two things that build pulls from elsewhere:
# - the base image (python:3.11-slim, Docker Hub): a Debian bookworm made here with debootstrap from
#   Debian's mirror, with python3.11 and its venv module, imported into podman as BASE_TAG (made once,
#   reused while it exists). The CA certificates this machine adds in /usr/local/share/ca-certificates
#   go into it too, so pip in the build trusts the same TLS proxy the host's pip does.
# - PyTorch's CPU index (download.pytorch.org): the CPU wheel of the torch version requirements.txt pins,
#   and its dependencies, fetched by this machine's pip (which must find a +cpu build: a local wheel
#   folder or an index in its configuration) into a PEP 503 folder served on loopback for the build.
# Everything else comes from PyPI, as in a normal build.
#
# Root is needed for debootstrap (and podman runs rootful here). Environment: PYTHON (the host's python3
# with pip; default: python3), MIRROR (default http://deb.debian.org/debian), BASE_TAG (default
# localhost/lstmlab-base:bookworm; `podman rmi` it to make it again), REBUILD_BASE=1 (make it again anyway).
set -euo pipefail

TAG=${1:-localhost/lstm-gate-lab:latest}
PYTHON=${PYTHON:-python3}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
BASE_TAG=${BASE_TAG:-localhost/lstmlab-base:bookworm}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=deploy/podman_opts.sh
source "$ROOT/deploy/podman_opts.sh"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/lstmlab-build.XXXXXX")
SERVER_PID=""

# shellcheck disable=SC2317,SC2329  # called by the EXIT trap
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then kill -TERM "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

for tool in podman debootstrap; do
  command -v "$tool" >/dev/null || { echo "$tool not found (Debian: apt-get install -y podman runc debootstrap)" >&2; exit 2; }
done
[[ $(id -u) == 0 ]] || { echo "run as root: debootstrap needs it (and the image is built by root's podman)" >&2; exit 2; }

# -- the base image ------------------------------------------------------------------------------------
if [[ "${REBUILD_BASE:-0}" == 1 ]] || ! podman image exists "$BASE_TAG"; then
  echo "== base image $BASE_TAG: debootstrap bookworm from $MIRROR (a few minutes)"
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    bookworm "$WORK/rootfs" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
    || { tail -20 "$WORK/debootstrap.log" >&2; exit 1; }
  if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$WORK/rootfs/usr/local/share/ca-certificates/"
    chroot "$WORK/rootfs" update-ca-certificates >/dev/null
  fi
  rm -rf "$WORK"/rootfs/var/cache/apt/archives/*.deb "$WORK"/rootfs/var/lib/apt/lists/*
  tar -C "$WORK/rootfs" --numeric-owner -c . \
    | podman import --change 'ENV LANG=C.UTF-8' --change 'CMD ["python3"]' - "$BASE_TAG" >/dev/null
  rm -rf "$WORK/rootfs"
else
  echo "== base image $BASE_TAG: already made (REBUILD_BASE=1 to make it again)"
fi

# -- torch's CPU wheel, served as a package index --------------------------------------------------------
pin=$(grep -E '^torch==' "$ROOT/requirements.txt")
platform=(--only-binary=:all: --python-version 3.11 --platform "manylinux_2_28_$(uname -m)")
echo "== $pin (CPU build) and its dependencies, by this machine's pip"
# torch alone first: if pip finds only PyPI's build, stop before its dependencies (several GB of CUDA).
"$PYTHON" -m pip download -q --no-deps "${platform[@]}" -d "$WORK/wheels" "$pin"
wheel=$(compgen -G "$WORK/wheels/torch-*.whl" | head -1)
if [[ "$(basename "$wheel")" != *+cpu-* ]]; then
  echo "pip found $(basename "$wheel"), not a CPU build: give it one, e.g." >&2
  echo "  PIP_FIND_LINKS=/folder/with/torch-...+cpu-...whl, or PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu" >&2
  exit 1
fi
"$PYTHON" -m pip download -q "${platform[@]}" -d "$WORK/wheels" "$wheel"
# PEP 503: one folder per normalised project name; http.server's directory listing is the index page.
for f in "$WORK"/wheels/*.whl; do
  name=$(basename "$f"); name=${name%%-*}
  name=$(echo "$name" | tr '[:upper:]' '[:lower:]' | sed -E 's/[-_.]+/-/g')
  mkdir -p "$WORK/index/simple/$name"
  mv "$f" "$WORK/index/simple/$name/"
done
port=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$PYTHON" -m http.server "$port" --bind 127.0.0.1 --directory "$WORK/index" >"$WORK/index.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do
  "$PYTHON" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/simple/torch/', timeout=1)" \
    2>/dev/null && break
  sleep 0.1
done

# -- the image -----------------------------------------------------------------------------------------
# --format docker keeps the HEALTHCHECK (the OCI format has no field for it); --network host lets the
# build reach the index on loopback.
echo "== podman build -t $TAG (torch from the folder above, the rest from PyPI)"
podman "${PODMAN_OPTS[@]}" build "${PODMAN_LIMITS[@]}" --format docker --network host \
  --build-arg BASE_IMAGE="$BASE_TAG" --build-arg TORCH_INDEX_URL="http://127.0.0.1:$port/simple" \
  -t "$TAG" "$ROOT"
echo "== built $TAG; run it with: deploy/run_containers.sh 1   (IMAGE=$TAG if you chose another tag)"
