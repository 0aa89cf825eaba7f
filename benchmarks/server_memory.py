"""Server memory with long uploads: what one 100,000-step upload, its export and ten such sessions cost.

    python benchmarks/server_memory.py [--sessions 10] [--steps 100000] [--features 8]

Starts the app (`streamlit run`, as harness.app_server does), then in Debian's Chromium opens sessions
one after another, each uploading its own 100,000-step CSV (different values, so nothing is shared by
the trace cache) and shown with a random LSTM of 64 units. It prints the server's resident memory
(VmRSS from /proc) after start, after each session's page is complete, and after one session downloads
the NPZ export of its trace. The app bounds what it keeps: traces and payloads live in the shared
byte-bounded cache (app/cache.py, LSTMLAB_CACHE_MB), sessions keep only their parsed upload.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser.harness import app_server, launch, wait_for_explore  # noqa: E402


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def write_csv(path: Path, steps: int, features: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = np.cumsum(rng.standard_normal((steps, features)), axis=0).astype(np.float32) / 30
    header = ",".join(f"f{k}" for k in range(features))
    np.savetxt(path, values, delimiter=",", fmt="%.4f", header=header, comments="")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--steps", type=int, default=100_000)
    ap.add_argument("--features", type=int, default=8)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    files = []
    for k in range(args.sessions):
        files.append(tmp / f"long_{k}.csv")
        write_csv(files[-1], args.steps, args.features, k)
    print(f"{args.sessions} files of {args.steps:,} steps × {args.features} features, "
          f"{files[0].stat().st_size / 2**20:.1f} MB each")
    with sync_playwright() as pw, app_server() as (url, _):
        browser = launch(pw)
        pid = app_server.last_pid
        print(f"server started: {rss_mb(pid):.0f} MB")
        pages = []
        for k, f in enumerate(files):
            page = browser.new_page(viewport={"width": 1280, "height": 720}, accept_downloads=True)
            page.goto(url + "/?model_source=random&hidden=64&sequence_source=upload")  # a random LSTM, 64 units
            wait_for_explore(page)
            t0 = time.perf_counter()
            page.locator("[data-testid=stFileUploaderDropzoneInput]").first.set_input_files(str(f))
            page.get_by_text(f"your file {f.name}").first.wait_for(timeout=120_000)
            wait_for_explore(page, timeout_ms=120_000)
            page.locator(f".lstmlab-trace[data-steps='{args.steps}']").wait_for(timeout=120_000)
            print(f"session {k + 1}: upload shown after {time.perf_counter() - t0:.1f} s; server {rss_mb(pid):.0f} MB")
            if k == 0:
                page.get_by_text("Download: traces, input, models, figures").click()
                t0 = time.perf_counter()
                with page.expect_download(timeout=300_000) as info:
                    page.get_by_role("button", name="LSTM trace (NPZ)", exact=True).click()
                size = Path(info.value.path()).stat().st_size
                print(f"session 1: NPZ export of {size / 2**20:.1f} MB ({info.value.suggested_filename}) after "
                      f"{time.perf_counter() - t0:.1f} s; server {rss_mb(pid):.0f} MB")
            pages.append(page)
        print(f"{len(pages)} sessions open: server {rss_mb(pid):.0f} MB")
        browser.close()


if __name__ == "__main__":
    main()
