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
        while True:  # poll the health endpoint: a real condition, bounded in time
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited: {proc.stdout.read().decode(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.perf_counter() - t0 > timeout:
                raise TimeoutError("streamlit did not become healthy")
            time.sleep(0.05)
        yield url, time.perf_counter() - t0
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)


# In-page probe: click a button (found by its text) and resolve when the Python-rendered diagram shows
# step `expected` (the numbers and diagrams are drawn), then on the next animation frame (painted).
STEP_PROBE = """
async ([label, expected]) => {
  const button = Array.from(document.querySelectorAll('button')).find(b => b.innerText.trim() === label);
  const shows = () => Array.from(document.querySelectorAll('svg title'))
      .some(t => t.textContent.endsWith(`at step t = ${expected}`));
  const t0 = performance.now();
  const done = new Promise((resolve) => {
    const obs = new MutationObserver(() => {
      if (shows()) { obs.disconnect(); requestAnimationFrame(() => resolve(performance.now() - t0)); }
    });
    obs.observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  const limit = new Promise((_, reject) => setTimeout(() => reject(new Error(`step ${expected} not shown`)), 15000));
  button.click();
  return await Promise.race([done, limit]);
}
"""


def wait_for_explore(page, timeout_ms: int = 60_000) -> None:
    """The Explore page is complete: the trace view has drawn and the numbers are on screen."""
    page.wait_for_selector(".lstmlab-trace[data-ready='1']", timeout=timeout_ms)
    page.wait_for_selector("svg title", state="attached", timeout=timeout_ms)
