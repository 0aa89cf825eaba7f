// Step bridge: the browser's half of the stepping protocol (app/stepping.py explains the whole of it).
//
// The browser owns the step while the person moves it. ◀ Back, Forward ▶, the time slider, the arrow
// keys, Home/End, Page Up/Down and clicks on a heatmap all compute an absolute target from the step the
// browser shows *at the moment of the event*, move the cursor at once, and send {step, seq} to Python
// (trigger "seek"). The slider is ours, not a Streamlit widget: a widget's value travels with every
// rerun request, so a timer tick could carry a stale slider value back and pull the step backwards. Python applies the step and echoes `ack` = the highest seq it has applied. Until the ack of
// the last request arrives, a render carrying an older step does not pull the browser's step back, so
// a click made while a rerun is in flight still lands where the person asked, and coalesced reruns only
// drop intermediate steps, never the final one.
//
// Listeners are registered once per page (not once per render): each render only updates the shared
// state object they read, so there is never a stale listener holding an old step.

const STEP_EVENT = "lstmlab:step";
const SEEK_EVENT = "lstmlab:seek";
const PENDING_MS = 4000; // after this long without an ack, the server's step wins (e.g. it restarted)
const URL_DELAY_MS = 300; // the address bar follows the step this long after the last move

function typingInto(el) {
  while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
  if (!el) return false;
  const tag = (el.tagName || "").toLowerCase();
  return tag === "input" || tag === "textarea" || tag === "select" || el.isContentEditable
    || el.getAttribute?.("role") === "slider" || el.getAttribute?.("role") === "combobox";
}

function shared() {
  if (window.__lstmlabBridge) return window.__lstmlabBridge;
  const S = { step: 0, steps: 1, seq: 0, sentAt: 0, send: null, roots: new Set(), playing: false,
    views: new Map(), viewShown: null };
  // The step view shows the numbers of the step on screen, from Python's views: the current one and the
  // steps one move away, which Python sends with every step so a move shows its numbers at once.
  S.showView = () => {
    const view = S.views.get(S.step);
    if (!view || view === S.viewShown) return;
    S.viewShown = view;
    window.__lstmlabPendingView = view;
    window.__lstmlabStepView?.(view);
  };
  S.show = () => {
    S.showView();
    window.__lstmlabStep = S.step;
    window.dispatchEvent(new CustomEvent(STEP_EVENT, { detail: { step: S.step, steps: S.steps } }));
    for (const root of S.roots) {
      if (!root.isConnected) { S.roots.delete(root); continue; }
      for (const b of root.querySelectorAll(".lstmlab-step-button")) {
        b.disabled = b.dataset.move === "-1" ? S.step <= 0 : S.step >= S.steps - 1;
      }
      const play = root.querySelector(".lstmlab-play");
      play.textContent = S.playing ? "⏸ Pause" : "▶ Play";
      play.setAttribute("aria-pressed", String(S.playing));
      play.disabled = S.steps <= 1;
      const range = root.querySelector("input[type=range]");
      range.max = String(Math.max(1, S.steps - 1));
      range.disabled = S.steps <= 1;
      if (document.activeElement !== range || Number(range.value) !== S.step) range.value = String(S.step);
      range.setAttribute("aria-valuetext", `step ${S.step} of ${S.steps - 1}`);
      root.querySelector(".lstmlab-step-now").textContent = `t = ${S.step}`;
      root.dataset.step = String(S.step);
    }
    // the address bar carries the step (history.replaceState: no history entry per step), once the
    // person pauses: writing it on every step of a quick run costs each step a few milliseconds
    clearTimeout(S.urlTimer);
    S.urlTimer = setTimeout(() => {
      const url = new URL(window.location.href);
      if (S.step > 0) url.searchParams.set("step", String(S.step)); else url.searchParams.delete("step");
      if (url.href !== window.location.href) window.history.replaceState(window.history.state, "", url.href);
    }, URL_DELAY_MS);
  };
  S.go = (target) => {
    if (!S.send) return;
    const t = Math.max(0, Math.min(S.steps - 1, Math.round(target)));
    if (t === S.step && S.seq > 0 && performance.now() - S.sentAt < PENDING_MS) return;
    S.step = t;
    S.seq += 1;
    S.sentAt = performance.now();
    S.send("seek", { step: t, seq: S.seq });
    setTimeout(S.show, 0); // the cursor after the request: Streamlit sends it from a setTimeout(0) of its own
  };
  S.play = (on) => {
    if (!S.send) return;
    S.playing = on;
    S.seq += 1;
    S.sentAt = performance.now();
    // a pause carries the step on screen: a timer tick the server ran after it drew that step must not move it
    S.send("play", { playing: on, seq: S.seq, step: S.step });
    setTimeout(S.show, 0);
  };
  window.addEventListener(SEEK_EVENT, (e) => S.go(e.detail.step));
  document.addEventListener("keydown", (e) => {
    if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey || typingInto(document.activeElement)) return;
    const moves = { ArrowRight: S.step + 1, ArrowLeft: S.step - 1, Home: 0, End: S.steps - 1,
      PageDown: S.step + 10, PageUp: S.step - 10 };
    if (e.key in moves) { e.preventDefault(); S.go(moves[e.key]); }
  });
  window.__lstmlabBridge = S;
  return S;
}

