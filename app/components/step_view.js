// Step view: the step in numbers (the equations with this step's values) and the cell diagrams.
//
// Python sends plain data (app/step_view.py): equations as text where `_{...}` marks a subscript, and
// for each diagram the name of an SVG template (shipped in assets/diagrams, given to this component as
// its trusted html) with the text and colours of its slots. Everything is written with textContent and
// setAttribute, so a column name or a character of an uploaded text is shown as text, never as markup.
// The diagrams are built once per template and only their slots change from step to step.

const COLOUR = /^#[0-9a-fA-F]{6}$/;
const SLOT = /\{\{(\w+)\}\}/g;

function richText(parent, text) {
  // "h_{t−1} = ..." -> text nodes and <sub> elements; nothing in `text` is parsed as markup
  let last = 0;
  for (const m of text.matchAll(/_\{([^}]*)\}/g)) {
    if (m.index > last) parent.append(document.createTextNode(text.slice(last, m.index)));
    const sub = document.createElement("sub");
    sub.textContent = m[1];
    parent.append(sub);
    last = m.index + m[0].length;
  }
  if (last < text.length) parent.append(document.createTextNode(text.slice(last)));
}

function equations(eqs, className) {
  const box = document.createElement("div");
  box.className = `lstmlab-eqs ${className}`;
  for (const e of eqs) {
    const row = document.createElement("div");
    row.className = "lstmlab-eq";
    const lhs = document.createElement("div");
    lhs.className = "lstmlab-eq-def";
    richText(lhs, e.eq);
    const rhs = document.createElement("div");
    rhs.className = "lstmlab-eq-num";
    for (const line of e.num) {
      const l = document.createElement("div");
      richText(l, line);
      rhs.append(l);
    }
    row.append(lhs, rhs);
    box.append(row);
  }
  return box;
}

function bind(svg) {
  // every {{slot}} in text nodes and attributes of the template, found once
  const bindings = [];
  const walk = (node) => {
    if (node.nodeType === Node.TEXT_NODE) {
      if (node.nodeValue.includes("{{")) bindings.push({ node, text: node.nodeValue });
      return;
    }
    if (node.nodeType !== Node.ELEMENT_NODE) return;
    for (const a of Array.from(node.attributes)) {
      if (a.value.includes("{{")) bindings.push({ node, attr: a.name, text: a.value });
    }
    for (const c of Array.from(node.childNodes)) walk(c);
  };
  walk(svg);
  return bindings;
}

function slotValue(name, d) {
  if (name.endsWith("_fill") || name.endsWith("_text")) {
    const base = name.slice(0, -5);
    const colour = (name.endsWith("_fill") ? d.fill : d.ink)?.[base];
    return typeof colour === "string" && COLOUR.test(colour) ? colour : "#dddddd";
  }
  const v = d.text?.[name];
  return v === undefined || v === null ? "" : String(v);
}

function diagram(state, holder, d, index) {
  const key = `${index}:${d.template}`;
  let entry = state.diagrams.get(key);
  if (!entry) {
    const tpl = state.templates[d.template];
    if (!tpl) return;
    const svg = tpl.cloneNode(true);
    entry = { svg, bindings: bind(svg) };
    state.diagrams.set(key, entry);
  }
  for (const b of entry.bindings) {
    const value = b.text.replace(SLOT, (_, name) => slotValue(name, d));
    if (b.attr) b.node.setAttribute(b.attr, value); else b.node.textContent = value;
  }
  if (entry.svg.parentNode !== holder) holder.replaceChildren(entry.svg);
}

function updateNumbers(state, data) {
  // the same equations as last time (the usual step): only their number lines change, in place
  const rows = state.eqs.querySelectorAll(".lstmlab-eq-num");
  let k = 0;
  for (const block of data.blocks ?? []) {
    for (const e of block.equations ?? []) {
      const rhs = rows[k++];
      const lines = rhs.children;
      e.num.forEach((line, n) => {
        const div = lines[n];
        div.replaceChildren();
        richText(div, line);
      });
    }
  }
}

function render(state, data) {
  state.heading.textContent = data.heading ?? "";
  const lines = Array.isArray(data.answers) ? data.answers : [];
  state.answers.replaceChildren(...lines.map((line, k) => {
    const div = document.createElement("div");
    div.className = k === 0 ? "lstmlab-answers-head" : "lstmlab-answers-line";
    div.textContent = String(line);
    return div;
  }));
  const shape = JSON.stringify((data.blocks ?? []).map((b) =>
    [b.caption, (b.equations ?? []).map((e) => [e.eq, e.num.length])]));
  if (shape === state.shape) {
    updateNumbers(state, data);
    (data.diagrams ?? []).forEach((d, k) => { if (state.holders[k]) diagram(state, state.holders[k], d, k); });
    state.root.dataset.step = String(data.t ?? "");
    state.root.dataset.unit = String(data.unit ?? "");
    return;
  }
  state.shape = shape;
  const blocks = [];
  for (const block of data.blocks ?? []) {
    if (block.caption) {
      const c = document.createElement("div");
      c.className = "lstmlab-eq-caption";
      c.textContent = block.caption;
      blocks.push(c);
    }
    blocks.push(equations(block.equations ?? [], block.name ?? ""));
  }
  state.eqs.replaceChildren(...blocks);
  (data.diagrams ?? []).forEach((d, k) => { if (state.holders[k]) diagram(state, state.holders[k], d, k); });
  state.root.dataset.step = String(data.t ?? "");
  state.root.dataset.unit = String(data.unit ?? "");
}

// The holder is mounted once per page run; the step bridge (in the stepping fragment) hands it each
// step's view through window.__lstmlabStepView, so one message a step carries the step and its numbers.
export default function (component) {
  const { parentElement } = component;
  let state = parentElement.__lstmlabStepView;
  if (!state) {
    const templates = {};
    for (const t of parentElement.querySelectorAll("template[data-kind]")) {
      templates[t.dataset.kind] = t.content.querySelector("svg");
    }
    const root = document.createElement("div");
    root.className = "lstmlab-step";
    const heading = document.createElement("div");
    heading.className = "lstmlab-step-heading";
    const answers = document.createElement("div");
    answers.className = "lstmlab-answers";
    const eqs = document.createElement("div");
    const pictures = document.createElement("div");
    pictures.className = "lstmlab-diagrams";
    const holders = [document.createElement("div"), document.createElement("div")];
    holders.forEach((h) => { h.className = "lstmlab-diagram"; pictures.append(h); });
    root.append(heading, answers, eqs, pictures);
    parentElement.append(root);
    state = { root, heading, answers, eqs, holders, templates, diagrams: new Map() };
    parentElement.__lstmlabStepView = state;
  }
  window.__lstmlabStepView = (view) => { if (state.root.isConnected) render(state, view); };
  if (window.__lstmlabPendingView) render(state, window.__lstmlabPendingView);
}
