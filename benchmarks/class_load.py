"""A class on one link: N simulated students on the server alone, speaking Streamlit's own protocol.

    python benchmarks/class_load.py [--sessions 10,30,60] [--seconds 30] [--think 0.5,2.5] [--json out.jsonl]
                                    [--server-args "--server.fileWatcherType none"]
    python benchmarks/class_load.py --url http://127.0.0.1:8080 --pids 123,456 --sessions 30   # a running server

No browser: each student is a websocket client on loopback that does what the Explore page's browser
code sends, so the figures are the server's (and its proxy's), not Chromium's.

How a student speaks the protocol (Streamlit 1.67, read from its source and its frontend bundle):
- GET /_stcore/health, which sets the `_streamlit_xsrf` cookie (and, behind deploy/run_replicas.sh's nginx,
  the affinity cookie). The websocket /_stcore/stream is opened with that cookie, an Origin header and the
  subprotocols ["streamlit", <xsrf token>], as the browser does.
- Opening the page: BackMsg.rerun_script (a ClientState with the query string, the page's script hash from
  the `navigation` message, context info, every widget's value and the hashes of the messages the client
  has cached). The server answers with ForwardMsgs: new_session, navigation, deltas (elements, blocks),
  script_finished. Cacheable messages the client holds come back as `ref_hash` only; the student keeps a
  message cache and ages it as the browser's ForwardMsgCache does (only after its run has started).
- Stepping (Forward ▶, keys, slider, heatmap clicks all end here): the step bridge (app/components/
  step_bridge.js) calls setTriggerValue("seek", {step, seq}). For an st.components.v2 component that
  becomes one WidgetState with id "$$STREAMLIT_INTERNAL_KEY_<component id>__events" and json_trigger_value
  '[{"event": "seek", "value": {"step": t, "seq": n}}]', sent in a rerun_script whose fragment_id is the
  stepping fragment's (Delta.fragment_id of the bridge's delta). One BackMsg per click, as the browser
  flushes triggers on a setTimeout(0).
- The marker of a new step: the bridge's delta (new_element.bidi_component, component name ending in
  "lstmlab_step_bridge") carries JSON data {"step", "steps", "ack", "view", ...}; a request is answered
  when a bridge delta with ack >= its seq arrives, and the step shown is that delta's "step" (the bridge
  keeps its own target until the ack of its last request arrives). Latency = time from sending the
  rerun BackMsg to receiving that delta, measured by the client on loopback.
- The memory chart's step follower (components/step_follower.js) sends "sync" with the step 600 ms after
  stepping pauses, rerunning the memory fragment; students do the same whenever they pause that long.
- Switching task: the sidebar selectbox's WidgetState (string_value = the option's label) in a full rerun.
- Uploading: pick "Upload a file" in the Sequence radio (a full rerun that draws the file uploader), then
  BackMsg.file_urls_request -> ForwardMsg.file_urls_response (upload and delete URLs), HTTP PUT of the file
  as multipart form data to /_stcore/upload_file/<session>/<file id> with the X-Xsrftoken header, then a
  full rerun with the uploader's WidgetState (file_uploader_state_value naming the file id).
- Widget states: like the browser's WidgetStateManager, a student keeps every drawn widget's value (its
  default, or the value the script set), forgets those a full run no longer draws, and sends them all with
  each rerun, plus the trigger. (Checked against Chromium's frames with Playwright: the same 13 widget
  states, fragment ids, page hash and upload messages.)

Each student: opens the page (students arrive spread over --ramp seconds), then until --seconds have
passed since the first arrival: steps (mostly one click; a quarter of the time a burst of 2-4 quick clicks),
pauses --think seconds (min,max), switches task --switches times and uploads its own small CSV --uploads
times at random moments. At the end it sends one last burst and checks that the step shown is the step
it asked for. Each wait has a timeout (--timeout); nothing runs unbounded.

For each N it prints: page load (connect -> first complete page) p50/p95; step p50/p95 (per click) and
clicks answered per second; the memory chart's catch-up (follower sync -> its fragment run finished) and
the clicks that were sent while it ran; lost steps (bursts whose acknowledged step differs from the last
one asked for, or never acknowledged); errors by kind; task switch (-> full run finished) and upload
(file URLs + PUT + full run) p50; the server's resident memory (VmRSS) idle (after warm-up pages), at
peak, and (peak - idle) / N per session; the server's CPU (% of one core); this client's own CPU (it
shares the machine's cores with the server); and the load average (1 min) at start, end and its maximum.

Without --url, each N gets a fresh `streamlit run app/streamlit_app.py` on a free loopback port (as
tests/browser/harness.py starts it, plus --server-args; its log goes to a temporary file). With --url the
students go to an existing server or proxy (e.g. deploy/run_replicas.sh's nginx); pass the app processes'
ids with --pids (run_replicas.sh prints them) for memory and CPU figures, and for warming each of them
up. Only loopback addresses are accepted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import requests
import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.browser.harness import ROOT, free_port, stop, wait_healthy  # noqa: E402

BRIDGE = "lstmlab_step_bridge"
FOLLOWER = "lstmlab_step_follower"
TRIGGER_PREFIX = "$$STREAMLIT_INTERNAL_KEY"  # streamlit.runtime.state.session_state.STREAMLIT_INTERNAL_KEY_PREFIX
FOLLOW_QUIET_S = 0.6  # step_follower.js QUIET_MS
FINISHED_OK, FINISHED_EARLY, FINISHED_FRAGMENT = 0, 2, 3  # ForwardMsg.ScriptFinishedStatus
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")
SETTLE_SECONDS = 3.0  # --with-training: after the last student's arrival, before the first phase


class StudentError(Exception):
    """Something a student saw go wrong; its text is the kind counted in the report."""


@dataclass
class Stats:
    page_ms: list = field(default_factory=list)
    step_ms: list = field(default_factory=list)
    step_behind_ms: list = field(default_factory=list)  # the clicks sent while the memory chart was redrawing
    sync_ms: list = field(default_factory=list)  # follower sync -> the memory fragment's run finished
    switch_ms: list = field(default_factory=list)
    upload_ms: list = field(default_factory=list)
    bursts: int = 0
    lost: int = 0
    syncs: int = 0
    errors: Counter = field(default_factory=Counter)
    bytes_in: int = 0
    students_done: int = 0


def pct(values: list, q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def csv_for(student: int, steps: int) -> bytes:
    """A small file of the student's own (different values, so no shared trace is reused)."""
    rng = random.Random(student)
    lines = ["value"] + [f"{rng.gauss(0, 1):.4f}" for _ in range(steps)]
    return ("\n".join(lines) + "\n").encode()


