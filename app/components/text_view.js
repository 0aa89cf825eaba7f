// Text as text: each character of a text input, coloured by one unit's C_t or h_t (Karpathy et al. 2015's
// "interpretable cell" view), the current step's character outlined. Every character is written with
// textContent (a file's text is never markup). A click on a character moves the step there; the outline
// follows the step bridge's step events. Python sends the characters, their colours and a caption.

const STEP_EVENT = "lstmlab:step";
const SEEK_EVENT = "lstmlab:seek";
const COLOUR = /^#[0-9a-fA-F]{6}$/;
const VISIBLE = { " ": "\u00a0", "\n": "\u21b5", "\t": "\u21e5" };

function mark(state, step) {
  if (state.current) state.current.classList.remove("lstmlab-text-now");
  state.current = state.spans[step] ?? null;
  if (state.current) state.current.classList.add("lstmlab-text-now");
  state.root.dataset.step = String(step);
}

export default function (component) {
  const { data, parentElement } = component;
  if (!data || !Array.isArray(data.chars)) return;
  let state = parentElement.__lstmlabTextView;
  if (!state) {
    const root = document.createElement("div");
    root.className = "lstmlab-text";
    const caption = document.createElement("div");
    caption.className = "lstmlab-text-caption";
    const body = document.createElement("div");
    body.className = "lstmlab-text-body";
    root.append(caption, body);
    parentElement.append(root);
    state = { root, caption, body, spans: [], current: null };
    parentElement.__lstmlabTextView = state;
    window.addEventListener(STEP_EVENT, (e) => { if (root.isConnected) mark(state, e.detail.step); });
    body.addEventListener("click", (e) => {
      const t = Number(e.target?.dataset?.t);
      if (Number.isInteger(t)) window.dispatchEvent(new CustomEvent(SEEK_EVENT, { detail: { step: t } }));
    });
  }
  state.caption.textContent = String(data.caption ?? "");
  const spans = data.chars.map((ch, t) => {
    const span = document.createElement("span");
    const text = String(ch);
    span.textContent = VISIBLE[text] ?? text;
    const fill = data.fill?.[t], ink = data.ink?.[t];
    if (typeof fill === "string" && COLOUR.test(fill)) span.style.backgroundColor = fill;
    if (typeof ink === "string" && COLOUR.test(ink)) span.style.color = ink;
    span.dataset.t = String(t);
    span.title = `step ${t}: ${data.values?.[t] ?? ""}`;
    return span;
  });
  state.body.replaceChildren(...spans);
  state.spans = spans;
  state.current = null;
  mark(state, window.__lstmlabStep ?? 0);
}
