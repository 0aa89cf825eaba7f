"""Explore page speed in a real browser (Debian's Chromium driven by Playwright).

    python benchmarks/step_latency.py [--clicks 40]

Measures, on this machine:
- step latency: from a click on "Forward" until the page shows the new step's numbers and diagrams
  (and one animation frame has passed), with a T = 1,000, H = 64 trace. Goal: median <= 150 ms.
- a T = 100,000 trace: from navigation until the page is complete. Goal: < 3 s, and steps still respond.
- cold start: from `streamlit run` until the first complete Explore page. Goal: <= 5 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser.harness import STEP_PROBE, app_server, launch, wait_for_explore  # noqa: E402

T1000 = "/?model_source=random&hidden=64&task=sine&example_length=1000"
T100K = "/?model_source=random&hidden=64&task=sine&example_length=100000"


def step_times(page, clicks: int) -> list[float]:
    times = []
    for k in range(1, clicks + 1):
        times.append(page.evaluate(STEP_PROBE, ["Forward ▶", k]))
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clicks", type=int, default=40)
    args = ap.parse_args()
    with sync_playwright() as pw:
        browser = launch(pw)
        t0 = time.perf_counter()
        with app_server() as (url, healthy):
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            page.goto(url + "/")
            wait_for_explore(page)
            cold = time.perf_counter() - t0
            print(f"cold start: server healthy after {healthy:.2f} s, first complete Explore page after "
                  f"{cold:.2f} s (goal <= 5 s)")

            page.goto(url + T1000)
            wait_for_explore(page)
            times = step_times(page, args.clicks)
            q = statistics.quantiles(times, n=10)
            print(f"step latency, T=1,000, H=64, {len(times)} clicks: median {statistics.median(times):.0f} ms, "
                  f"p10 {q[0]:.0f} ms, p90 {q[-1]:.0f} ms (goal: median <= 150 ms)")

            t1 = time.perf_counter()
            page.goto(url + T100K)
            wait_for_explore(page, timeout_ms=120_000)
            big = time.perf_counter() - t1
            times = step_times(page, 10)
            print(f"T=100,000, H=64: complete page after {big:.2f} s (goal < 3 s); then step latency median "
                  f"{statistics.median(times):.0f} ms over 10 clicks")
        browser.close()


if __name__ == "__main__":
    main()