def widget_value(kind: str, w) -> WidgetState | None:
    """The value the browser keeps for a widget it has just drawn (its default, or the value the script
    set), as it sends it back with every rerun request; None for a file uploader, which has none yet."""
    state = WidgetState(id=w.id)
    if kind in ("selectbox", "radio"):
        if w.set_value:
            state.string_value = w.raw_value
        elif w.HasField("default") and w.options:
            state.string_value = w.options[w.default]
        else:
            return None
    elif kind == "number_input":
        value = w.value if w.set_value else w.default
        if w.data_type == w.INT:
            state.int_value = int(value)
        else:
            state.double_value = value
    elif kind == "checkbox":
        state.bool_value = w.value if w.set_value else w.default
    elif kind == "text_input":
        state.string_value = w.value if w.set_value else w.default
    else:
        return None
    return state


class Page:
    """What one student's browser knows of the page: the elements it acts on, the step bridge's latest
    data, finished runs, and the ForwardMsg cache (aged like the browser's)."""

    def __init__(self) -> None:
        self.session_id = ""
        self.page_hash = ""
        self.query = ""
        self.max_age = 2
        self.cache: dict[str, list] = {}  # hash -> [message bytes, run count at last use, fragment id]
        self.runs = 0
        self.run_fragments: set[str] = set()
        self.fragment_done: Counter = Counter()  # fragment id -> fragment runs of it finished
        self.awaiting_new_session = False  # a rerun was asked for and its run has not started yet
        self.full_runs = 0
        self.bridge_id = self.bridge_fragment = ""
        self.follower_id = self.follower_fragment = ""
        self.follower_step = None  # the step the memory chart was last drawn for
        self.bridge: dict = {}
        self.widgets: dict[str, tuple[str, list]] = {}  # label -> (widget id, options)
        self.states: dict[str, WidgetState] = {}  # the browser's WidgetStateManager: every widget's value
        self.seen: set[str] = set()  # widget ids drawn since the last full run finished
        self.file_urls: dict[str, object] = {}
        self.buttons: dict[str, tuple[str, str]] = {}  # label -> (widget id, fragment id), as last drawn
        self.buttons_seen: set[str] = set()  # button labels drawn since the last full run finished
        self.progress: list[str] = []  # the texts of the progress bars drawn in the latest run
        self.auto_reruns: dict[str, float] = {}  # fragment id -> period: the browser's run_every timers
        self.exceptions: list[str] = []
        self.closed = ""  # why the connection ended, once it has
        self.changed = asyncio.Condition()

    def take(self, raw: bytes) -> None:
        msg = ForwardMsg()
        msg.ParseFromString(raw)
        if msg.WhichOneof("type") == "ref_hash":
            hit = self.cache.get(msg.ref_hash)
            if hit is None:
                raise StudentError("cached message missing")
            hit[1] = self.runs
            msg = ForwardMsg()
            msg.ParseFromString(hit[0])
        elif msg.metadata.cacheable and msg.hash:
            frag = msg.delta.fragment_id if msg.WhichOneof("type") == "delta" else ""
            self.cache[msg.hash] = [raw, self.runs, frag]
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            self.awaiting_new_session = False
            self.progress = []
            if not msg.metadata.run.fragment_ids:  # App.handleNewSession: a full run drops every run_every timer
                self.auto_reruns.clear()
            self.session_id = msg.new_session.initialize.session_id or self.session_id
            self.page_hash = msg.new_session.page_script_hash
            self.max_age = msg.new_session.config.max_cached_message_age or self.max_age
        elif kind == "navigation":
            self.page_hash = msg.navigation.page_script_hash or self.page_hash
        elif kind == "page_info_changed":
            self.query = msg.page_info_changed.query_string
        elif kind == "delta":
            self._delta(msg.delta)
        elif kind == "file_urls_response":
            self.file_urls[msg.file_urls_response.response_id] = msg.file_urls_response
        elif kind == "auto_rerun":  # App.handleAutoRerun: a fragment with run_every asks to be polled
            self.auto_reruns[msg.auto_rerun.fragment_id] = msg.auto_rerun.interval
        elif kind == "stop_auto_rerun":
            for frag in msg.stop_auto_rerun.fragment_ids:
                self.auto_reruns.pop(frag, None)
        elif kind == "script_finished":
            self._finished(msg.script_finished, set(msg.metadata.run.fragment_ids))

    def _delta(self, delta) -> None:
        if delta.fragment_id:
            self.run_fragments.add(delta.fragment_id)
        if delta.WhichOneof("type") != "new_element":
            return
        el = delta.new_element
        kind = el.WhichOneof("type")
        if kind == "bidi_component":
            c = el.bidi_component
            if c.component_name.endswith(BRIDGE):
                self.bridge_id, self.bridge_fragment = c.id, delta.fragment_id
                self.bridge = json.loads(c.json)
            elif c.component_name.endswith(FOLLOWER):
                self.follower_id, self.follower_fragment = c.id, delta.fragment_id
                self.follower_step = json.loads(c.json).get("step")
        elif kind in ("selectbox", "radio", "file_uploader", "number_input", "checkbox", "text_input"):
            w = getattr(el, kind)
            self.widgets[w.label] = (w.id, list(getattr(w, "options", ())))
            self.seen.add(w.id)
            value = widget_value(kind, w)
            if value is not None and (w.id not in self.states or w.set_value):
                self.states[w.id] = value
        elif kind == "button":
            self.buttons[el.button.label] = (el.button.id, delta.fragment_id)
            self.buttons_seen.add(el.button.label)
        elif kind == "progress":
            self.progress.append(el.progress.text)
        elif kind == "exception":
            self.exceptions.append(f"{el.exception.type}: {el.exception.message}"[:200])

    def _finished(self, status: int, fragments: set[str]) -> None:
        fragments = fragments | self.run_fragments if status == FINISHED_FRAGMENT else set()
        self.fragment_done.update(fragments)
        self.run_fragments = set()
        if status != FINISHED_EARLY and not self.awaiting_new_session:
            # ForwardMsgCache.incrementRunCount (only once the server has started the run the client asked
            # for, as the browser does): a fragment run ages only the messages of its fragments
            self.runs += 1
            for h, (_, used, frag) in list(self.cache.items()):
                if fragments and (not frag or frag not in fragments):
                    continue
                if self.runs - used > self.max_age:
                    del self.cache[h]
        if status == FINISHED_OK:
            self.full_runs += 1
            # WidgetStateManager.removeInactive: widgets the full run did not draw are forgotten
            self.states = {k: v for k, v in self.states.items() if k in self.seen}
            self.seen = set()
            self.buttons = {k: v for k, v in self.buttons.items() if k in self.buttons_seen}
            self.buttons_seen = set()


