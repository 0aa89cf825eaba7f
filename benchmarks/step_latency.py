"""Explore page speed in a real browser, against the floor app in the same run (Debian's Chromium + Playwright).

    python benchmarks/step_latency.py                 # --runs 3 --clicks 30, everything
    python benchmarks/step_latency.py --runs 1 --clicks 10 --no-fresh --no-breakdown   # a quick look

The floor app (../shared/bench/floor_app beside the repository, see its README.md) is the least a
Streamlit page can do per step: a fragment with a "Forward ▶" button, "The step in numbers: t = N" and one
st.latex. It runs from a temporary folder with the project's .streamlit/config.toml, beside the Explore
page, in the same process and browser, so page/floor ratios carry from one machine to the next where
milliseconds do not. Each run starts both servers anew and measures:

1. step latency: a real mouse click (page.mouse.click at the centre of "Forward ▶") until the new step is
   on screen (see EXPLORE_SHOWS_STEP / FLOOR_SHOWS_STEP below) plus one animation frame, timed in the page
   from the button's pointerdown. Explore at T = 1,000, H = 64. Clicks alternate page / floor; each
   click waits until the app has finished the previous step's run (latency, not throughput).
2. cold start: from launching `streamlit run` to a complete page in Chromium (a new browser context).
3. first start after a fresh install (--fresh): cold start with numba's on-disk cache for lstm_core
   deleted first, against the floor's cold start.
4. T = 100,000: navigation until the page is complete (goal < 3 s), then the median of real-click steps.
5. play speed: the sidebar's "Playback speed" and the "Play" toggle driven like a user; steps shown per
   second of wall time, read from the trace view's data-step attribute.
6. (--breakdown, last run) a DevTools trace of a few clicks on each app: the renderer main thread's time
   inside the click -> shown window, as scripting / rendering (style, layout) / painting / other.

Goals (README): step median <= 150 ms; cold start <= 5 s; T = 100,000 complete < 3 s.
"""

from __future__ import annotations

import argparse
import math
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._browser import (  # noqa: E402
    ROOT,
    TRACE_CATEGORIES,
    BenchError,
    click_step,
    close_page,
    floor_dir,
    floor_workdir,
    js_profile_click,
    launch,
    main_thread_breakdown,
    med,
    new_page,
    streamlit_server,
    wait_idle,
    wait_shown,
)

# ---------------------------------------------------------------------------------------------------------
# "Step k is on screen": JavaScript functions (k, lib) => bool, run in the page after every batch of DOM
# mutations (and on every animation frame while a page loads). lib.hasText(prefix, k) is true when some
# text reads "<prefix> k" (whitespace-insensitive, k not followed by another digit): markdown containers
# first, then every text node (document and open shadow roots) if no container has the prefix at all.
# lib.deepAll(selector) also looks inside open shadow roots (Streamlit's v2 components live in them).
#
# Explore: the numbers say "The step in numbers: t = k" AND, when the trace view is on the page, its cursor
# (data-step on every ready .lstmlab-trace root) is at k. If the page's markup changes, change these.
EXPLORE_SHOWS_STEP = r"""(k, lib) => {
  if (!lib.hasText('The step in numbers: t =', k)) return false;
  const views = lib.deepAll('.lstmlab-trace[data-ready="1"]');
  return views.every((v) => v.getAttribute('data-step') === String(k));
}"""
# Explore, complete after a load: the trace view has drawn (data-ready) and step k is shown as above.
EXPLORE_COMPLETE = r"""(k, lib) => lib.deepAll('.lstmlab-trace[data-ready="1"]').length > 0
  && (""" + EXPLORE_SHOWS_STEP + r""")(k, lib)"""
# Explore's memory chart (below the first screen, drawn once the first screen has): Vega-Lite has drawn it.
MEMORY_CHART_DRAWN = r"""(k, lib) => lib.deepAll('.st-key-memory_chart [data-testid="stVegaLiteChart"] svg').length
  + lib.deepAll('.st-key-memory_chart [data-testid="stVegaLiteChart"] canvas').length > 0"""
# The floor app: a text reading "t = k".
FLOOR_SHOWS_STEP = r"""(k, lib) => lib.hasText('t =', k)"""

