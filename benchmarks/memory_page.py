"""Memory page: every view ready, against the floor app's cold start in the same run (Debian's Chromium).

    python benchmarks/memory_page.py                    # 3 runs, T = 1,000 (shipped sine models)
    python benchmarks/memory_page.py --runs 1 --path '/memory?task=copy'

Issue 14's goal: every view of the Memory page for T = 1,000 ready within 2x the floor app's cold start
(../shared/bench/floor_app: `streamlit run` -> its first complete page) after the page opens. Each run
starts both servers anew (so every cache is cold) and measures:

1. the floor app's cold start (launch -> "t = 0" on screen), as step_latency.py does;
2. the Memory page opened as a first visit on its fresh server: navigation -> the moment its last view was
   drawn (every Vega-Lite chart on the page has its SVG or canvas, every trace view has drawn, and the app has
   been idle for --quiet-ms: the time reported is when the last of them appeared, not the end of the quiet);
3. the same from the server's launch (a cold start of the Memory page).

Ratios: (2) / floor cold start (the goal) and (3) / floor cold start, per run; medians and the worst run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._browser import (  # noqa: E402
    ROOT,
    BenchError,
    close_page,
    floor_dir,
    floor_workdir,
    launch,
    new_page,
    streamlit_server,
    wait_idle,
    wait_shown,
)

FLOOR_SHOWS_STEP = r"""(k, lib) => lib.hasText('t =', k)"""
T1000 = "/memory?task=sine&example_length=1000"

# In the page: remember when the number of drawn views last grew (a view = a Vega-Lite chart with its SVG or
# canvas, or a trace view that says data-ready), looking inside open shadow roots.
WATCH_VIEWS = r"""() => {
  const lib = window.__bench;
  const count = () => {
    lib.refreshRoots();
    const charts = lib.deepAll('[data-testid="stVegaLiteChart"]');
    const drawn = charts.filter((c) => c.querySelector('svg, canvas')).length;
    const traces = lib.deepAll('.lstmlab-trace');
    const ready = traces.filter((t) => t.getAttribute('data-ready') === '1').length;
    return { charts: charts.length, drawn, traces: traces.length, ready };
  };
  window.__views = { last: null, best: 0, now: count() };
  const check = () => {
    const c = count();
    window.__views.now = c;
    const n = c.drawn + c.ready;
    if (n > window.__views.best) { window.__views.best = n; window.__views.last = performance.now(); }
  };
  new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true });
  setInterval(check, 50);
  check();
}"""


def log(msg: str) -> None:
    print(msg, flush=True)


def memory_ready(page, quiet_ms: int, timeout_s: float) -> tuple[float, dict]:
    """Seconds from navigation start until the last view was drawn, and the final counts; after the app has
    been idle for quiet_ms and every chart and trace view on the page has drawn."""
    deadline = time.perf_counter() + timeout_s
    while True:
        wait_idle(page, quiet_ms, timeout_s)
        v = page.evaluate("() => window.__views")
        now = v["now"]
        if now["charts"] and now["drawn"] == now["charts"] and now["ready"] == now["traces"] and v["last"]:
            return v["last"] / 1000, now
        if time.perf_counter() > deadline:
            raise BenchError(f"the Memory page's views were not all drawn within {timeout_s:.0f} s: {now}")
        page.wait_for_timeout(200)  # a chart still drawing after the app went idle: look again


def run_once(browser, args, r: int, floor_tmp: Path) -> dict:
    res = {}
    order = ["floor", "memory"] if r % 2 == 0 else ["memory", "floor"]
    for name in order:
        wd = floor_tmp if name == "floor" else ROOT
        with streamlit_server(name, wd, timeout=args.server_timeout) as server:
            page = new_page(browser, args.viewport)
            try:
                if name == "floor":
                    page.goto(server.url + "/", wait_until="commit")
                    wait_shown(page, FLOOR_SHOWS_STEP, 0, args.server_timeout, "floor cold start")
                    res["floor_s"] = time.perf_counter() - server.t_launch
                    log(f"[run {r}] floor app cold start: {res['floor_s']:.2f} s")
                else:
                    t_nav = time.perf_counter()
                    page.goto(server.url + args.path, wait_until="commit")
                    page.evaluate(WATCH_VIEWS)
                    ready_s, counts = memory_ready(page, args.quiet_ms, args.server_timeout)
                    # performance.now() counts from the navigation's start, which goto began at t_nav
                    res["memory_s"] = ready_s
                    res["memory_cold_s"] = (t_nav - server.t_launch) + ready_s
                    log(f"[run {r}] Memory page {args.path}: every view drawn {ready_s:.2f} s after navigation "
                        f"({counts['drawn']} charts, {counts['ready']} trace views); {res['memory_cold_s']:.2f} s "
                        f"after the server's launch")
            finally:
                close_page(page)
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=__doc__.split("\n", 2)[2],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--path", default=T1000, help=f"the Memory page's address (default {T1000})")
    ap.add_argument("--quiet-ms", type=int, default=1500, help="idle this long = done (default 1500 ms)")
    ap.add_argument("--server-timeout", type=float, default=180.0)
    ap.add_argument("--viewport", type=lambda s: tuple(int(v) for v in s.split("x")), default=(1280, 720))
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    runs = []
    try:
        log(f"Memory page {args.path} vs the floor app ({floor_dir(ROOT)}), {args.runs} run(s), "
            f"viewport {args.viewport[0]}x{args.viewport[1]}")
        with tempfile.TemporaryDirectory(prefix="floor-") as tmp, sync_playwright() as pw:
            floor_tmp = floor_workdir(Path(tmp))
            browser = launch(pw)
            for r in range(args.runs):
                load = Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"
                res = run_once(browser, args, r, floor_tmp)
                res["load"] = load
                runs.append(res)
            browser.close()
    except BenchError as e:
        print(f"memory_page.py: {e}", file=sys.stderr)
        return 1
    for key, what in (("memory_s", "navigation -> every view drawn"), ("memory_cold_s", "launch -> every view drawn")):
        ratios = [x[key] / x["floor_s"] for x in runs]
        log(f"{what}: {statistics.median(x[key] for x in runs):.2f} s (runs {', '.join(f'{x[key]:.2f}' for x in runs)})"
            f" / floor cold start {statistics.median(x['floor_s'] for x in runs):.2f} s = median "
            f"{statistics.median(ratios):.2f}x, worst {max(ratios):.2f}x  (goal for the first: <= 2x)")
    log(f"load average at each run's start: {', '.join(x['load'] for x in runs)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