@dataclass
class Phase:
    """One phase of a --with-training run: "idle" (the trainer's page open, nothing training) or "training"
    (one student's models train); its own figures, and the machine's load while it lasted."""

    kind: str
    stats: Stats = field(default_factory=Stats)
    t0: float = 0.0
    t1: float = 0.0
    running: list = field(default_factory=list)  # /proc/stat procs_running, sampled every half second
    load_start: float = float("nan")
    load_end: float = float("nan")
    server_cpu: float = float("nan")  # seconds of CPU the server process used in the phase
    train_cpu: float = 0.0  # seconds of CPU its children (the forkserver, the training jobs) used
    epochs: int = 0  # epochs the trainer's page reported during the phase
    polls: list = field(default_factory=list)  # the trainer's poll: auto rerun sent -> its fragment run finished


class Clock:
    """The phase now under way (None between phases: a start or stop in progress, not counted anywhere)."""

    def __init__(self) -> None:
        self.current: Phase | None = None
        self.phases: list[Phase] = []


class Student:
    def __init__(self, idx: int, url: str, args, stats: Stats, deadline: float, clock: Clock | None = None) -> None:
        self.idx, self.url, self.args, self.stats, self.deadline = idx, url, args, stats, deadline
        self.clock = clock
        self.plan_until = deadline  # planned switches and uploads fall before this (the deadline may move)
        self.rng = random.Random(1000 + idx)
        self.page = Page()
        self.http = requests.Session()
        self.ws = None
        self.seq = 0
        self.target = 0  # the step this student's browser shows (its last request)
        self.sent_at: dict[int, tuple[float, bool]] = {}  # seq -> (sent when, behind a sync), until answered
        self.sync_at = 0.0  # when the pending follower sync was sent (0: none pending)
        self.sync_done = 0  # page.fragment_done of the memory fragment when it was sent
        self.sync_step = 0  # the step it asked the memory chart for
        self.sync_phase: Phase | None = None
        self.reader_task: asyncio.Task | None = None

    def error(self, kind: str) -> None:
        self.stats.errors[kind] += 1
        if self.phase() is not None:
            self.phase().stats.errors[kind] += 1

    def phase(self) -> Phase | None:
        return self.clock.current if self.clock is not None else None

    def keep(self, what: str, value, since: Phase | None) -> None:
        """Record a figure in the run's stats, and in the phase's if the whole of it happened in one phase."""
        getattr(self.stats, what).append(value)
        if since is not None and since is self.phase():
            getattr(since.stats, what).append(value)

    def count(self, what: str, since: Phase | None) -> None:
        setattr(self.stats, what, getattr(self.stats, what) + 1)
        if since is not None and since is self.phase():
            setattr(since.stats, what, getattr(since.stats, what) + 1)

    # -- the wire -------------------------------------------------------------------------------------
    async def connect(self) -> None:
        r = await asyncio.to_thread(self.http.get, f"{self.url}/_stcore/health", timeout=self.args.timeout)
        r.raise_for_status()
        xsrf = self.http.cookies.get("_streamlit_xsrf", "")
        cookie = "; ".join(f"{k}={v}" for k, v in self.http.cookies.items())
        ws_url = self.url.replace("http", "ws", 1) + "/_stcore/stream"
        self.ws = await websockets.connect(
            ws_url, subprotocols=["streamlit", xsrf] if xsrf else ["streamlit"], max_size=None,
            additional_headers={"Cookie": cookie, "Origin": self.url}, open_timeout=self.args.timeout)

    async def reader(self) -> None:
        """Take every ForwardMsg as it arrives; record a step request's latency the moment its ack does."""
        page = self.page
        try:
            async for raw in self.ws:
                self.stats.bytes_in += len(raw)
                page.take(raw)
                ack = int(page.bridge.get("ack", 0))
                now = time.perf_counter()
                for seq in [s for s in self.sent_at if s <= ack]:
                    sent, behind, phase = self.sent_at.pop(seq)
                    self.keep("step_ms", (now - sent) * 1e3, phase)
                    if behind:
                        self.keep("step_behind_ms", (now - sent) * 1e3, phase)
                if (self.sync_at and page.fragment_done[page.follower_fragment] > self.sync_done
                        and page.follower_step == self.sync_step):
                    self.keep("sync_ms", (now - self.sync_at) * 1e3, self.sync_phase)
                    self.sync_at = 0.0
                self.on_message(now)
                async with page.changed:
                    page.changed.notify_all()
        except (websockets.WebSocketException, StudentError) as e:
            page.closed = f"connection lost: {type(e).__name__} {e}"[:90]
        finally:
            page.closed = page.closed or "connection closed by the server"
            async with page.changed:
                page.changed.notify_all()

    async def wait_for(self, what: str, predicate, timeout: float | None = None) -> None:
        page = self.page
        try:
            async with page.changed:
                await asyncio.wait_for(page.changed.wait_for(lambda: page.closed or predicate()),
                                       timeout or self.args.timeout)
        except TimeoutError:
            raise StudentError(f"timeout: {what}") from None
        if page.closed:
            raise StudentError(page.closed)
        if page.exceptions:
            raise StudentError(f"exception on page: {self.page.exceptions.pop()}")

    def on_message(self, now: float) -> None:
        """After each ForwardMsg (the trainer polls and times its polls here)."""

    async def rerun(self, fragment: str = "", trigger: WidgetState | None = None, auto: bool = False,
                    page_name: str = "") -> None:
        page = self.page
        m = BackMsg()
        cs = m.rerun_script
        query = dict(kv.split("=", 1) for kv in page.query.split("&") if "=" in kv)
        if self.target > 0:
            query["step"] = str(self.target)  # the bridge writes the step into the address bar
        cs.query_string = urlencode(query)
        cs.page_script_hash = page.page_hash
        cs.page_name = page_name  # opening a page by its address (/train) before its hash is known
        cs.fragment_id = fragment
        cs.is_auto_rerun = auto
        cs.widget_states.widgets.extend(page.states.values())
        if trigger is not None:
            cs.widget_states.widgets.append(trigger)
        cs.cached_message_hashes.extend(page.cache)
        page.awaiting_new_session = True
        cs.context_info.timezone = "UTC"
        cs.context_info.timezone_offset = 0
        cs.context_info.locale = "en-GB"
        cs.context_info.url = f"{self.url}/"
        await self.ws.send(m.SerializeToString())

    def trigger(self, component_id: str, event: str, value) -> WidgetState:
        return WidgetState(id=f"{TRIGGER_PREFIX}_{component_id}__events",
                           json_trigger_value=json.dumps([{"event": event, "value": value}]))

    async def full_rerun(self, what: str) -> float:
        page, t0 = self.page, time.perf_counter()
        done = page.full_runs
        await self.rerun()
        await self.wait_for(what, lambda: page.full_runs > done)
        return (time.perf_counter() - t0) * 1e3

    # -- what a student does ----------------------------------------------------------------------------
    async def open_page(self) -> None:
        t0, phase = time.perf_counter(), self.phase()
        await self.connect()
        self.reader_task = asyncio.create_task(self.reader())
        done = self.page.full_runs
        await self.rerun()
        page = self.page
        await self.wait_for("page load", lambda: page.full_runs > done and bool(page.bridge))
        self.keep("page_ms", (time.perf_counter() - t0) * 1e3, phase)
        self.target = int(page.bridge["step"])

    async def click(self, step: int) -> None:
        self.seq += 1
        self.target = step
        self.sent_at[self.seq] = (time.perf_counter(), bool(self.sync_at), self.phase())
        await self.rerun(self.page.bridge_fragment, self.trigger(self.page.bridge_id, "seek",
                                                                   {"step": step, "seq": self.seq}))

    async def burst(self, clicks: int) -> None:
        """Clicks on Forward (or Back at the end), each sent at once; then wait for the last one's ack."""
        steps, phase = int(self.page.bridge.get("steps", 1)), self.phase()
        for k in range(clicks):
            if k:
                await asyncio.sleep(self.rng.uniform(0.08, 0.2))  # a person's quick clicks, not a sync
            forward = self.target < steps - 1 and (self.target == 0 or self.rng.random() < 0.85)
            await self.click(max(0, min(steps - 1, self.target + (1 if forward else -1))))
        self.count("bursts", phase)
        page, last = self.page, self.seq
        try:
            await self.wait_for("step", lambda: int(page.bridge.get("ack", 0)) >= last)
        except StudentError:
            self.count("lost", phase)
            raise
        if int(page.bridge["step"]) != self.target:
            self.count("lost", phase)

    async def follow(self) -> None:
        """The memory chart's follower: once stepping pauses, ask its fragment to catch up (if it shows
        another step than the bridge)."""
        if self.page.follower_id and self.page.follower_step != self.target:
            self.stats.syncs += 1
            self.sync_at, self.sync_phase = time.perf_counter(), self.phase()
            self.sync_done = self.page.fragment_done[self.page.follower_fragment]
            self.sync_step = self.target
            await self.rerun(self.page.follower_fragment, self.trigger(self.page.follower_id, "sync", self.target))

    async def switch_task(self) -> None:
        wid, options = self.page.widgets["Task"]
        current = self.page.states[wid].string_value
        self.page.states[wid] = WidgetState(id=wid, string_value=self.rng.choice([o for o in options if o != current]))
        phase = self.phase()
        self.keep("switch_ms", await self.full_rerun("task switch"), phase)
        self.target = int(self.page.bridge["step"])

    async def upload(self, n: int) -> None:
        page = self.page
        wid, options = page.widgets["Sequence"]
        if "Sequence file" not in page.widgets:
            page.states[wid] = WidgetState(id=wid, string_value=options[-1])  # "Upload a file"
            await self.full_rerun("upload: the uploader appears")
        if "Sequence file" not in page.widgets:
            raise StudentError("upload: no file uploader on the page")
        uploader = page.widgets["Sequence file"][0]
        steps = 150 + 10 * self.idx + n
        name, body = f"student{self.idx}_{n}.csv", csv_for(self.idx * 100 + n, steps)
        t0, phase = time.perf_counter(), self.phase()
        m = BackMsg()
        rid = str(uuid.uuid4())
        m.file_urls_request.request_id = rid
        m.file_urls_request.file_names.append(name)
        m.file_urls_request.session_id = page.session_id
        await self.ws.send(m.SerializeToString())
        await self.wait_for("upload: file URLs", lambda: rid in page.file_urls)
        resp = page.file_urls.pop(rid)
        if resp.error_msg or not resp.file_urls:
            raise StudentError(f"upload: file URLs refused: {resp.error_msg[:80]}")
        urls = resp.file_urls[0]
        put_url = urls.upload_url if urls.upload_url.startswith("http") else self.url + urls.upload_url
        put = await asyncio.to_thread(
            self.http.put, put_url, files={"file": (name, body, "text/csv")},
            headers={"X-Xsrftoken": self.http.cookies.get("_streamlit_xsrf", "")}, timeout=self.args.timeout)
        if put.status_code not in (200, 204):
            raise StudentError(f"upload: PUT answered {put.status_code}")
        state = WidgetState(id=uploader)
        info = state.file_uploader_state_value.uploaded_file_info.add()
        info.name, info.size, info.file_id = name, len(body), urls.file_id
        info.file_urls.CopyFrom(urls)
        page.states[uploader] = state
        await self.full_rerun("upload: page with the file")
        if int(page.bridge.get("steps", 0)) != steps:
            raise StudentError("upload: the page does not show the file")
        self.keep("upload_ms", (time.perf_counter() - t0) * 1e3, phase)
        self.target = int(page.bridge["step"])

    async def run(self, start_at: float) -> None:
        await asyncio.sleep(max(0.0, start_at - time.perf_counter()))  # arrival time, not a sync
        try:
            await self.open_page()
            span = max(1.0, self.plan_until - time.perf_counter())
            now = time.perf_counter()
            plan = sorted([(now + self.rng.uniform(0.1, 0.9) * span, "switch") for _ in range(self.args.switches)]
                          + [(now + self.rng.uniform(0.1, 0.9) * span, "upload") for _ in range(self.args.uploads)])
            uploads = 0
            while time.perf_counter() < self.deadline or plan:  # what was planned is done, late or not
                if plan and plan[0][0] <= time.perf_counter():
                    _, what = plan.pop(0)
                    if what == "switch":
                        await self.switch_task()
                    else:
                        uploads += 1
                        await self.upload(uploads)
                else:
                    await self.burst(1 if self.rng.random() < 0.75 else self.rng.randint(2, 4))
                think = self.rng.uniform(*self.args.think)  # reading the numbers: a person's pace
                if think > FOLLOW_QUIET_S:
                    await asyncio.sleep(FOLLOW_QUIET_S)
                    await self.follow()
                    think -= FOLLOW_QUIET_S
                await asyncio.sleep(think)
            await self.burst(3)  # the last word: is the step shown the step asked for?
            self.stats.students_done += 1
        except StudentError as e:
            self.error(str(e)[:90])
        except (OSError, websockets.WebSocketException, requests.RequestException) as e:
            self.error(f"connection: {type(e).__name__}")
        finally:
            self.sent_at.clear()
            await self.close()

    async def close(self) -> None:
        """The websocket, its reader and the HTTP session, closed."""
        if self.ws is not None:
            await self.ws.close()
        if self.reader_task is not None:
            self.reader_task.cancel()
            with contextlib.suppress(BaseException):
                await self.reader_task
        self.http.close()