FORWARD = "Forward ▶"
T1000 = "/?model_source=random&hidden=64&task=sine&example_length=1000"
T100K = "/?model_source=random&hidden=64&task=sine&example_length=100000"
COLD_PATH = "/"  # what a visitor gets: the default Explore page
NUMBA_CACHE = ROOT / "lstm_core" / "__pycache__"


def numba_cache_files() -> list[Path]:
    return sorted([*NUMBA_CACHE.glob("*.nbi"), *NUMBA_CACHE.glob("*.nbc")])


def delete_numba_cache() -> int:
    files = numba_cache_files()
    for f in files:
        f.unlink(missing_ok=True)
    return len(files)


def pct(xs, q: float) -> float:
    xs = sorted(x for x in xs if x == x)
    if not xs:
        return float("nan")
    pos = (len(xs) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def log(msg: str) -> None:
    print(msg, flush=True)


# ---------------------------------------------------------------------------------------------------------
# One measurement each


def cold_start(browser, name, workdir, path, done_js, timeout, viewport):
    """Launch `streamlit run` in workdir, open path in a new browser context, wait until step 0 is complete.
    Returns (server context manager, server, page, seconds); the caller closes the server."""
    cm = streamlit_server(name, workdir, timeout=timeout)
    server = cm.__enter__()
    try:
        page = new_page(browser, viewport)
        page.goto(server.url + path, wait_until="commit")
        wait_shown(page, done_js, 0, timeout, f"{name} cold start")
        seconds = time.perf_counter() - server.t_launch
    except BaseException:
        cm.__exit__(*sys.exc_info())
        raise
    return cm, server, page, seconds


def navigate_complete(page, url, done_js, timeout):
    t0 = time.perf_counter()
    page.goto(url, wait_until="commit")
    wait_shown(page, done_js, 0, timeout, url)
    return time.perf_counter() - t0


# Explore shows a step's numbers from the views Python sent ahead (app/stepping.py near_steps); its answer to
# the request comes after. Time that too: pointerdown -> the bridge's data-ack reaches the click's request.
WATCH_ANSWER = r"""() => {
  const bridge = document.querySelector('.lstmlab-bridge');
  const S = window.__lstmlabBridge;
  if (!bridge || !S) return false;
  const seq = S.seq + 1;  // the click's request
  window.__answeredAt = null;
  const obs = new MutationObserver(() => {
    if (Number(bridge.dataset.ack) >= seq) { window.__answeredAt = performance.now(); obs.disconnect(); }
  });
  obs.observe(bridge, { attributes: true, attributeFilter: ['data-ack'] });
  return true;
}"""


def one_click(page, done_js, k, quiet_ms):
    watching = page.evaluate(WATCH_ANSWER)
    r = click_step(page, FORWARD, done_js, k)
    r["settle"] = wait_idle(page, quiet_ms)  # the app's run for this step is over: the next click is not queued
    if watching:
        at = page.evaluate("() => [window.__answeredAt, window.__bench.down]")
        r["answered"] = (at[0] - at[1]) if at[0] is not None else float("nan")
    return r


def step_rounds(pages: dict, clicks: int, warmup: int, quiet_ms: int) -> dict:
    """Alternate real clicks on the pages (order swapped every round). pages: name -> (page, done_js)."""
    out = {name: [] for name in pages}
    k = {name: 0 for name in pages}
    names = list(pages)
    for rnd in range(warmup + clicks):
        for name in (names if rnd % 2 == 0 else names[::-1]):
            page, done_js = pages[name]
            k[name] += 1
            r = one_click(page, done_js, k[name], quiet_ms)
            if rnd >= warmup:
                out[name].append(r)
    return out


def set_speed_and_play(page, speed: int, watch_s: float, quiet_ms: int) -> dict:
    """Choose "<speed> steps per second" in the "Playback speed" select, switch "Play" on, watch the trace
    view's data-step for watch_s seconds of wall time from its first change, switch Play off."""
    combo = page.get_by_role("combobox", name="Playback speed", exact=True)
    if combo.count() == 0:
        combo = page.get_by_label("Playback speed", exact=True)
    if combo.count() == 0:
        raise BenchError('no "Playback speed" select (combobox labelled so) on the Explore page')
    wanted = re.compile(rf"^\s*{speed} steps per second\s*$")
    options = page.get_by_role("option").filter(has_text=wanted)
    combo.first.click()
    for _ in range(3):  # bounded: open the list by the field, else by its "Open" button
        try:
            options.first.wait_for(state="visible", timeout=3000)
            break
        except Exception:
            opener = page.locator('[data-testid="stSelectbox"]').filter(has=combo.first).get_by_role("button")
            (opener.first if opener.count() else combo.first).click()
    options.first.click()
    wait_idle(page, quiet_ms)
    shown = combo.first.input_value() if combo.first.evaluate("e => e.tagName") == "INPUT" else combo.first.inner_text()
    if str(speed) not in shown:
        raise BenchError(f'"Playback speed" shows {shown!r} after choosing {speed} steps per second')
    play = page.get_by_role("button", name="▶ Play", exact=True)
    if play.count() == 0:
        raise BenchError('no "▶ Play" button on the Explore page')
    page.evaluate("() => window.__bench.refreshRoots()")
    # start watching (the promise is kept in the page, not awaited here), then click Play
    page.evaluate("([s, w]) => { window.__bench.watching = window.__bench.watchSteps("
                  "'.lstmlab-trace[data-ready=\"1\"]', s, w); }", [15_000, int(watch_s * 1000)])
    play.first.click()
    r = page.evaluate("() => window.__bench.watching")
    pause = page.get_by_role("button", name="⏸ Pause", exact=True)
    playing = pause.count() > 0
    if playing:
        pause.first.click()  # stop
    wait_idle(page, quiet_ms, 10)
    if r["first"] is None:
        raise BenchError(f"play at {speed} steps per second: the trace view's cursor did not move within 15 s "
                         f"(switch on: {playing}, trace views found: {r['views']})")
    samples = [(t, s) for t, s in r["samples"] if s is not None]
    t_a, t_b = r["first"], r["first"] + r["windowMs"]
    in_win = [(t, s) for t, s in samples if t_a <= t <= t_b]
    gaps = [b[0] - a[0] for a, b in zip(in_win, in_win[1:], strict=False)]
    back = sum(1 for a, b in zip(in_win, in_win[1:], strict=False) if b[1] < a[1])
    return {"back": back, "rate": (in_win[-1][1] - in_win[0][1]) / (r["windowMs"] / 1000), "updates": len(in_win) - 1,
            "updates_per_s": (len(in_win) - 1) / (r["windowMs"] / 1000),
            "start_ms": t_a - r["t0"], "max_gap_ms": max(gaps) if gaps else float("nan")}


def breakdown(browser, page, done_js, clicks, quiet_ms, start_k):
    """Trace `clicks` real clicks and attribute the main thread's time in each click -> painted window;
    then `clicks` more under V8's sampling profiler, for the JavaScript functions that take the time.
    Returns (trace breakdown, JS self time per click by (function, script), the traced clicks)."""
    browser.start_tracing(page=page, categories=TRACE_CATEGORIES)
    lat = []
    try:
        for j in range(clicks):
            lat.append(one_click(page, done_js, start_k + j + 1, quiet_ms))
    finally:
        trace = browser.stop_tracing()
    cdp = page.context.new_cdp_session(page)
    cdp.send("Profiler.enable")
    cdp.send("Profiler.setSamplingInterval", {"interval": 200})  # microseconds
    js: dict[tuple, float] = {}
    for j in range(clicks):
        r, selfs = js_profile_click(page, cdp, FORWARD, done_js, start_k + clicks + j + 1)
        for v, fn, script in selfs:
            js[(fn, script)] = js.get((fn, script), 0.0) + v / clicks
        wait_idle(page, quiet_ms)
    cdp.send("Profiler.disable")
    cdp.detach()
    return main_thread_breakdown(trace), js, lat


# ---------------------------------------------------------------------------------------------------------


def run_once(browser, args, r: int, floor_tmp: Path, results: dict) -> None:
    vp = args.viewport
    res = {}
    if args.fresh:
        n = delete_numba_cache()
        log(f"[run {r}] fresh start: deleted {n} numba cache files (*.nbi, *.nbc) in {NUMBA_CACHE}")
        cm, server, page, secs = cold_start(browser, "Explore (fresh)", ROOT, COLD_PATH, EXPLORE_COMPLETE,
                                            args.server_timeout, vp)
        # numba loads once the first screen has drawn (the app starts it with the memory chart's request) and
        # compiles in a background thread, writing its cache as each loop is done: keep the page open until the
        # chart is drawn, then let the compiles finish, or the cold starts below would compile again (a cold
        # start is a restart, not a fresh install) (the files deleted may include other loops' caches, made by
        # tests: wait until no new file has come for 5 s, the first one at least)
        wait_shown(page, MEMORY_CHART_DRAWN, 0, args.server_timeout, "Explore's memory chart (fresh start)")
        deadline = time.perf_counter() + args.server_timeout
        seen, since = len(numba_cache_files()), time.perf_counter()
        while time.perf_counter() < deadline and (seen == 0 or time.perf_counter() - since < 5):
            time.sleep(0.25)
            now = len(numba_cache_files())
            if now != seen:
                seen, since = now, time.perf_counter()
        close_page(page)
        cm.__exit__(None, None, None)
        res["fresh_s"] = secs
        log(f"[run {r}] fresh start: {secs:.2f} s to a complete page (server healthy after {server.healthy_s:.2f} s); "
            f"numba cache files now: {len(numba_cache_files())}")
    servers = []
    try:
        order = [("floor", floor_tmp, "/", FLOOR_SHOWS_STEP), ("page", ROOT, COLD_PATH, EXPLORE_COMPLETE)]
        if r % 2 == 1:
            order.reverse()
        pages = {}
        for name, wd, path, done in order:
            cm, server, page, secs = cold_start(browser, "floor app" if name == "floor" else "Explore", wd, path, done,
                                                args.server_timeout, vp)
            servers.append(cm)
            pages[name] = (page, server)
            res[f"cold_{name}_s"] = secs
            log(f"[run {r}] cold start {name}: {secs:.2f} s (server healthy after {server.healthy_s:.2f} s)")
            if name == "page":  # the memory chart below the first screen comes after it (app/sections.py memory)
                wait_shown(page, MEMORY_CHART_DRAWN, 0, args.server_timeout, "Explore's memory chart")
                res["cold_chart_s"] = time.perf_counter() - server.t_launch
                log(f"[run {r}] cold start page: memory chart drawn {res['cold_chart_s']:.2f} s after launch")
        page, server = pages["page"]
        floor_page, floor_server = pages["floor"]

        # 1. step latency, alternating
        navigate_complete(page, server.url + T1000, EXPLORE_COMPLETE, 120)
        wait_idle(page, args.quiet_ms, 60)
        wait_idle(floor_page, args.quiet_ms, 60)
        vis = [p.evaluate("document.visibilityState") for p in (page, floor_page)]
        if vis != ["visible", "visible"]:
            log(f"[run {r}] warning: pages' visibilityState {vis} (animation frames may be throttled)")
        st = step_rounds({"page": (page, EXPLORE_SHOWS_STEP), "floor": (floor_page, FLOOR_SHOWS_STEP)},
                         args.clicks, args.warmup, args.quiet_ms)
        for name in ("page", "floor"):
            lat = [x["latency"] for x in st[name]]
            res[f"step_{name}"] = st[name]
            res[f"step_{name}_median"] = statistics.median(lat)
            res[f"step_{name}_p90"] = pct(lat, 0.9)
            res[f"step_{name}_worst"] = max(lat)
            log(f"[run {r}] step {name}: median {statistics.median(lat):.0f} ms, p90 {pct(lat, 0.9):.0f}, "
                f"worst {max(lat):.0f} over {len(lat)} clicks; pointerdown -> first reply "
                f"{med(x['first_msg'] for x in st[name]):.0f} ms, -> last reply before shown "
                f"{med(x['last_msg'] for x in st[name]):.0f} ms ({med(x['msgs'] for x in st[name]):.0f} messages, "
                f"{med(x['bytes'] for x in st[name]) / 1024:.1f} KB); shown -> painted "
                f"{med(x['latency'] - x['shown'] for x in st[name]):.1f} ms; shown -> app idle "
                f"{med(x['settle'] for x in st[name]):.0f} ms (incl. {args.quiet_ms} ms quiet); done checks "
                f"{med(x['check_ms'] for x in st[name]):.2f} ms in {med(x['checks'] for x in st[name]):.0f} calls")
            answered = [x["answered"] for x in st[name] if "answered" in x]
            if answered:
                res[f"answer_{name}_median"] = statistics.median(answered)
                log(f"[run {r}] step {name}: Python's answer to the click (its views confirmed) median "
                    f"{statistics.median(answered):.0f} ms, p90 {pct(answered, 0.9):.0f} after pointerdown")
        k_floor = args.warmup + args.clicks  # the floor's session is at this step from here on

        # 4. T = 100,000
        if args.big:
            secs = navigate_complete(page, server.url + T100K, EXPLORE_COMPLETE, 180)
            wait_idle(page, args.quiet_ms, 120)
            big = [one_click(page, EXPLORE_SHOWS_STEP, k, args.quiet_ms)["latency"]
                   for k in range(1, args.big_clicks + 1)]
            res["big_load_s"], res["big_step_median"] = secs, statistics.median(big)
            log(f"[run {r}] T=100,000: complete page {secs:.2f} s after navigation (goal < 3 s); step median "
                f"{statistics.median(big):.0f} ms, worst {max(big):.0f} over {len(big)} clicks")

        # 5. play speed
        if args.play:
            navigate_complete(page, server.url + T1000, EXPLORE_COMPLETE, 120)
            wait_idle(page, args.quiet_ms, 60)
            for sp in args.speeds:
                p = set_speed_and_play(page, sp, args.play_seconds, args.quiet_ms)
                res[f"play_{sp}"] = p["rate"]
                res[f"play_{sp}_updates"] = p["updates_per_s"]
                log(f"[run {r}] play at {sp}/s: {p['rate']:.1f} steps shown per s of wall time "
                    f"({p['updates_per_s']:.1f} cursor updates/s, {p['back']} of them backwards, largest gap "
                    f"{p['max_gap_ms']:.0f} ms, first move "
                    f"{p['start_ms']:.0f} ms after the click on Play)")

        # 6. breakdown
        if args.breakdown and r == args.runs - 1:
            navigate_complete(page, server.url + T1000, EXPLORE_COMPLETE, 120)
            wait_idle(page, args.quiet_ms, 60)
            for name, (pg, done, k0) in {"page": (page, EXPLORE_SHOWS_STEP, 0),
                                         "floor": (floor_page, FLOOR_SHOWS_STEP, k_floor)}.items():
                one_click(pg, done, k0 + 1, args.quiet_ms)  # warm
                results.setdefault("breakdown", {})[name] = breakdown(browser, pg, done, args.breakdown_clicks,
                                                                      args.quiet_ms, k0 + 1)
    finally:
        for cm in reversed(servers):
            cm.__exit__(None, None, None)
    results["runs"].append(res)


def summarise(args, results) -> None:
    runs = results["runs"]

    def col(key):
        return [x[key] for x in runs if key in x]

    def ratio(a, b):
        return [x[a] / x[b] for x in runs if a in x and b in x and x[b]]

    rows = []  # (metric, unit, page values, floor values, ratio values, higher_is_worse)
    for q, label in (("median", "median"), ("p90", "p90"), ("worst", "worst")):
        rows.append((f"step latency {label} (T=1,000, H=64)", "ms", col(f"step_page_{q}"), col(f"step_floor_{q}"),
                     ratio(f"step_page_{q}", f"step_floor_{q}") if q != "worst" else [], True))
    if col("answer_page_median"):
        rows.append(("step: pointerdown -> Python's answer (median)", "ms", col("answer_page_median"),
                     col("step_floor_median"), ratio("answer_page_median", "step_floor_median"), True))
    rows.append(("cold start: `streamlit run` -> complete page", "s", col("cold_page_s"), col("cold_floor_s"),
                 ratio("cold_page_s", "cold_floor_s"), True))
    if col("cold_chart_s"):
        rows.append(("cold start: `streamlit run` -> memory chart drawn (below the first screen)", "s",
                     col("cold_chart_s"), col("cold_floor_s"), ratio("cold_chart_s", "cold_floor_s"), True))
    if col("fresh_s"):
        rows.append(("first start, numba cache deleted (vs floor cold)", "s", col("fresh_s"), col("cold_floor_s"),
                     ratio("fresh_s", "cold_floor_s"), True))
    if col("big_load_s"):
        rows.append(("T=100,000: navigation -> complete (goal < 3 s)", "s", col("big_load_s"), [], [], True))
        rows.append(("T=100,000: step latency median", "ms", col("big_step_median"), col("step_floor_median"),
                     ratio("big_step_median", "step_floor_median"), True))
    for sp in args.speeds if args.play else []:
        rows.append((f"play at {sp}/s: steps shown per s (ratio: of {sp})", "/s", col(f"play_{sp}"), [],
                     [v / sp for v in col(f"play_{sp}")], False))

    def f(v, unit):
        if v is None or v != v:
            return "—"
        return f"{v:.2f}" if unit == "s" else (f"{v:.1f}" if unit == "/s" else f"{v:.0f}")

    def worst(xs, hi):
        return (max(xs) if hi else min(xs)) if xs else None

    def m(xs):
        return statistics.median(xs) if xs else None

    def rfmt(v):
        return "—" if v is None else f"{v:.2f}"

    w = 50
    print()
    print(f"Summary over {len(runs)} run(s) ({args.clicks} clicks per app per run; ratios are per-run page/floor, "
          "then their median / worst)")
    print(f"{'metric':<{w}} {'unit':>4} | {'page':>7} {'floor':>7} {'ratio':>6} | {'worst run:':>10} {'page':>7} "
          f"{'floor':>7} {'ratio':>6}")
    print("-" * (w + 68))
    for metric, unit, pv, fv, rv, hi in rows:
        print(f"{metric:<{w}} {unit:>4} | {f(m(pv), unit):>7} {f(m(fv), unit):>7} {rfmt(m(rv)):>6} | {'':>10} "
              f"{f(worst(pv, hi), unit):>7} {f(worst(fv, True), unit):>7} {rfmt(worst(rv, hi)):>6}")
    print("-" * (w + 68))
    print("worst run: each column's worst over runs (highest time or ratio; lowest play rate). "
          "step latency = pointerdown -> new step shown + 1 animation frame.")
    bd = results.get("breakdown")
    if bd:
        print()
        print(f"Renderer main thread inside the click -> painted window (DevTools trace, {args.breakdown_clicks} "
              "clicks each, median ms per click; 'waiting' = window - busy, i.e. network + server + idle frames):")
        print(f"{'':<8} {'window':>7} {'script':>7} {'style+layout':>12} {'paint':>6} {'other':>6} {'busy':>6} "
              f"{'waiting':>8}")
        for name, (b, _js, _lat) in bd.items():
            if not b:
                print(f"{name:<8} (no trace marks found)")
                continue
            waiting = [wi - bu for wi, bu in zip(b["window"], b["busy"], strict=True)]
            print(f"{name:<8} {med(b['window']):>7.1f} {med(b['scripting']):>7.1f} {med(b['rendering']):>12.1f} "
                  f"{med(b['painting']):>6.1f} {med(b['other']):>6.1f} {med(b['busy']):>6.1f} {med(waiting):>8.1f}")
        for name, (b, _js, _lat) in bd.items():
            if b and b.get("top"):
                print(f"  {name}: heaviest trace events (self ms per click): "
                      + ", ".join(f"{n} {v:.1f}" for v, n in b["top"]))
        for name, (_b, js, _lat) in bd.items():
            if not js:
                continue
            scripts: dict[str, float] = {}
            for (_fn, script), v in js.items():
                if script != "(meta)":
                    scripts[script] = scripts.get(script, 0.0) + v
            meta = {fn: v for (fn, sc), v in js.items() if sc == "(meta)"}
            top_s = sorted(((v, sc) for sc, v in scripts.items()), reverse=True)[:7]
            top_f = sorted(((v, fn, sc) for (fn, sc), v in js.items() if sc != "(meta)"), reverse=True)[:8]
            print(f"  {name}: JS profile (V8 sampling, pointerdown -> shown, {args.breakdown_clicks} clicks), self ms "
                  f"per click: JS {sum(scripts.values()):.1f} (GC {meta.get('(garbage collector)', 0):.1f})")
            print(f"  {name}:   by script: " + ", ".join(f"{sc} {v:.1f}" for v, sc in top_s))
            print(f"  {name}:   by function: " + ", ".join(f"{fn} [{sc}] {v:.1f}" for v, fn, sc in top_f))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=__doc__.split("\n", 2)[2],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3, help="runs, each with new servers (default 3)")
    ap.add_argument("--clicks", type=int, default=30, help="measured clicks per app per run (default 30)")
    ap.add_argument("--warmup", type=int, default=2, help="unmeasured clicks per app first (default 2)")
    ap.add_argument("--quiet-ms", type=int, default=800,
                    help="before each click the app has run nothing for this long (default 800 ms: longer than the "
                         "Explore page's step follower, which reruns the memory chart 600 ms after the last step, so "
                         "every click lands on an idle app)")
    ap.add_argument("--fresh", action=argparse.BooleanOptionalAction, default=True,
                    help="measure a first start after a fresh install: DELETES numba's cache files (*.nbi, *.nbc) "
                         "IN PLACE in lstm_core/__pycache__ before each run's first Explore start (they are "
                         "rebuilt by that start; default on)")
    ap.add_argument("--big", action=argparse.BooleanOptionalAction, default=True, help="the T = 100,000 page")
    ap.add_argument("--big-clicks", type=int, default=10)
    ap.add_argument("--play", action=argparse.BooleanOptionalAction, default=True, help="the play-speed check")
    ap.add_argument("--speeds", type=lambda s: [int(v) for v in s.split(",")], default=[5, 20],
                    help="playback speeds to check, comma-separated (default 5,20)")
    ap.add_argument("--play-seconds", type=float, default=4.0)
    ap.add_argument("--breakdown", action=argparse.BooleanOptionalAction, default=True,
                    help="trace a few clicks in the last run and attribute main-thread time (default on)")
    ap.add_argument("--breakdown-clicks", type=int, default=10)
    ap.add_argument("--server-timeout", type=float, default=120.0)
    ap.add_argument("--viewport", type=lambda s: tuple(int(v) for v in s.split("x")), default=(1280, 720),
                    help="browser viewport WxH (default 1280x720, as the floor's README)")
    args = ap.parse_args()
    if args.runs < 1 or args.clicks < 2:
        ap.error("--runs >= 1 and --clicks >= 2")

    from playwright.sync_api import sync_playwright

    results = {"runs": []}
    t_start = time.perf_counter()
    try:
        floor_dir(ROOT)
        log(f"Explore: {ROOT}; floor app: {floor_dir(ROOT)}; {args.runs} run(s), {args.clicks} clicks per app per "
            f"run, viewport {args.viewport[0]}x{args.viewport[1]}")
        if args.fresh:
            log(f"--fresh is on: numba's cache files in {NUMBA_CACHE} are deleted in place before each run "
                "(the first Explore start rebuilds them)")
        with sync_playwright() as pw, tempfile.TemporaryDirectory(prefix="floor-") as tmp:
            floor_tmp = floor_workdir(Path(tmp))
            browser = launch(pw)
            try:
                for r in range(args.runs):
                    run_once(browser, args, r, floor_tmp, results)
            finally:
                browser.close()
    except BenchError as e:
        print(f"\nstep_latency: FAILED: {e}", file=sys.stderr)
        if results["runs"]:
            summarise(args, results)
        return 2
    except Exception as e:  # playwright's errors: a locator that never matched, a page that went away
        print(f"\nstep_latency: FAILED in the browser: {type(e).__name__}: {e}", file=sys.stderr)
        if results["runs"]:
            summarise(args, results)
        return 3
    summarise(args, results)
    print(f"\n(total {time.perf_counter() - t_start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