function button(label, move, title) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "lstmlab-step-button";
  b.dataset.move = String(move);
  b.textContent = label;
  b.title = title;
  return b;
}

export default function (component) {
  const { data, setTriggerValue, parentElement } = component;
  const S = shared();
  const token = {};
  S.token = token;
  S.send = setTriggerValue;
  S.steps = Math.max(1, data?.steps ?? 1);
  const fresh = (data?.ack ?? 0) >= S.seq || performance.now() - S.sentAt > PENDING_MS;
  if (fresh) {
    S.step = data?.step ?? 0;
    S.playing = Boolean(data?.playing);
  }
  S.step = Math.max(0, Math.min(S.steps - 1, S.step));
  let root = parentElement.querySelector(".lstmlab-bridge");
  if (!root) {
    root = document.createElement("div");
    root.className = "lstmlab-bridge";
    const back = button("◀ Back", -1, "One step back (←)");
    const forward = button("Forward ▶", 1, "One step forward (→)");
    back.addEventListener("click", () => S.go(S.step - 1));
    forward.addEventListener("click", () => S.go(S.step + 1));
    const play = button("▶ Play", 0, "Play through the sequence at the speed chosen in the sidebar");
    play.classList.replace("lstmlab-step-button", "lstmlab-play");
    play.addEventListener("click", () => S.play(!S.playing));
    const range = document.createElement("input");
    range.type = "range";
    range.min = "0";
    range.step = "1";
    range.className = "lstmlab-step-range";
    range.setAttribute("aria-label", "Time step t");
    range.addEventListener("input", () => S.go(Number(range.value)));
    const now = document.createElement("span");
    now.className = "lstmlab-step-now";
    const hint = document.createElement("div");
    hint.className = "lstmlab-keys";
    hint.textContent = "Keys: ← → step · Home / End jump · Page Up / Down ±10 · click a heatmap to jump there";
    const row = document.createElement("div");
    row.className = "lstmlab-step-row";
    row.append(back, forward, play, range, now);
    root.append(row, hint);
    parentElement.appendChild(root);
  }
  S.roots.add(root);
  root.dataset.ack = String(data?.ack ?? 0); // the last request the server has applied (for tests and tools)
  if (data?.view) { // the step's numbers as JSON text, drawn by the step view's holder (components/step_view.js)
    S.views = new Map(Object.entries(JSON.parse(data.near || "{}")).map(([k, v]) => [Number(k), v]));
    S.views.set(data.step ?? 0, JSON.parse(data.view));
  }
  S.show();
  return () => { if (S.token === token) S.send = null; };
}