class Trainer(Student):
    """One more student, on the Train page (--with-training): sets the page's own widgets (one model, a time
    budget longer than a phase, no early stopping), presses its Start button, and while the models train
    polls as the browser does: the live fragment's `run_every` arrives as an auto_rerun message, and the
    browser then sends a fragment rerun (is_auto_rerun) every period, whether or not the last one has been
    answered (App.handleAutoRerun's setInterval), until a full run or stop_auto_rerun drops the timer. At a
    phase's end it presses Stop and waits for the results (the run that draws the Start button again)."""

    START, STOP = "▶", "■"  # the Start and Stop buttons' labels begin so

    def __init__(self, url: str, args, stats: Stats, clock: Clock) -> None:
        super().__init__(-1, url, args, stats, float("inf"), clock)
        self.timers: dict[str, tuple[float, asyncio.Task]] = {}  # fragment id -> (period, the timer's task)
        self.poll_at = 0.0  # when the oldest unanswered poll was sent (0: none)
        self.poll_frag = ""
        self.poll_done = 0
        self.poll_phase: Phase | None = None
        self.epoch = 0  # the highest epoch a progress bar shows

    def on_message(self, now: float) -> None:
        page = self.page
        for frag in [f for f in self.timers if page.auto_reruns.get(f) != self.timers[f][0]]:
            self.timers.pop(frag)[1].cancel()  # App.clearAutoRerunInterval
        for frag, period in page.auto_reruns.items():
            if frag not in self.timers:
                self.timers[frag] = (period, asyncio.create_task(self._every(frag, period)))
        if self.poll_at and page.fragment_done[self.poll_frag] > self.poll_done:
            self.keep_poll((now - self.poll_at) * 1e3)
            self.poll_at = 0.0
        for text in page.progress:
            m = re.search(r"epoch (\d+) of", text)
            if m:
                self.epoch = max(self.epoch, int(m.group(1)))

    def keep_poll(self, ms: float) -> None:
        if self.poll_phase is not None and self.poll_phase is self.phase():
            self.poll_phase.polls.append(ms)

    async def _every(self, frag: str, period: float) -> None:
        while True:
            await asyncio.sleep(period)  # the browser's setInterval: a period, not a sync
            if not self.poll_at:
                self.poll_at, self.poll_frag, self.poll_phase = time.perf_counter(), frag, self.phase()
                self.poll_done = self.page.fragment_done[frag]
            with contextlib.suppress(websockets.WebSocketException):
                await self.rerun(frag, auto=True)

    def button(self, prefix: str) -> tuple[str, str] | None:
        return next((v for k, v in self.page.buttons.items() if k.startswith(prefix)), None)

    async def open_train(self) -> None:
        page = self.page
        await self.connect()
        self.reader_task = asyncio.create_task(self.reader())
        done = page.full_runs
        await self.rerun(page_name="train")  # the address /train, as a link or the navigation opens it
        await self.wait_for("Train page load", lambda: page.full_runs > done and self.button(self.START) is not None)
        # the page's own widgets, one change at a time as a person makes them (each is a full rerun)
        settings = [("Model 3", "no model"), ("Model 2", "no model")][: 3 - self.args.train_models]
        settings += [("Time budget in seconds", int(self.args.phase_seconds + 60)), ("At most epochs", 10_000),
                     ("Early stopping patience", 10_000)]
        for label, value in settings:
            if label not in page.widgets:
                raise StudentError(f"trainer: no widget {label!r} on the Train page")
            wid, _ = page.widgets[label]
            page.states[wid] = (WidgetState(id=wid, string_value=value) if isinstance(value, str)
                                else WidgetState(id=wid, int_value=value))
            await self.full_rerun(f"trainer: set {label}")

    async def start(self) -> None:
        """Press Start; return once a model trains (its progress bar counts epochs)."""
        page, start = self.page, self.button(self.START)
        if start is None:
            raise StudentError("trainer: no Start button")
        self.epoch = 0
        await self.rerun(start[1], WidgetState(id=start[0], trigger_value=True))
        await self.wait_for("trainer: training starts", lambda: any("epoch" in t for t in page.progress),
                            timeout=max(self.args.timeout, 120.0))  # the first job may wait for the forkserver

    async def stop(self) -> None:
        """Press Stop; return once the page shows the results (the Start button is back, no polling)."""
        page, stop = self.page, self.button(self.STOP)
        if stop is None:
            raise StudentError("trainer: no Stop button (did the training end by itself?)")
        done = page.full_runs
        await self.rerun(stop[1], WidgetState(id=stop[0], trigger_value=True))
        await self.wait_for("trainer: training stops",
                            lambda: page.full_runs > done and not page.auto_reruns and self.button(self.START),
                            timeout=max(self.args.timeout, 60.0))

    async def close(self) -> None:
        for _, task in self.timers.values():
            task.cancel()
        self.timers.clear()
        await super().close()


