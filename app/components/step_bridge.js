// Step bridge: lives in the stepping fragment. Each fragment run hands it the current step, which it
// broadcasts to the trace view (cursor); it turns clicks on the trace view and the arrow keys into an
// absolute step for Python (trigger "seek"), so quick repeated presses are never lost or merged.

const STEP_EVENT = "lstmlab:step";
const SEEK_EVENT = "lstmlab:seek";

function typingInto(el) {
  if (!el) return false;
  const tag = (el.tagName || "").toLowerCase();
  return tag === "input" || tag === "textarea" || tag === "select" || el.isContentEditable
    || el.getAttribute?.("role") === "slider" || el.getAttribute?.("role") === "combobox";
}

export default function (component) {
  const { data, setTriggerValue, parentElement } = component;
  const steps = data?.steps ?? 1;
  let step = data?.step ?? 0;
  window.__lstmlabStep = step;
  window.dispatchEvent(new CustomEvent(STEP_EVENT, { detail: { step } }));
  const marker = parentElement.querySelector?.(".lstmlab-bridge") ?? document.createElement("div");
  marker.className = "lstmlab-bridge";
  marker.dataset.step = String(step);
  marker.textContent = "Keys: ← → step · Home / End jump · click a heatmap to jump there";
  if (!marker.parentNode) parentElement.appendChild(marker);
  const go = (t) => {
    step = Math.max(0, Math.min(steps - 1, t));
    window.__lstmlabStep = step;
    window.dispatchEvent(new CustomEvent(STEP_EVENT, { detail: { step } })); // the cursor moves at once
    setTriggerValue("seek", step);
  };
  const onSeek = (e) => go(e.detail.step);
  const onKey = (e) => {
    if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey || typingInto(document.activeElement)) return;
    const moves = { ArrowRight: step + 1, ArrowLeft: step - 1, Home: 0, End: steps - 1,
      PageDown: step + 10, PageUp: step - 10 };
    if (e.key in moves) { e.preventDefault(); go(moves[e.key]); }
  };
  window.addEventListener(SEEK_EVENT, onSeek);
  document.addEventListener("keydown", onKey);
  return () => {
    window.removeEventListener(SEEK_EVENT, onSeek);
    document.removeEventListener("keydown", onKey);
  };
}
