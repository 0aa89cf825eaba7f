"""Browser-benchmark plumbing for benchmarks/step_latency.py: Streamlit servers for any app folder, Chromium
pages with an in-page probe library, real mouse clicks timed from `pointerdown`, and a DevTools-trace
breakdown of where a step's main-thread time goes.

Nothing here knows what a page shows: the caller passes a JavaScript "done" function `(k, lib) => bool`
that says whether step k is on screen, using the helpers in LIB (lib.hasText, lib.deepAll).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.browser.harness import CHROMIUM, FLAGS, free_port, stop, wait_healthy  # noqa: E402  (one place for the browser's flags)


class BenchError(RuntimeError):
    """A condition the benchmark cannot measure around (a server that does not start, a page that never
    shows what it should): main() prints it and exits non-zero."""


# ---------------------------------------------------------------------------------------------------------
# Servers


@dataclass
class Server:
    name: str
    url: str
    t_launch: float  # time.perf_counter() just before `streamlit run` was launched
    healthy_s: float  # seconds from launch until /_stcore/health answered
    proc: subprocess.Popen
    log: Path

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


@contextlib.contextmanager
def streamlit_server(name: str, workdir: Path, script: str = "app/streamlit_app.py", timeout: float = 120.0):
    """`streamlit run <script>` in `workdir` (so `workdir/.streamlit/config.toml` applies) on a free loopback
    port. Yields a Server once the health endpoint answers; raises BenchError if it exits or stays
    unhealthy for `timeout` seconds. The server's output goes to a log file (a pipe could fill and block)."""
    port = free_port()
    log = Path(tempfile.mkstemp(prefix=f"bench-{name}-", suffix=".log")[1])
    cmd = [sys.executable, "-m", "streamlit", "run", script, "--server.port", str(port), "--server.address",
           "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    url = f"http://127.0.0.1:{port}"
    with open(log, "wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=workdir, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
    server = Server(name, url, t0, float("nan"), proc, log)
    try:
        problem = wait_healthy(proc, url, t0, timeout)
        if problem:
            raise BenchError(f"the {name} server (`streamlit run {script}` in {workdir}) {problem}; its output "
                             f"ends:\n{server.log_tail()}")
        server.healthy_s = time.perf_counter() - t0
        yield server
    finally:
        stop(proc)
        with contextlib.suppress(OSError):
            log.unlink()


def floor_dir(repo_root: Path = ROOT) -> Path:
    """The floor app, beside the repository: ../shared/bench/floor_app."""
    d = Path(repo_root).resolve().parent / "shared" / "bench" / "floor_app"
    if not (d / "app" / "streamlit_app.py").is_file():
        raise BenchError(f"the floor app is missing: expected {d}/app/streamlit_app.py (the repository's sibling "
                         "shared/bench/floor_app, see its README.md); the ratios need it")
    return d


def floor_workdir(tmp: Path, repo_root: Path = ROOT) -> Path:
    """Lay the floor app out as its README says: its app/ and the project's .streamlit/ in one folder."""
    src = floor_dir(repo_root)
    shutil.copytree(src / "app", tmp / "app")
    cfg = Path(repo_root) / ".streamlit"
    if cfg.is_dir():
        shutil.copytree(cfg, tmp / ".streamlit")
    return tmp


# ---------------------------------------------------------------------------------------------------------
# The in-page library (an init script: present in every page before Streamlit's own code runs)

LIB = r"""
(() => {
  if (window.__bench) return;
  const lib = {
    down: null,      // performance.now() of the last pointerdown (capture phase, before any app handler)
    downs: 0,
    ws: [],          // [performance.now(), bytes] of every websocket message the page received
    roots: [],       // open shadow roots found at the last refresh
    norm: (s) => s.replace(/\s+/g, ' '),
  };
  window.addEventListener('pointerdown', () => {
    lib.down = performance.now();
    lib.downs += 1;
    performance.mark('bench:down');
  }, true);
  // Note each websocket message's arrival (on the main thread): where a step waits for the server.
  const Orig = window.WebSocket;
  window.WebSocket = class extends Orig {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (e) => {
        const d = e.data;
        lib.ws.push([performance.now(), d && (d.byteLength ?? d.size ?? d.length) || 0]);
        if (lib.ws.length > 20000) lib.ws.splice(0, 10000);
      });
    }
  };
  lib.refreshRoots = () => {
    const out = [];
    const visit = (root) => {
      for (const el of root.querySelectorAll('*')) if (el.shadowRoot) { out.push(el.shadowRoot); visit(el.shadowRoot); }
    };
    if (document.body) visit(document.body);
    lib.roots = out;
    return out;
  };
  // Elements matching `sel` in the document and in every open shadow root known (lib.refreshRoots).
  lib.deepAll = (sel) => {
    if (lib.roots.some((r) => !r.host.isConnected)) lib.refreshRoots();
    const found = Array.from(document.querySelectorAll(sel));
    for (const r of lib.roots) found.push(...r.querySelectorAll(sel));
    return found;
  };
  // Is "<prefix> k" on the page (whitespace-insensitive, k not followed by another digit)? The element
  // that reads "<prefix> <number>" is found once (markdown containers first, then every text node of the
  // document and the open shadow roots, by a TreeWalker) and kept as the anchor while it stays connected
  // and keeps the prefix, so the check after each batch of mutations reads one element's text. If the
  // markup changes, the anchor is found anew.
  const escape = (s) => lib.norm(s).trim().replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/ /g, '\\s*');
  lib.anchors = new Map();
  lib.findAnchor = (prefix) => {
    const withNumber = new RegExp(escape(prefix) + '\\s*\\d+');
    for (const el of document.querySelectorAll('[data-testid="stMarkdownContainer"]')) {
      if (withNumber.test(el.textContent)) {
        // the innermost element that still reads "<prefix> <number>"
        let best = el;
        for (const c of el.querySelectorAll('*')) if (withNumber.test(c.textContent)) best = c;
        return best;
      }
    }
    const bare = new RegExp(escape(prefix));
    for (const root of [document.body, ...lib.roots]) {
      if (!root) continue;
      const w = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
      while (w.nextNode()) {
        if (!bare.test(w.currentNode.data)) continue;
        let el = w.currentNode.parentElement;
        for (let up = 0; el && up < 3; up++, el = el.parentElement) if (withNumber.test(el.textContent)) return el;
      }
    }
    return null;
  };
  lib.hasText = (prefix, k) => {
    const bare = new RegExp(escape(prefix));
    let el = lib.anchors.get(prefix);
    if (!el || !el.isConnected || !bare.test(el.textContent)) {
      el = lib.findAnchor(prefix);
      if (el) lib.anchors.set(prefix, el); else lib.anchors.delete(prefix);
    }
    return !!el && new RegExp(escape(prefix) + '\\s*' + String(k) + '(?!\\d)').test(el.textContent);
  };
  // Arm a wait for step k: a MutationObserver (document + shadow roots) that runs done(k, lib) after
  // each batch of mutations; when true, note the time and resolve on the next animation frame.
  lib.arm = (done, k, timeoutMs) => {
    lib.refreshRoots();
    lib.down = null;
    const wsFrom = lib.ws.length;
    let checks = 0, checkMs = 0;
    const check = () => {
      const a = performance.now();
      const r = done(k, lib);
      checkMs += performance.now() - a;
      checks++;
      return r;
    };
    const already = check();
    lib.wait = new Promise((resolve) => {
      let finished = false;
      const obs = new MutationObserver(() => {
        if (finished || !check()) return;
        finished = true;
        obs.disconnect();
        const shown = performance.now();
        performance.mark('bench:shown');
        requestAnimationFrame(() => {
          const painted = performance.now();
          performance.mark('bench:painted');
          resolve({ down: lib.down, shown, painted, checks, checkMs, ws: lib.ws.slice(wsFrom) });
        });
      });
      const opts = { subtree: true, childList: true, characterData: true, attributes: true,
        attributeFilter: ['data-step', 'data-ready'] };
      obs.observe(document.body, opts);
      for (const r of lib.roots) obs.observe(r, opts);
      setTimeout(() => {
        if (finished) return;
        finished = true;
        obs.disconnect();
        resolve({ timeout: true, down: lib.down, checks, checkMs });
      }, timeoutMs);
    });
    return already;
  };
  // Wait until Streamlit is not running a script or fragment (stApp[data-test-script-state]) and has
  // stayed so for quietMs; bounded by timeoutMs. Resolves with the ms waited.
  lib.idle = (quietMs, timeoutMs) => new Promise((resolve) => {
    const t0 = performance.now();
    const app = document.querySelector('[data-testid="stApp"]');
    const running = () => app && /^running/i.test(app.getAttribute('data-test-script-state') || '');
    let timer = null;
    const finish = (ok) => {
      obs.disconnect(); clearTimeout(timer); clearTimeout(cap);
      resolve({ ok, ms: performance.now() - t0 });
    };
    const settle = () => {
      clearTimeout(timer);
      if (!running()) timer = setTimeout(() => { if (!running()) finish(true); else settle(); }, quietMs);
    };
    const obs = new MutationObserver(settle);
    if (app) obs.observe(app, { attributes: true, attributeFilter: ['data-test-script-state'] });
    const cap = setTimeout(() => finish(false), timeoutMs);
    settle();
  });
  // While playing: record (time, step) at every change of the step shown by the elements matching sel
  // (their data-step; re-found after every batch of mutations, since a full rerun may mount the view
  // anew); after the first change (bounded by startMs), watch for windowMs more. Resolves with samples.
  lib.watchSteps = (sel, startMs, windowMs) => new Promise((resolve) => {
    const samples = [];
    const t0 = performance.now();
    let views = 0;
    const read = () => {
      const vs = lib.deepAll(sel);
      views = Math.max(views, vs.length);
      for (const v of vs) { const s = parseInt(v.getAttribute('data-step'), 10); if (Number.isFinite(s)) return s; }
      return null;
    };
    const opts = { subtree: true, childList: true, attributes: true, attributeFilter: ['data-step', 'data-ready'] };
    const observed = new Set();
    const observeAll = () => {
      for (const r of [document.body, ...lib.refreshRoots()]) {
        if (!observed.has(r)) { observed.add(r); obs.observe(r, opts); }
      }
    };
    let first = null, endTimer = null;
    const obs = new MutationObserver((records) => {
      const now = performance.now();
      if (records.some((r) => r.type === 'childList')) observeAll();
      const s = read();
      if (s === null || s === samples[samples.length - 1][1]) return;
      samples.push([now, s]);
      if (first === null) { first = now; clearTimeout(startTimer); endTimer = setTimeout(end, windowMs); }
    });
    const end = () => { obs.disconnect(); resolve({ t0, first, windowMs, samples, views }); };
    observeAll();
    samples.push([t0, read()]);
    const startTimer = setTimeout(end, startMs);
  });
  window.__bench = lib;
})();
"""


def launch(playwright):
    if not Path(CHROMIUM).exists():
        raise BenchError(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)


def new_page(browser, viewport=(1280, 720)):
    """A page in its own context (its own cache and cookies, as a first visit), with LIB installed."""
    ctx = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    ctx.add_init_script(LIB)
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    return page


def close_page(page) -> None:
    with contextlib.suppress(Exception):
        page.context.close()


def wait_shown(page, done_js: str, k: int, timeout_s: float, what: str) -> None:
    """Wait (checking on every animation frame) until done(k, lib) holds, e.g. a page load is complete."""
    try:
        page.wait_for_function(f"(k) => {{ const lib = window.__bench; lib.refreshRoots(); "
                               f"return ({done_js})(k, lib); }}", arg=k, polling="raf", timeout=timeout_s * 1000)
    except Exception as e:  # playwright's TimeoutError, or the page went away
        raise BenchError(f"{what}: step {k} was not shown within {timeout_s:.0f} s ({type(e).__name__}: "
                         f"{str(e).splitlines()[0] if str(e) else ''})") from None


def wait_idle(page, quiet_ms: int = 150, timeout_s: float = 30.0) -> float:
    """Wait until Streamlit runs nothing (and has not for quiet_ms); returns the ms waited."""
    r = page.evaluate("([q, t]) => window.__bench.idle(q, t)", [quiet_ms, int(timeout_s * 1000)])
    return r["ms"]


def _button_centre(page, label: str):
    button = page.get_by_role("button", name=label, exact=True).first
    button.scroll_into_view_if_needed(timeout=10_000)
    box = button.bounding_box()
    if box is None:
        raise BenchError(f'the "{label}" button has no box on the page')
    if button.is_disabled():
        raise BenchError(f'the "{label}" button is disabled')
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def arm_click(page, label: str, done_js: str, k: int, timeout_s: float = 20.0):
    """Find the button's centre and arm the in-page wait for step k (before anything is timed)."""
    x, y = _button_centre(page, label)
    if page.evaluate(f"([k, t]) => window.__bench.arm({done_js}, k, t)", [k, int(timeout_s * 1000)]):
        raise BenchError(f"step {k} was already shown before the click on {label!r}")
    return x, y


def fire_click(page, xy, label: str, k: int, timeout_s: float = 20.0) -> dict:
    """The real click (mouse move, down, up at xy) and the armed wait's figures, in ms from pointerdown:
    latency (-> the frame after shown), shown, first_msg / last_msg (-> first / last websocket message
    before shown), msgs, bytes, check_ms (time spent in the done checks), checks."""
    page.mouse.click(*xy)
    r = page.evaluate("() => window.__bench.wait")
    if r.get("timeout") or r.get("down") is None:
        why = "no pointerdown reached the page" if r.get("down") is None else f"step {k} not shown"
        raise BenchError(f"click on {label!r}: {why} within {timeout_s:.0f} s")
    down = r["down"]
    msgs = [(t, b) for t, b in r["ws"] if down <= t <= r["shown"]]
    return {"latency": r["painted"] - down, "shown": r["shown"] - down,
            "first_msg": (msgs[0][0] - down) if msgs else float("nan"),
            "last_msg": (msgs[-1][0] - down) if msgs else float("nan"),
            "msgs": len(msgs), "bytes": sum(b for _, b in msgs), "check_ms": r["checkMs"], "checks": r["checks"]}


def click_step(page, label: str, done_js: str, k: int, timeout_s: float = 20.0) -> dict:
    """One real mouse click on the button `label` (at its box's centre), timed in the page from its
    pointerdown until done(k, lib) holds plus one animation frame (see fire_click for the figures)."""
    xy = arm_click(page, label, done_js, k, timeout_s)
    return fire_click(page, xy, label, k, timeout_s)


# ---------------------------------------------------------------------------------------------------------
# Where the main thread's time goes (Chrome's trace events, as DevTools groups them)

TRACE_CATEGORIES = ["devtools.timeline", "disabled-by-default-devtools.timeline", "blink.user_timing", "v8.execute",
                    "toplevel", "blink", "loading"]
_SCRIPTING = {"FunctionCall", "EvaluateScript", "TimerFire", "EventDispatch", "FireAnimationFrame", "RunMicrotasks",
              "MajorGC", "MinorGC", "GCEvent", "BlinkGC.AtomicPhase", "v8.compile", "v8.compileModule", "v8.run",
              "v8.callFunction", "v8.evaluateModule", "V8.Execute", "XHRReadyStateChange", "FireIdleCallback",
              "TimerInstall", "TimerRemove", "RequestAnimationFrame", "V8.GCScavenger", "V8.GCFinalizeMC",
              "V8.GCIncrementalMarking", "V8.GC_MC_BACKGROUND_MARKING", "MessageEvent", "WebSocketReceive"}
_RENDERING = {"UpdateLayoutTree", "Layout", "RecalculateStyles", "HitTest", "PrePaint", "Layerize", "UpdateLayer",
              "UpdateLayerTree", "ScheduleStyleRecalculation", "InvalidateLayout", "ComputeIntersections",
              "IntersectionObserverController::computeIntersections", "ParseAuthorStyleSheet", "LayoutShift",
              "ScrollLayer", "UpdateLayoutTree::ForceStyleAndLayout", "LocalFrameView::RunPostLifecycleSteps"}
_PAINTING = {"Paint", "PaintImage", "PaintSetup", "CompositeLayers", "Commit", "RasterTask", "Decode Image",
             "ImageDecodeTask", "Draw LazyPixelRef", "Decode LazyPixelRef", "GPUTask", "UpdateLayer::Paint",
             "Canvas2DLayerBridge::Flush", "DrawFrame"}


def category(name: str) -> str:
    if name in _SCRIPTING or name.startswith(("V8.", "v8.", "GC")):
        return "scripting"
    if name in _RENDERING:
        return "rendering"
    if name in _PAINTING or name.startswith("Paint"):
        return "painting"
    return "other"


def main_thread_breakdown(trace_bytes: bytes) -> dict:
    """Attribute the renderer main thread's time inside each [bench:down, bench:painted] window to
    scripting / rendering (style, layout) / painting / other, by self time of nested complete events.
    Returns per-window lists (ms) and the window lengths."""
    data = json.loads(trace_bytes)
    events = data["traceEvents"] if isinstance(data, dict) else data
    marks = [e for e in events if e.get("name", "").startswith("bench:") and e.get("ph") in ("R", "I", "i", "n", "b")]
    if not marks:
        return {}
    pid, tid = marks[0]["pid"], marks[0]["tid"]
    marks.sort(key=lambda e: e["ts"])
    windows, start = [], None
    for m in marks:
        if m["name"] == "bench:down":
            start = m["ts"]
        elif m["name"] == "bench:painted" and start is not None:
            windows.append((start, m["ts"]))
            start = None
    xs = sorted((e for e in events if e.get("pid") == pid and e.get("tid") == tid and e.get("ph") == "X"
                 and "dur" in e), key=lambda e: (e["ts"], -e["dur"]))
    # self time: subtract each event's direct children; an event of no known category (Blink's finer
    # events, e.g. Document::recalcStyle inside UpdateLayoutTree) counts as its parent's category
    selfs = []  # (ts, end, name, self_us, category)
    stack: list[list] = []
    for e in xs:
        ts, end = e["ts"], e["ts"] + e["dur"]
        while stack and stack[-1][1] <= ts:
            selfs.append(tuple(stack.pop()))
        if stack:
            stack[-1][3] -= min(end, stack[-1][1]) - ts
        cat = category(e["name"])
        if cat == "other" and stack:
            cat = stack[-1][4]
        stack.append([ts, end, e["name"], e["dur"], cat])
    selfs.extend(tuple(s) for s in stack)
    out = {"window": [], "scripting": [], "rendering": [], "painting": [], "other": [], "busy": []}
    for a, b in windows:
        acc = {"scripting": 0.0, "rendering": 0.0, "painting": 0.0, "other": 0.0}
        for ts, end, _name, self_us, cat in selfs:
            if ts >= a and ts < b and self_us > 0:
                acc[cat] += self_us * min(1.0, (b - ts) / max(1e-9, end - ts))
        for key, v in acc.items():
            out[key].append(v / 1000)
        out["busy"].append(sum(acc.values()) / 1000)
        out["window"].append((b - a) / 1000)
    # the heaviest named events in the windows (self time), for a hint of what is expensive
    names: dict[str, float] = {}
    for a, b in windows:
        for ts, _end, name, self_us, _cat in selfs:
            if a <= ts < b and self_us > 0:
                names[name] = names.get(name, 0.0) + self_us / 1000
    out["top"] = sorted(((v / max(1, len(windows)), n) for n, v in names.items()), reverse=True)[:8]
    return out


def med(xs) -> float:
    xs = [x for x in xs if x == x]
    return statistics.median(xs) if xs else float("nan")


def js_profile_click(page, cdp, label: str, done_js: str, k: int) -> tuple[dict, list]:
    """One click under V8's sampling profiler (started after the wait is armed, just before the click;
    stopped once step k is shown): the click's figures and the profile's (self ms, function, script)."""
    xy = arm_click(page, label, done_js, k)
    cdp.send("Profiler.start")
    try:
        r = fire_click(page, xy, label, k)
    finally:
        prof = cdp.send("Profiler.stop")["profile"]
    return r, profile_self_times(prof)


def _script(url: str) -> str:
    if url.startswith("blob:"):
        return "component JS (blob:)"  # st.components.v2 code: the project's own .js files
    return url.rsplit("/", 1)[-1].split("?")[0]


def profile_self_times(prof: dict) -> list:
    """(self ms, function, script) from a CPU profile. (idle), (program), (garbage collector) come with
    script "(meta)"; a native function (no URL, e.g. getBoundingClientRect) is named after its nearest
    caller with a URL, e.g. ("getBoundingClientRect <- $", "native <- Slider.js")."""
    nodes = {n["id"]: n for n in prof["nodes"]}
    parent = {c: n["id"] for n in prof["nodes"] for c in n.get("children", [])}
    acc: dict[tuple, float] = {}
    for nid, dt in zip(prof.get("samples", []), prof.get("timeDeltas", []), strict=False):
        cf = nodes[nid]["callFrame"]
        fn = cf.get("functionName") or "(anonymous)"
        url = cf.get("url") or ""
        if fn in ("(idle)", "(program)", "(garbage collector)", "(root)"):
            script = "(meta)"
        elif url:
            script = _script(url)
        else:
            q, script = parent.get(nid), "native"
            for _ in range(50):  # bounded walk up the call tree
                if q is None:
                    break
                c = nodes[q]["callFrame"]
                if c.get("url"):
                    fn, script = f"{fn} <- {c.get('functionName') or '(anonymous)'}", f"native <- {_script(c['url'])}"
                    break
                q = parent.get(q)
        acc[(fn, script)] = acc.get((fn, script), 0.0) + dt / 1000
    return [(v, f, sc) for (f, sc), v in acc.items()]