# -- the server and the machine ---------------------------------------------------------------------------
def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def load1() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def procs_running() -> int:
    """The machine's run queue now (/proc/stat procs_running): the load of this instant, where the 1-minute
    load average would blur phases of 20 s into each other."""
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("procs_running"):
            return int(line.split()[1])
    return 0


def descendants(pid: int) -> list[int]:
    """The processes under `pid` (a server's training forkserver and its jobs)."""
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(d.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


@contextlib.contextmanager
def fresh_server(extra: list[str], timeout: float = 90.0):
    """`streamlit run app/streamlit_app.py` on a free loopback port, as harness.app_server starts it, but
    with its output in a file (a pipe nobody reads could fill up under load); yields (url, pid)."""
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="class_load_", suffix=".log", delete=False)  # noqa: SIM115
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app" / "streamlit_app.py"), "--server.port",
           str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
           "--browser.gatherUsageStats", "false", *extra]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    url = f"http://127.0.0.1:{port}"
    try:
        problem = wait_healthy(proc, url, time.perf_counter(), timeout)
        if problem:
            raise RuntimeError(f"streamlit {problem}; log: {log.name}")
        yield url, proc.pid
    finally:
        stop(proc)
        log.close()


async def sample(pids: list[int], box: dict, stop_event: asyncio.Event) -> None:
    """Every half second: the servers' summed RSS and the load average (their maxima)."""
    while not stop_event.is_set():
        box["rss_peak"] = max(box["rss_peak"], sum(rss_mb(p) for p in pids))
        box["load_max"] = max(box["load_max"], load1())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop_event.wait(), 0.5)


