"""The Train page's speed: its epochs against the command line's, and Explore's steps while someone trains.

    python benchmarks/train_page.py                          # --rounds 3 --budget 20 --clicks 20
    python benchmarks/train_page.py --rounds 1 --budget 10 --clicks 10 --no-epochs   # a quick look at stepping

1. Epochs in the same time. The same training (delayed recall, delay 50, an LSTM of 32 units, chrono, seed 0,
   epochs and patience unlimited, --budget seconds) three ways, in turn (the order rotates each round),
   --rounds times: from the command line (`python -m lstm_core train ... --json`, with OMP_NUM_THREADS=1 as
   the page's workers have one thread each); from the Train page in Chromium (one model; the epochs are read
   from its results table; the page stays open and redraws its charts twice a second, on this machine); and
   as a job of app/training_jobs.py's pool run from this script (the page's process, without the server
   and the browser). Goal (issue 13): the page's epochs within 20% of the command line's. Printed per
   round, then each way's ratio to the CLI: median and worst.
2. Explore while someone trains. Chromium session A steps through Explore (T = 1,000, H = 64: step_latency.py's
   page) with real clicks on Forward, each timed from pointerdown to the new step on screen (step_latency.py's
   probe); session B, another browser context (another Streamlit session), trains one model on the Train page
   and keeps its page open, so its fragment polls twice a second as a person's would. Each round: A's clicks
   with nothing training, then while B trains, then with nothing training again. Goal: the median step while
   B trains within 1.5x the idle median (both idle blocks) of the same round. Printed per round, then the
   median ratio and the worst.

   --trainer-nice 19 runs B's pages in a Chromium of their own at the lowest CPU priority: B's page still
   polls the server as a person's would, but its drawing takes only CPU time nobody else wants, as it would on
   the person's own machine; what is left is the server's part. --close-trainer closes B's page once its
   model trains (the server's heartbeat set to an hour): the training process alone.

Everything runs on this machine: the server, the training process, both Chromium pages (B redraws its charts
twice a second) and this script, so the ratios are upper bounds of what a student on another machine sees.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._browser import ROOT, BenchError, close_page, launch, new_page, streamlit_server, wait_idle  # noqa: E402
from benchmarks.step_latency import (  # noqa: E402
    EXPLORE_COMPLETE,
    EXPLORE_SHOWS_STEP,
    T1000,
    navigate_complete,
    one_click,
)
from tests.browser.harness import CHROMIUM, FLAGS  # noqa: E402

TASK = ["--task", "copy", "--param", "delay=50", "--model", "lstm", "--hidden", "32", "--forget-bias", "chrono",
        "--seed", "0", "--max-epochs", "10000", "--patience", "10000"]


def log(msg: str) -> None:
    print(msg, flush=True)


def cli_epochs(budget: float) -> int:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-m", "lstm_core", "train", *TASK, "--max-seconds", str(budget), "--json"],
                          cwd=ROOT, capture_output=True, text=True, env=env, timeout=budget * 5 + 120)
    if proc.returncode != 0:
        raise BenchError(f"the command line failed: {proc.stderr.strip()[-500:]}")
    return int(json.loads(proc.stdout.strip().splitlines()[-1])["epochs"])


def sidebar_number(page, label: str, value: int) -> None:
    box = page.locator("[data-testid=stSidebar]").get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Enter")
    page.wait_for_function("([l, v]) => [...document.querySelectorAll('[data-testid=stSidebar] input')]"
                           ".some((e) => e.getAttribute('aria-label') === l && e.value === v)", arg=[label, str(value)])


def choose(page, select, option: str, attempts: int = 3) -> None:
    """Pick `option` in a selectbox (its list may close if a rerun redraws the box while it opens: try again)."""
    for attempt in range(attempts):
        select.click()
        try:
            page.get_by_role("option", name=option, exact=True).click(timeout=5000)
            return
        except Exception:  # noqa: BLE001 - playwright's TimeoutError: the list was not open
            if attempt == attempts - 1:
                raise


def train_page(page, url: str, budget: int, epochs: int = 10_000) -> None:
    """Open the Train page with one model (the LSTM of the defaults: copy, delay 50, chrono) and the budget."""
    page.goto(url + "/train", wait_until="commit")
    page.get_by_text("What must be remembered").wait_for(timeout=120_000)
    sidebar = page.locator("[data-testid=stSidebar]")
    for n in (2, 3):
        choose(page, sidebar.get_by_label(f"Model {n}", exact=True), "no model")
        page.get_by_role("button", name=re.compile(rf"Train {4 - n} model")).wait_for()
    sidebar_number(page, "Time budget in seconds", budget)
    sidebar_number(page, "At most epochs", epochs)
    sidebar_number(page, "Early stopping patience", 10_000)


def pool_epochs(pool, budget: int) -> int:
    from lstm_core import TrainConfig

    cfg = TrainConfig.for_task("copy", task_params={"delay": 50}, model="lstm", hidden_size=32, forget_bias="chrono",
                               seed=0, max_epochs=10_000, patience=10_000, max_seconds=float(budget))
    pool.submit("benchmark", [("LSTM", dataclasses.asdict(cfg))])
    end = time.monotonic() + budget + 120
    while pool.views("benchmark")[0].active:
        if time.monotonic() > end:
            raise BenchError("the pool's job did not end")
        pool.touch("benchmark")
        time.sleep(0.1)
    job = pool.views("benchmark")[0]
    if job.result is None:
        raise BenchError(f"the pool's job failed: {job.error}")
    return int(job.result["metrics"]["epochs"])


def page_epochs(browser, url: str, budget: int) -> int:
    page = new_page(browser, (1280, 900))
    try:
        train_page(page, url, budget)
        page.get_by_role("button", name=re.compile(r"Train 1 model")).click()
        table = page.locator("[data-testid=stTable]")
        table.get_by_text("epochs", exact=True).wait_for(timeout=(budget + 120) * 1000)
        row = table.locator("tr", has=page.get_by_text("epochs", exact=True))
        return int(row.locator("td").last.inner_text().strip())
    finally:
        close_page(page)


def launch_niced(pw, nice: int, folder: str):
    """Debian's Chromium behind `nice -n N` (its processes inherit the niceness), with the tests' flags."""
    wrapper = Path(folder) / "chromium"
    wrapper.write_text(f'#!/bin/sh\nexec nice -n {int(nice)} {CHROMIUM} "$@"\n')
    wrapper.chmod(0o755)
    return pw.chromium.launch(executable_path=str(wrapper), args=FLAGS)


def clicks(page, n: int, k0: int, quiet_ms: int) -> list[float]:
    return [one_click(page, EXPLORE_SHOWS_STEP, k0 + j + 1, quiet_ms)["latency"] for j in range(n)]


def stepping_round(browser, trainer_browser, url: str, args, r: int) -> dict:
    a = new_page(browser, (1280, 720))
    b = new_page(trainer_browser, (1280, 900))
    try:
        navigate_complete(a, url + T1000, EXPLORE_COMPLETE, 120)
        wait_idle(a, args.quiet_ms, 60)
        clicks(a, 3, 0, args.quiet_ms)  # warm
        k = 3
        idle1 = clicks(a, args.clicks, k, args.quiet_ms)
        k += args.clicks
        train_page(b, url, budget=600)
        b.get_by_role("button", name=re.compile(r"Train 1 model")).click()
        b.get_by_text(re.compile(r"^epoch [1-9]\d* of at most")).wait_for(timeout=120_000)  # it trains
        if args.close_trainer:  # the training goes on (the server's heartbeat is long), nothing polls
            b.close()
        busy = clicks(a, args.clicks, k, args.quiet_ms)
        k += args.clicks
        if args.close_trainer:
            still = True
            b = new_page(trainer_browser, (1280, 900))  # a new session; the old one's job runs out its budget
        else:
            still = b.get_by_text(re.compile(r"^epoch \d+ of at most")).count() > 0
            b.get_by_role("button", name=re.compile(r"■ Stop")).click()
            b.locator("[data-testid=stTable]").wait_for(timeout=120_000)
        idle2 = [] if args.close_trainer else clicks(a, args.clicks, k, args.quiet_ms)
    finally:
        close_page(a)
        close_page(b)
    idle = statistics.median(idle1 + idle2)
    res = {"idle": idle, "busy": statistics.median(busy), "ratio": statistics.median(busy) / idle,
           "idle1": statistics.median(idle1), "idle2": statistics.median(idle2 or idle1), "busy_worst": max(busy),
           "still_training": still}
    log(f"[round {r}] Explore step median: idle {res['idle1']:.0f} ms, while B trains {res['busy']:.0f} ms (worst "
        f"{res['busy_worst']:.0f}), idle again {res['idle2']:.0f} ms -> {res['ratio']:.2f}x"
        + ("" if still else "  (warning: B's training had ended before the last click)"))
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=__doc__.split("\n", 2)[2],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--budget", type=int, default=20, help="seconds of training for the epoch comparison")
    ap.add_argument("--clicks", type=int, default=20, help="clicks per block (idle, training, idle)")
    ap.add_argument("--quiet-ms", type=int, default=800, help="the app has run nothing this long before a click")
    ap.add_argument("--epochs", action=argparse.BooleanOptionalAction, default=True, help="part 1")
    ap.add_argument("--stepping", action=argparse.BooleanOptionalAction, default=True, help="part 2")
    ap.add_argument("--close-trainer", action="store_true",
                    help="part 2 with B's page closed once its model trains (the server's heartbeat set to an hour): "
                         "the training process alone, without B's polling and drawing")
    ap.add_argument("--nice", type=int, default=None, help="LSTMLAB_TRAIN_NICE for the server's training processes")
    ap.add_argument("--trainer-nice", type=int, default=None,
                    help="run B's browser in a Chromium of its own at this niceness (19: it takes only CPU time nobody "
                         "else wants, as a browser on another machine would), so what B costs is the server's part")
    args = ap.parse_args()
    if args.close_trainer:
        os.environ["LSTMLAB_TRAIN_HEARTBEAT_S"] = "3600"
    if args.nice is not None:
        os.environ["LSTMLAB_TRAIN_NICE"] = str(args.nice)
    from playwright.sync_api import sync_playwright

    epochs, steps = [], []
    t0 = time.perf_counter()
    pool = None
    if args.epochs:
        from app.training_jobs import Pool

        pool = Pool(workers=1)
    try:
        with sync_playwright() as pw, streamlit_server("Train page", ROOT) as server, \
            tempfile.TemporaryDirectory(prefix="trainer-browser-") as wrapper_dir:
            browser = launch(pw)
            trainer_browser = browser if args.trainer_nice is None else launch_niced(pw, args.trainer_nice, wrapper_dir)
            try:
                warm = new_page(browser)
                train_page(warm, server.url, 5)  # the pool's forkserver starts with the first Train page
                close_page(warm)
                for r in range(args.rounds):
                    if args.epochs:
                        ways = {"cli": lambda: cli_epochs(args.budget),
                                "page": lambda: page_epochs(browser, server.url, args.budget),
                                "pool": lambda: pool_epochs(pool, args.budget)}
                        order = list(ways)[r % 3:] + list(ways)[: r % 3]
                        got = {who: ways[who]() for who in order}
                        epochs.append(got)
                        log(f"[round {r}] epochs in {args.budget} s ({' -> '.join(order)}): CLI {got['cli']}, page "
                            f"{got['page']} ({got['page'] / got['cli']:.2f}x), pool job {got['pool']} "
                            f"({got['pool'] / got['cli']:.2f}x); load average {os.getloadavg()[0]:.1f}")
                    if args.stepping:
                        steps.append(stepping_round(browser, trainer_browser, server.url, args, r))
            finally:
                browser.close()
                if trainer_browser is not browser:
                    trainer_browser.close()
    except BenchError as e:
        print(f"\ntrain_page: FAILED: {e}", file=sys.stderr)
        return 2
    finally:
        if pool is not None:
            pool.close()
    print()
    if epochs:
        for way in ("page", "pool"):
            ratios = [e[way] / e["cli"] for e in epochs]
            worst = max(ratios, key=lambda x: abs(x - 1))
            print(f"epochs {way}/CLI in {args.budget} s over {len(ratios)} round(s): median "
                  f"{statistics.median(ratios):.2f}x, worst {worst:.2f}x (CLI {[e['cli'] for e in epochs]}, {way} "
                  f"{[e[way] for e in epochs]}); within 20% at the median: "
                  f"{'yes' if abs(statistics.median(ratios) - 1) <= 0.2 else 'NO'}")
    if steps:
        ratios = [s["ratio"] for s in steps]
        idle = ", ".join(f"{s['idle']:.0f}" for s in steps)
        busy = ", ".join(f"{s['busy']:.0f}" for s in steps)
        print(f"Explore step while another session trains / idle over {len(ratios)} round(s): median "
              f"{statistics.median(ratios):.2f}x, worst {max(ratios):.2f}x (idle medians {idle} ms; while training "
              f"{busy} ms); goal <= 1.5x: {'yes' if max(ratios) <= 1.5 else 'NO'}")
    print(f"(total {time.perf_counter() - t0:.0f} s; load average now {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
