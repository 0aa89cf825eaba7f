// Step bridge: the browser's half of the stepping protocol (app/stepping.py explains the whole of it).
//
// The browser owns the step while the person moves it. ◀ Back, Forward ▶, the arrow keys, Home/End,
// Page Up/Down and clicks on a heatmap all compute an absolute target from the step the browser shows
// *at the moment of the event*, move the cursor at once, and send {step, seq} to Python (trigger
// "seek"). Python applies the step and echoes `ack` = the highest seq it has applied. Until the ack of
// the last request arrives, a render carrying an older step does not pull the browser's step back, so
// a click made while a rerun is in flight still lands where the person asked, and coalesced reruns only
// drop intermediate steps, never the final one.
//
// Listeners are registered once per page (not once per render): each render only updates the shared
// state object they read, so there is never a stale listener holding an old step.

const STEP_EVENT = "lstmlab:step";
const SEEK_EVENT = "lstmlab:seek";
const PENDING_MS = 4000; // after this long without an ack, the server's step wins (e.g. it restarted)

function typingInto(el) {
  while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
  if (!el) return false;
  const tag = (el.tagName || "").toLowerCase();
  return tag === "input" || tag === "textarea" || tag === "select" || el.isContentEditable
    || el.getAttribute?.("role") === "slider" || el.getAttribute?.("role") === "combobox";
}

function shared() {
  if (window.__lstmlabBridge) return window.__lstmlabBridge;
  const S = { step: 0, steps: 1, seq: 0, sentAt: 0, send: null, buttons: new Set() };
  S.show = () => {
    window.__lstmlabStep = S.step;
    window.dispatchEvent(new CustomEvent(STEP_EVENT, { detail: { step: S.step, steps: S.steps } }));
    for (const b of S.buttons) {
      if (!b.isConnected) { S.buttons.delete(b); continue; }
      b.disabled = b.dataset.move === "-1" ? S.step <= 0 : S.step >= S.steps - 1;
    }
  };
  S.go = (target) => {
    if (!S.send) return;
    const t = Math.max(0, Math.min(S.steps - 1, Math.round(target)));
    if (t === S.step && S.seq > 0 && performance.now() - S.sentAt < PENDING_MS) return;
    S.step = t;
    S.seq += 1;
    S.sentAt = performance.now();
    S.show(); // the cursor moves at once
    S.send("seek", { step: t, seq: S.seq });
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
  if (fresh) S.step = data?.step ?? 0;
  S.step = Math.max(0, Math.min(S.steps - 1, S.step));
  if (!parentElement.querySelector(".lstmlab-bridge")) {
    const root = document.createElement("div");
    root.className = "lstmlab-bridge";
    const back = button("◀ Back", -1, "One step back (←)");
    const forward = button("Forward ▶", 1, "One step forward (→)");
    back.addEventListener("click", () => S.go(S.step - 1));
    forward.addEventListener("click", () => S.go(S.step + 1));
    const hint = document.createElement("span");
    hint.className = "lstmlab-keys";
    hint.textContent = "Keys: ← → step · Home / End jump · click a heatmap to jump there";
    root.append(back, forward, hint);
    parentElement.appendChild(root);
  }
  for (const b of parentElement.querySelectorAll(".lstmlab-step-button")) S.buttons.add(b);
  parentElement.querySelector(".lstmlab-bridge").dataset.step = String(S.step);
  S.show();
  return () => { if (S.token === token) S.send = null; };
}