async def warm_up(url: str, args, pids: list[int]) -> None:
    """Warm-up pages (imports, compiled loops, shared caches), so that "idle" is a server that has served a
    page: behind a proxy, until every process has served one (its CPU time jumps), at most 4 tries each."""
    cold = set(pids)
    for k in range(max(1, 4 * len(pids))):
        before = {p: cpu_seconds(p) for p in pids}
        warm = Stats()
        await Student(10_000 + k, url, argparse.Namespace(**{**vars(args), "switches": 0, "uploads": 0}), warm,
                      0.0).run(0.0)
        if warm.errors:
            raise RuntimeError(f"a warm-up page failed: {dict(warm.errors)}")
        if pids:
            cold.discard(max(pids, key=lambda p: cpu_seconds(p) - before[p]))  # the one that served it
        if not cold:
            return
    print(f"warning: {len(cold)} of the servers got no warm-up page (pids {sorted(cold)})", flush=True)


async def watch_phase(phase: Phase, pids: list[int], stop_event: asyncio.Event) -> None:
    """Every half second while a phase lasts: the run queue, and the CPU time of the server's children (a
    process seen first after the phase began counts whole; one that ends between samples loses < 0.5 s)."""
    first: dict[int, float] = {}
    last: dict[int, float] = {}
    began = False
    while True:
        phase.running.append(procs_running())
        for pid in pids:
            for child in descendants(pid):
                cpu = cpu_seconds(child)
                if cpu == cpu:  # not nan: still there
                    first.setdefault(child, cpu if not began else 0.0)
                    last[child] = cpu
        began = True
        phase.train_cpu = sum(last[c] - first[c] for c in last)
        if stop_event.is_set():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop_event.wait(), 0.5)


async def conduct(trainer: Trainer, clock: Clock, students: list[Student], args, pids: list[int], start_at: float,
                  errors: Counter) -> None:
    """The phases of a --with-training run, in ABBA order (idle, training, training, idle, ...) so that a drift
    in the machine's load falls on both kinds alike; then every student's deadline is now."""
    await asyncio.sleep(max(0.0, start_at - time.perf_counter()))  # until every student has arrived: not a sync
    try:
        for kind in ("idle", "training", "training", "idle") * args.cycles:
            if kind == "training":
                await trainer.start()
            phase = Phase(kind)
            phase.t0, phase.load_start = time.perf_counter(), load1()
            cpu0 = sum(cpu_seconds(p) for p in pids)
            done = asyncio.Event()
            watcher = asyncio.create_task(watch_phase(phase, pids, done))
            clock.current = phase
            clock.phases.append(phase)
            epoch0 = trainer.epoch
            await asyncio.sleep(args.phase_seconds)  # the phase's length: not a sync
            clock.current = None
            phase.t1, phase.load_end = time.perf_counter(), load1()
            phase.server_cpu = sum(cpu_seconds(p) for p in pids) - cpu0
            done.set()
            await watcher
            if kind == "training":
                phase.epochs = trainer.epoch - epoch0
                await trainer.stop()
    except StudentError as e:
        errors[str(e)[:90]] += 1
    except (OSError, websockets.WebSocketException) as e:
        errors[f"trainer: connection: {type(e).__name__}"] += 1
    finally:
        clock.current = None
        now = time.perf_counter()
        for s in students:
            s.deadline = min(s.deadline, now)


