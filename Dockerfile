# LSTM Gate Lab: the Streamlit app, CPU only.
#
#   docker build -t lstm-gate-lab .
#   docker run --rm -p 8501:8501 lstm-gate-lab            # then open http://localhost:8501
#   docker run --rm -p 8501:8501 -e LSTMLAB_CACHE_MB=512 lstm-gate-lab   # smaller shared caches
#
# One container is one Streamlit process (one Python interpreter: about one core's worth of work). For
# more, run several containers behind a proxy with session affinity: deploy/run_replicas.sh shows the
# nginx configuration.
#
# BASE_IMAGE: any image with Python 3.11 and its venv module at `python3`; the default is Docker Hub's.
# deploy/build_offline.sh passes a Debian bookworm made locally, for machines without Docker Hub.
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# The app's packages go into a virtual environment, never into the base image's Python (a Debian
# python3 refuses pip installs there, PEP 668); `python` and `pip` below are the environment's.
RUN python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

# torch first, from PyTorch's CPU-only index: PyPI's Linux wheel of the same version pulls several GB of
# CUDA libraries. Then the rest from PyPI; the installed 2.13.0+cpu satisfies requirements.txt's
# torch==2.13.0 (a local version label is ignored when the pin has none), so it is not fetched again.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
COPY requirements.txt ./
RUN pip install --index-url "$TORCH_INDEX_URL" "$(grep -E '^torch==' requirements.txt)" \
 && pip install -r requirements.txt \
 && python -c "import torch; assert not torch.version.cuda, torch.version.cuda"

# The app runs as an unprivileged user; its code stays owned by root (read-only to it).
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin lab
COPY . .

# Streamlit's settings for a shared server (environment variables override .streamlit/config.toml):
# uploads up to 50 MB (the app's own limit, 20 MB, is checked again before parsing), no file watcher
# (it would walk every imported module's path for each new session), no usage statistics.
ENV STREAMLIT_SERVER_PORT=8501 \
    STREAMLIT_SERVER_ADDRESS=0.0.0.0 \
    STREAMLIT_SERVER_HEADLESS=true \
    STREAMLIT_SERVER_MAX_UPLOAD_SIZE=50 \
    STREAMLIT_SERVER_FILE_WATCHER_TYPE=none \
    STREAMLIT_SERVER_RUN_ON_SAVE=false \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false \
    NUMBA_CACHE_DIR=/home/lab/.cache/numba \
    LSTMLAB_CACHE_MB=1024

USER lab
# Compile the trace loops now (numba's disk cache, in the user's home), so the first class does not wait.
RUN python -c "from lstm_core import kernels; [kernels.warm(k) for k in ('lstm', 'gru', 'rnn')]"

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).status != 200)"]
CMD ["python", "-m", "streamlit", "run", "app/streamlit_app.py"]
