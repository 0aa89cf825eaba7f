"""Run the real app and drive Debian's Chromium with Playwright: shared by browser tests and benchmarks."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-quic"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc: subprocess.Popen) -> None:
    """End a server: politely, then for sure."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def wait_healthy(proc: subprocess.Popen, url: str, t0: float, timeout: float, poll: float = 0.02) -> str | None:
    """Poll Streamlit's health endpoint (a real condition, bounded in time); None once it answers, else
    what went wrong ("exited with code N" or "was not healthy after N s")."""
    while True:
        if proc.poll() is not None:
            return f"exited with code {proc.returncode} before it was healthy"
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
                if r.status == 200:
                    return None
        except OSError:
            pass
        if time.perf_counter() - t0 > timeout:
            return f"was not healthy after {timeout:.0f} s"
        time.sleep(poll)


@contextlib.contextmanager
def app_server(timeout: float = 60.0, env: dict | None = None):
    """`streamlit run app/streamlit_app.py` on a free loopback port; yields (url, seconds until healthy).
    `env` adds environment variables (e.g. LSTMLAB_SLOW_STEP_MS); the server's pid is app_server.last_pid."""
    port = free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app" / "streamlit_app.py"), "--server.port",
           str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
           "--browser.gatherUsageStats", "false"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})
    app_server.last_pid = proc.pid
    url = f"http://127.0.0.1:{port}"
    try:
        problem = wait_healthy(proc, url, t0, timeout)
        if problem:
            raise RuntimeError(f"streamlit {problem}: {proc.stdout.read().decode(errors='replace')[-2000:]}"
                               if proc.poll() is not None else f"streamlit {problem}")
        yield url, time.perf_counter() - t0
    finally:
        stop(proc)


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)


def wait_for_explore(page, timeout_ms: int = 60_000) -> None:
    """The Explore page is complete: the trace view has drawn and the numbers are on screen."""
    page.wait_for_selector(".lstmlab-trace[data-ready='1']", timeout=timeout_ms)
    page.wait_for_selector("svg title", state="attached", timeout=timeout_ms)


def wait_for_lesson(page, heatmaps: bool = True, timeout_ms: int = 60_000) -> None:
    """A lesson stop is complete: its question is on screen and, if the stop has heatmaps, they are drawn."""
    page.wait_for_selector(".st-key-lesson_question [data-testid='stRadio']", timeout=timeout_ms)
    if heatmaps:
        page.wait_for_selector(".lstmlab-trace[data-ready='1']", timeout=timeout_ms)