def phase_figures(phases: list[Phase]) -> dict:
    """The figures of all phases of one kind, pooled."""
    st = Stats()
    for ph in phases:
        for name in ("step_ms", "sync_ms", "switch_ms", "upload_ms", "page_ms"):
            getattr(st, name).extend(getattr(ph.stats, name))
        st.bursts += ph.stats.bursts
        st.lost += ph.stats.lost
        st.errors.update(ph.stats.errors)
    secs = sum(ph.t1 - ph.t0 for ph in phases) or float("nan")
    running = [r for ph in phases for r in ph.running]
    polls = [ms for ph in phases for ms in ph.polls]
    return {
        "phases": len(phases), "seconds": secs,
        "step_p50": pct(st.step_ms, 50), "step_p95": pct(st.step_ms, 95), "steps": len(st.step_ms),
        "steps_per_s": len(st.step_ms) / secs, "sync_p50": pct(st.sync_ms, 50), "sync_p95": pct(st.sync_ms, 95),
        "switch_p50": pct(st.switch_ms, 50), "upload_p50": pct(st.upload_ms, 50),
        "bursts": st.bursts, "lost": st.lost, "errors": dict(st.errors),
        "run_queue": statistics.fmean(running) if running else float("nan"),
        "load": [(ph.load_start, ph.load_end) for ph in phases],
        "server_cpu_pct": sum(ph.server_cpu for ph in phases) / secs * 100,
        "train_cpu_pct": sum(ph.train_cpu for ph in phases) / secs * 100,
        "epochs": [ph.epochs for ph in phases], "poll_p50": pct(polls, 50), "poll_p95": pct(polls, 95),
        "polls": len(polls),
    }


async def one_run(url: str, n: int, args, pids: list[int]) -> dict:
    await warm_up(url, args, pids)
    stats = Stats()
    if args.with_training:
        # the trainer opens the Train page (the server's pool and its forkserver start), sets it up, and trains
        # once for a few seconds before anyone is measured, so the forkserver's imports fall in no phase
        clock = Clock()
        trainer = Trainer(url, args, stats, clock)
        try:
            await trainer.open_train()
            await trainer.start()
            await trainer.stop()
        except StudentError:
            await trainer.close()
            raise
        args.seconds = 4 * args.cycles * (args.phase_seconds + 3) + SETTLE_SECONDS  # the students' plans' span
    box = {"rss_idle": sum(rss_mb(p) for p in pids), "rss_peak": 0.0, "load_start": load1(), "load_max": 0.0}
    cpu0, mine0, t0 = sum(cpu_seconds(p) for p in pids), time.process_time(), time.perf_counter()
    deadline = t0 + args.ramp + args.seconds
    done = asyncio.Event()
    sampler = asyncio.create_task(sample(pids, box, done))
    if not args.with_training:
        students = [Student(k, url, args, stats, deadline) for k in range(n)]
        await asyncio.gather(*(s.run(t0 + args.ramp * k / n) for k, s in enumerate(students)))
    else:
        students = [Student(k, url, args, stats, float("inf"), clock) for k in range(n)]
        for s in students:
            s.plan_until = deadline
        arrived = t0 + args.ramp + SETTLE_SECONDS
        await asyncio.gather(conduct(trainer, clock, students, args, pids, arrived, stats.errors),
                             *(s.run(t0 + args.ramp * k / n) for k, s in enumerate(students)))
        await trainer.close()
    wall = time.perf_counter() - t0
    done.set()
    await sampler
    box["rss_end"] = sum(rss_mb(p) for p in pids)
    extra = {}
    if args.with_training:
        idle = phase_figures([ph for ph in clock.phases if ph.kind == "idle"])
        busy = phase_figures([ph for ph in clock.phases if ph.kind == "training"])
        extra = {"idle": idle, "training": busy, "train_models": args.train_models,
                 "ratio_p50": busy["step_p50"] / idle["step_p50"], "ratio_p95": busy["step_p95"] / idle["step_p95"],
                 "phase_list": [{"kind": ph.kind, "step_p50": pct(ph.stats.step_ms, 50),
                                 "step_p95": pct(ph.stats.step_ms, 95), "steps": len(ph.stats.step_ms),
                                 "run_queue": statistics.fmean(ph.running) if ph.running else float("nan"),
                                 "epochs": ph.epochs, "train_cpu": ph.train_cpu, "server_cpu": ph.server_cpu}
                                for ph in clock.phases]}
    return {
        **extra,
        "sessions": n, "seconds": round(wall, 1),
        "page_p50": pct(stats.page_ms, 50), "page_p95": pct(stats.page_ms, 95),
        "step_p50": pct(stats.step_ms, 50), "step_p95": pct(stats.step_ms, 95), "steps": len(stats.step_ms),
        "behind_p50": pct(stats.step_behind_ms, 50), "behind": len(stats.step_behind_ms),
        "sync_p50": pct(stats.sync_ms, 50), "sync_p95": pct(stats.sync_ms, 95),
        "steps_per_s": len(stats.step_ms) / wall, "bursts": stats.bursts, "lost": stats.lost, "syncs": stats.syncs,
        "switch_p50": pct(stats.switch_ms, 50), "switches": len(stats.switch_ms),
        "upload_p50": pct(stats.upload_ms, 50), "uploads": len(stats.upload_ms),
        "errors": dict(stats.errors), "students_done": stats.students_done, "mb_in": stats.bytes_in / 2**20,
        "rss_idle": box["rss_idle"], "rss_peak": box["rss_peak"], "rss_end": box["rss_end"],
        "rss_per_session": (box["rss_peak"] - box["rss_idle"]) / n if pids else float("nan"),
        "server_cpu_pct": (sum(cpu_seconds(p) for p in pids) - cpu0) / wall * 100 if pids else float("nan"),
        "client_cpu_pct": (time.process_time() - mine0) / wall * 100,
        "load_start": box["load_start"], "load_end": load1(), "load_max": box["load_max"],
    }


