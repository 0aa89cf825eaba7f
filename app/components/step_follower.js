// Step follower: sits in a slower fragment (the memory chart) and asks Python to redraw it with the
// current step once stepping pauses (600 ms without a new step), so the redraw never competes with a
// step for the server. With data.wait (the session's first page), it asks once the trace view has drawn
// (components/trace_view.js says so), so the slower fragment never holds the first screen back.

const STEP_EVENT = "lstmlab:step";
const READY_EVENT = "lstmlab:trace-ready";
const QUIET_MS = 600;
const WAIT_AT_MOST_MS = 3000; // a page without a trace view

function whenTraceDrawn(go) {
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    window.removeEventListener(READY_EVENT, once);
    clearTimeout(timer);
    requestAnimationFrame(() => requestAnimationFrame(go)); // after the frame that shows it
  };
  const timer = setTimeout(once, WAIT_AT_MOST_MS);
  window.addEventListener(READY_EVENT, once);
  if (window.__lstmlabTraceDrawn) once();
  return () => { done = true; window.removeEventListener(READY_EVENT, once); clearTimeout(timer); };
}

export default function (component) {
  const { data, setTriggerValue } = component;
  const shown = data?.step ?? 0;
  let latest = window.__lstmlabStep ?? shown;
  let timer = null;
  const later = () => {
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(() => { timer = null; if (latest !== shown) setTriggerValue("sync", latest); }, QUIET_MS);
  };
  const onStep = (e) => { latest = e.detail.step; later(); };
  window.addEventListener(STEP_EVENT, onStep);
  if (latest !== shown) later();
  const unwait = data?.wait ? whenTraceDrawn(() => setTriggerValue("sync", latest)) : null;
  return () => {
    window.removeEventListener(STEP_EVENT, onStep);
    if (timer !== null) clearTimeout(timer);
    unwait?.();
  };
}
