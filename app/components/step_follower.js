// Step follower: sits in a slower fragment (the memory chart) and asks Python to redraw it with the
// current step once stepping pauses (600 ms without a new step), so the redraw never competes with a
// step for the server.

const STEP_EVENT = "lstmlab:step";
const QUIET_MS = 600;

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
  return () => {
    window.removeEventListener(STEP_EVENT, onStep);
    if (timer !== null) clearTimeout(timer);
  };
}