def report(r: dict) -> str:
    errors = ", ".join(f"{k} ×{v}" for k, v in sorted(r["errors"].items())) or "none"
    return (f"N={r['sessions']:>3}  {r['seconds']:.0f} s  students finished {r['students_done']}/{r['sessions']}\n"
            f"  page load   p50 {r['page_p50']:7.0f} ms  p95 {r['page_p95']:7.0f} ms\n"
            f"  step        p50 {r['step_p50']:7.0f} ms  p95 {r['step_p95']:7.0f} ms  ({r['steps']} clicks answered, "
            f"{r['steps_per_s']:.1f}/s)\n"
            f"  memory chart catch-up (follower sync) p50 {r['sync_p50']:.0f} ms  p95 {r['sync_p95']:.0f} ms "
            f"({r['syncs']}); clicks sent while it ran: {r['behind']}, p50 {r['behind_p50']:.0f} ms\n"
            f"  lost steps  {r['lost']} of {r['bursts']} bursts    errors: {errors}\n"
            f"  task switch p50 {r['switch_p50']:7.0f} ms ({r['switches']})   upload p50 {r['upload_p50']:7.0f} ms "
            f"({r['uploads']})\n"
            f"  server RSS  idle {r['rss_idle']:.0f} MB  peak {r['rss_peak']:.0f} MB  end {r['rss_end']:.0f} MB  "
            f"per session {r['rss_per_session']:.1f} MB   server CPU {r['server_cpu_pct']:.0f}% of a core\n"
            f"  client CPU {r['client_cpu_pct']:.0f}% of a core, {r['mb_in']:.1f} MB received   load average (1 min) "
            f"start {r['load_start']:.2f} end {r['load_end']:.2f} max {r['load_max']:.2f}")


def report_training(r: dict) -> str:
    each = r["idle"]["seconds"] / max(1, r["idle"]["phases"])
    lines = [f"  with one student training ({r['train_models']} model(s)), phases of {each:.0f} s in ABBA order; "
             "figures of the clicks sent and answered within one phase:"]
    for kind in ("idle", "training"):
        f = r[kind]
        errors = ", ".join(f"{k} ×{v}" for k, v in sorted(f["errors"].items())) or "none"
        load = ", ".join(f"{a:.1f}→{b:.1f}" for a, b in f["load"])
        lines.append(
            f"  {kind:>8}: step p50 {f['step_p50']:6.0f} ms  p95 {f['step_p95']:6.0f} ms ({f['steps']} clicks, "
            f"{f['steps_per_s']:.1f}/s)  lost {f['lost']} of {f['bursts']}  errors: {errors}\n"
            f"            memory catch-up p50 {f['sync_p50']:.0f} ms  switch p50 {f['switch_p50']:.0f} ms  upload p50 "
            f"{f['upload_p50']:.0f} ms  server CPU {f['server_cpu_pct']:.0f}%  training CPU {f['train_cpu_pct']:.0f}%\n"
            f"            run queue mean {f['run_queue']:.1f}  load average (1 min) per phase {load}"
            + (f"\n            trainer: epochs per phase {f['epochs']}, poll (auto rerun -> fragment done) p50 "
               f"{f['poll_p50']:.0f} ms p95 {f['poll_p95']:.0f} ms ({f['polls']})" if kind == "training" else ""))
    lines.append(f"  training / idle: step p50 ×{r['ratio_p50']:.2f}  p95 ×{r['ratio_p95']:.2f}")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", default="10,30,60", help="comma-separated numbers of students, one run each")
    ap.add_argument("--seconds", type=float, default=30.0, help="how long the students act, after the ramp")
    ap.add_argument("--ramp", type=float, default=5.0, help="students arrive spread over this many seconds")
    ap.add_argument("--think", default="0.5,2.5", help="a student's pause between actions: min,max seconds")
    ap.add_argument("--switches", type=int, default=1, help="task switches per student")
    ap.add_argument("--uploads", type=int, default=1, help="file uploads per student")
    ap.add_argument("--timeout", type=float, default=30.0, help="longest wait for any one answer (s)")
    ap.add_argument("--url", help="an existing server or proxy on loopback, instead of a fresh server per run")
    ap.add_argument("--pids", default="", help="with --url: the app processes' ids, for memory and CPU")
    ap.add_argument("--server-args", default="",
                    help='without --url: more `streamlit run` flags, e.g. "--server.fileWatcherType none"')
    ap.add_argument("--json", help="append the figures as JSON lines to this file")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each N (a fresh server each, without --url)")
    ap.add_argument("--with-training", action="store_true",
                    help="one more student trains on the Train page in alternate phases; compares the phases")
    ap.add_argument("--phase-seconds", type=float, default=20.0, help="with --with-training: one phase's length")
    ap.add_argument("--cycles", type=int, default=2,
                    help="with --with-training: rounds of 4 phases (idle, training, training, idle)")
    ap.add_argument("--train-models", type=int, default=1, choices=(1, 2, 3),
                    help="with --with-training: models the trainer trains at once (the page's default is 3)")
    args = ap.parse_args()
    args.think = tuple(float(v) for v in args.think.split(","))
    sessions = [int(v) for v in args.sessions.split(",")]
    if args.url and urlsplit(args.url).hostname not in LOOPBACK:
        ap.error("--url must be a loopback address (this is a load test)")
    for n in [n for n in sessions for _ in range(args.repeat)]:
        if args.url:
            pids = [int(p) for p in args.pids.split(",") if p.strip()]
            result = asyncio.run(one_run(args.url.rstrip("/"), n, args, pids))
            result["target"] = args.url
        else:
            with fresh_server(shlex.split(args.server_args)) as (url, pid):
                result = asyncio.run(one_run(url, n, args, [pid]))
            result["target"] = f"fresh server {args.server_args}".strip()
        print(f"[{result['target']}]", report(result), flush=True)
        if args.with_training:
            print(report_training(result), flush=True)
        if args.json:
            with open(args.json, "a") as f:
                f.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
