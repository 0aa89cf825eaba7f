// Trace view: every recorded quantity as a heatmap (time x unit) on one canvas, with a shared time axis,
// colour bars with units, a cursor at the current step, hover values, click-to-seek and PNG export.
// It receives the whole (possibly downsampled) trace once, as bytes; the current step arrives through
// window events from the step bridge, so stepping never re-sends the trace.
// Message layout: see app/trace_payload.py.

const STEP_EVENT = "lstmlab:step";
const SEEK_EVENT = "lstmlab:seek";
const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
const M = { left: 132, right: 118, top: 8, bottom: 46, gap: 14, titleH: 34 };
const NARROW = { left: 78, right: 74 }; // under 720 px wide: smaller margins, units only where they fit

function parse(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + n)));
  const start = 4 + n + ((4 - ((4 + n) % 4)) % 4);
  // Copy: the message's offset inside its buffer need not be aligned for a Float32Array view.
  const body = new Float32Array(bytes.slice(start).buffer);
  const C = header.columns;
  for (const p of header.panels) p.data = body.subarray(p.offset / 4, p.offset / 4 + p.rows * C);
  return header;
}

function hexToRgb(h) {
  return [1, 3, 5].map((k) => parseInt(h.slice(k, k + 2), 16));
}

function lut(anchors) {
  const out = new Uint8ClampedArray(256 * 3);
  const rgb = anchors.map(hexToRgb);
  for (let k = 0; k < 256; k++) {
    const pos = (k / 255) * (rgb.length - 1);
    const a = Math.min(Math.floor(pos), rgb.length - 2);
    const t = pos - a;
    for (let c = 0; c < 3; c++) out[k * 3 + c] = rgb[a][c] * (1 - t) + rgb[a + 1][c] * t;
  }
  return out;
}

function niceStep(span, target) {
  const raw = span / Math.max(1, target);
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

function fmt(v) {
  if (!Number.isFinite(v)) return "—";
  const a = Math.abs(v);
  if (a !== 0 && (a < 0.001 || a >= 10000)) return v.toExponential(2);
  return v.toFixed(a >= 100 ? 1 : 3);
}

function panelHeight(p, n) {
  // Every panel fits on one screen: a projector at 720 px tall still shows the whole trace.
  const room = Math.max(360, (window.innerHeight || 900) - 170) - n * (M.titleH + M.gap) - M.bottom;
  const share = Math.max(44, Math.floor(room / Math.max(1, n)));
  if (p.kind === "lines") return Math.min(92, share);
  return Math.min(150, share, Math.max(44, p.rows * 3));
}

function layout(header, width) {
  let y = M.top;
  const narrow = width < 720;
  const left = narrow ? NARROW.left : M.left;
  const right = narrow ? NARROW.right : M.right;
  const plotW = Math.max(120, width - left - right);
  const boxes = header.panels.map((p) => {
    const h = panelHeight(p, header.panels.length);
    const box = { p, x: left, y: y + M.titleH, w: plotW, h, narrow };
    y += M.titleH + h + M.gap;
    return box;
  });
  return { boxes, width, height: y + M.bottom - M.gap, plotW };
}

function drawHeatmap(ctx, box, header, luts) {
  const { p } = box;
  const C = header.columns;
  const img = new ImageData(C, p.rows);
  const table = luts[p.scale];
  const span = p.vmax - p.vmin || 1;
  for (let r = 0; r < p.rows; r++) {
    for (let c = 0; c < C; c++) {
      const v = p.data[r * C + c];
      const o = ((p.rows - 1 - r) * C + c) * 4; // unit 0 at the bottom
      if (!Number.isFinite(v)) {
        img.data[o] = img.data[o + 1] = img.data[o + 2] = 235;
        img.data[o + 3] = 255;
        continue;
      }
      const k = Math.max(0, Math.min(255, Math.round(((v - p.vmin) / span) * 255))) * 3;
      img.data[o] = table[k];
      img.data[o + 1] = table[k + 1];
      img.data[o + 2] = table[k + 2];
      img.data[o + 3] = 255;
    }
  }
  const off = document.createElement("canvas");
  off.width = C;
  off.height = p.rows;
  off.getContext("2d").putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(off, box.x, box.y, box.w, box.h);
}

function drawLines(ctx, box, header) {
  const { p } = box;
  const C = header.columns;
  const span = p.vmax - p.vmin || 1;
  ctx.save();
  ctx.beginPath();
  ctx.rect(box.x, box.y, box.w, box.h);
  ctx.clip();
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(box.x, box.y, box.w, box.h);
  for (let r = 0; r < p.rows; r++) {
    ctx.strokeStyle = header.lines[r % header.lines.length];
    ctx.lineWidth = 2;
    ctx.beginPath();
    let pen = false;
    for (let c = 0; c < C; c++) {
      const v = p.data[r * C + c];
      if (!Number.isFinite(v)) { pen = false; continue; }
      const x = box.x + ((c + 0.5) / C) * box.w;
      const y = box.y + box.h - ((v - p.vmin) / span) * (box.h - 6) - 3;
      if (pen) ctx.lineTo(x, y); else ctx.moveTo(x, y);
      pen = true;
    }
    ctx.stroke();
  }
  ctx.restore();
  // legend: feature names in their line colours, top right inside the panel
  ctx.font = `13px ${FONT}`;
  ctx.textAlign = "right";
  let lx = box.x + box.w - 6;
  for (let r = Math.min(p.rows, 8) - 1; r >= 0; r--) {
    const name = p.row_names[r] ?? `x${r}`;
    ctx.fillStyle = header.lines[r % header.lines.length];
    ctx.fillText(name, lx, box.y + 15);
    lx -= ctx.measureText(name).width + 14;
  }
}

function drawColourBar(ctx, box, luts) {
  const { p } = box;
  const x = box.x + box.w + 14;
  const w = 14;
  if (p.kind === "lines") return;
  const table = luts[p.scale];
  for (let k = 0; k < box.h; k++) {
    const q = Math.round((1 - k / Math.max(1, box.h - 1)) * 255) * 3;
    ctx.fillStyle = `rgb(${table[q]},${table[q + 1]},${table[q + 2]})`;
    ctx.fillRect(x, box.y + k, w, 1);
  }
  ctx.strokeStyle = "#444";
  ctx.lineWidth = 1;
  ctx.strokeRect(x + 0.5, box.y + 0.5, w, box.h - 1);
  ctx.fillStyle = "#111";
  ctx.font = `12px ${FONT}`;
  ctx.textAlign = "left";
  ctx.fillText(fmt(p.vmax), x + w + 4, box.y + 10);
  ctx.fillText(fmt(p.vmin), x + w + 4, box.y + box.h - 2);
  if (p.vmin < 0 && p.vmax > 0) ctx.fillText("0", x + w + 4, box.y + box.h * (p.vmax / (p.vmax - p.vmin)) + 4);
  // units, rotated, right of the widest number
  const numbers = Math.max(...[p.vmax, p.vmin].map((v) => ctx.measureText(fmt(v)).width));
  ctx.save();
  ctx.translate(x + w + 4 + numbers + 12, box.y + box.h / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textAlign = "center";
  ctx.font = `11px ${FONT}`;
  ctx.fillStyle = "#333";
  const fits = x + w + 4 + numbers + 18 <= box.x + box.w + M.right;
  if (!box.narrow && fits && ctx.measureText(p.units).width <= box.h + 20) ctx.fillText(p.units, 0, 0);
  ctx.restore();
}

function drawAxes(ctx, box, header, isLast) {
  const { p } = box;
  ctx.fillStyle = "#111";
  ctx.font = `bold 15px ${FONT}`;
  ctx.textAlign = "left";
  ctx.fillText(p.title, box.x, box.y - M.titleH + 15);
  ctx.font = `13px ${FONT}`;
  ctx.fillStyle = "#444";
  const tw = ctx.measureText(p.title).width;
  ctx.font = `bold 15px ${FONT}`;
  const tww = ctx.measureText(p.title).width;
  ctx.font = `13px ${FONT}`;
  const noteX = box.x + Math.max(tw, tww) + 12;
  let note = p.note;
  const room = box.x + box.w + 60 - noteX;
  while (note.length > 3 && ctx.measureText(note).width > room) note = note.slice(0, -2);
  if (note !== p.note) note = note.trimEnd() + "…";
  ctx.fillText(note, noteX, box.y - M.titleH + 15);
  // y axis: row label and a few row ticks
  ctx.fillStyle = "#333";
  ctx.font = `12px ${FONT}`;
  ctx.textAlign = "right";
  if (p.kind === "heatmap") {
    const ticks = p.rows === 1 ? [0] : [0, p.rows - 1];
    for (const r of ticks) {
      const yy = box.y + box.h - ((r + 0.5) / p.rows) * box.h + 4;
      ctx.fillText(p.row_names[r] ?? String(r), box.x - 6, yy);
    }
  } else {
    ctx.fillText(fmt(p.vmax), box.x - 6, box.y + 10);
    ctx.fillText(fmt(p.vmin), box.x - 6, box.y + box.h - 2);
  }
  ctx.save();
  ctx.translate(box.x - (box.narrow ? 50 : 58), box.y + box.h / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textAlign = "center";
  ctx.fillText(p.row_label, 0, 0);
  ctx.restore();
  ctx.strokeStyle = "#888";
  ctx.strokeRect(box.x + 0.5, box.y + 0.5, box.w - 1, box.h - 1);
  // x ticks under every panel, labels under the last one
  const T = header.steps;
  const step = niceStep(T, Math.max(2, Math.floor(box.w / 90)));
  ctx.textAlign = "center";
  for (let t = 0; t < T; t += step) {
    const x = box.x + ((t + 0.5) / T) * box.w;
    ctx.beginPath();
    ctx.moveTo(x, box.y + box.h);
    ctx.lineTo(x, box.y + box.h + 4);
    ctx.stroke();
    if (isLast) ctx.fillText(String(t), x, box.y + box.h + 17);
  }
  if (isLast) {
    ctx.font = `13px ${FONT}`;
    ctx.fillText(header.step_label + (header.bin > 1 ? `  (drawn as ${header.columns} columns, each the mean of ${header.bin} steps)` : ""),
      box.x + box.w / 2, box.y + box.h + 36);
  }
}

function drawMarks(ctx, boxes, header) {
  if (!header.marks.length) return;
  const first = boxes[0];
  ctx.save();
  ctx.strokeStyle = "#d55e00";
  ctx.setLineDash([4, 3]);
  ctx.lineWidth = 1.5;
  for (const m of header.marks) {
    const x = first.x + ((m + 0.5) / header.steps) * first.w;
    ctx.beginPath();
    ctx.moveTo(x, first.y);
    ctx.lineTo(x, first.y + first.h);
    ctx.stroke();
  }
  ctx.restore();
}

function render(state) {
  const { header, canvas, overlay, holder } = state;
  const width = Math.max(420, holder.clientWidth || 900);
  const L = layout(header, width);
  state.layout = L;
  // where each plot is, in CSS pixels of the canvas (for tests and tools that point at a panel)
  state.root.dataset.panels = JSON.stringify(Object.fromEntries(L.boxes.map((b) => [b.p.key,
    [Math.round(b.x), Math.round(b.y), Math.round(b.w), Math.round(b.h)]])));
  const dpr = window.devicePixelRatio || 1;
  for (const c of [canvas, overlay]) {
    c.width = Math.round(L.width * dpr);
    c.height = Math.round(L.height * dpr);
    c.style.width = `${L.width}px`;
    c.style.height = `${L.height}px`;
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, L.width, L.height);
  L.boxes.forEach((box, k) => {
    if (box.p.kind === "lines") drawLines(ctx, box, header);
    else drawHeatmap(ctx, box, header, state.luts);
    drawColourBar(ctx, box, state.luts);
    drawAxes(ctx, box, header, k === L.boxes.length - 1);
  });
  drawMarks(ctx, L.boxes, header);
  drawCursor(state);
}

function drawCursor(state) {
  const { overlay, layout: L, header } = state;
  if (!L) return;
  const dpr = window.devicePixelRatio || 1;
  const ctx = overlay.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, L.width, L.height);
  const t = Math.max(0, Math.min(header.steps - 1, state.step ?? 0));
  const first = L.boxes[0];
  const last = L.boxes[L.boxes.length - 1];
  const x = first.x + ((t + 0.5) / header.steps) * first.w;
  ctx.strokeStyle = "#d62728";
  ctx.lineWidth = 2;
  ctx.beginPath();
  for (const box of L.boxes) { // inside the plots only, so titles stay readable
    ctx.moveTo(x, box.y);
    ctx.lineTo(x, box.y + box.h + (box === last ? 4 : 0));
  }
  ctx.stroke();
  ctx.fillStyle = "#d62728";
  ctx.font = `bold 13px ${FONT}`;
  ctx.textAlign = x > first.x + first.w - 60 ? "right" : "left";
  ctx.fillText(`t = ${t}`, x + (ctx.textAlign === "left" ? 5 : -5), last.y + last.h + 30);
  state.root.dataset.step = String(t);
}

function hitTest(state, mx, my) {
  const L = state.layout;
  if (!L) return null;
  for (const box of L.boxes) {
    if (mx >= box.x && mx < box.x + box.w && my >= box.y && my < box.y + box.h) {
      const C = state.header.columns;
      const c = Math.min(C - 1, Math.floor(((mx - box.x) / box.w) * C));
      const r = box.p.kind === "heatmap" ? Math.min(box.p.rows - 1, Math.floor(((box.y + box.h - my) / box.h) * box.p.rows)) : null;
      return { box, c, r };
    }
  }
  return null;
}

function tooltip(state, hit) {
  const { header } = state;
  const { box, c, r } = hit;
  const w = header.bin;
  const t0 = c * w;
  const t1 = Math.min(header.steps - 1, t0 + w - 1);
  const when = w > 1 ? `steps ${t0}–${t1} (mean)` : `step ${t0}`;
  const p = box.p;
  const C = header.columns;
  if (r === null) {
    const rows = [];
    for (let k = 0; k < Math.min(p.rows, 8); k++) rows.push(`${p.row_names[k] ?? "x" + k} = ${fmt(p.data[k * C + c])}`);
    return `<b>${p.title}</b><br>${when}<br>${rows.join("<br>")}`;
  }
  const name = p.row_names[r] ?? `unit ${r}`;
  return `<b>${p.title}</b><br>${when}, ${p.row_label} ${p.row_names[r] ? name : r}<br>value = ${fmt(p.data[r * C + c])}`;
}

function seek(state, c) {
  const w = state.header.bin;
  const t = Math.min(state.header.steps - 1, c * w + Math.floor(w / 2));
  window.dispatchEvent(new CustomEvent(SEEK_EVENT, { detail: { step: t } }));
}

function exportPng(state) {
  const { canvas, overlay } = state;
  const out = document.createElement("canvas");
  out.width = canvas.width;
  out.height = canvas.height;
  const ctx = out.getContext("2d");
  ctx.drawImage(canvas, 0, 0);
  ctx.drawImage(overlay, 0, 0);
  out.toBlob((blob) => {
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = `lstm-gate-lab-${state.header.id || "trace"}-step-${state.step ?? 0}.png`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  }, "image/png");
}

export default function (component) {
  const { data, parentElement } = component;
  if (!data || !data.byteLength) return;
  const header = parse(data instanceof Uint8Array ? data : new Uint8Array(data));
  const luts = Object.fromEntries(Object.entries(header.scales).map(([k, v]) => [k, lut(v)]));
  const root = document.createElement("div");
  root.className = "lstmlab-trace";
  root.dataset.viewId = header.id;
  root.innerHTML = `<div class="bar"><span class="title"></span><span class="hint"></span><button type="button" class="png" title="Save this view, with the cursor, as a PNG image">Download PNG</button></div>
    <div class="holder"><canvas class="base" role="img"></canvas><canvas class="overlay"></canvas><div class="tip" hidden></div></div>`;
  parentElement.querySelectorAll(".lstmlab-trace").forEach((n) => n.remove()); // an earlier mount's view
  parentElement.appendChild(root);
  const state = { header, luts, root, holder: root.querySelector(".holder"), canvas: root.querySelector(".base"),
    overlay: root.querySelector(".overlay"), tip: root.querySelector(".tip"), step: window.__lstmlabStep ?? 0 };
  root.querySelector(".title").textContent = "Gates and states over time";
  root.querySelector(".hint").textContent = "hover for values · click to jump to a step";
  state.canvas.setAttribute("aria-label", `${header.title}: heatmaps of ${header.panels.map((p) => p.title).join(", ")} over ${header.steps} steps`);
  const onStep = (e) => { state.step = e.detail.step; drawCursor(state); };
  window.addEventListener(STEP_EVENT, onStep);
  state.overlay.addEventListener("mousemove", (e) => {
    const rect = state.overlay.getBoundingClientRect();
    const hit = hitTest(state, e.clientX - rect.left, e.clientY - rect.top);
    if (!hit) { state.tip.hidden = true; return; }
    state.tip.innerHTML = tooltip(state, hit);
    state.tip.hidden = false;
    const left = e.clientX - rect.left + 14;
    state.tip.style.left = `${Math.min(left, rect.width - 230)}px`;
    state.tip.style.top = `${e.clientY - rect.top + 12}px`;
  });
  state.overlay.addEventListener("mouseleave", () => { state.tip.hidden = true; });
  state.overlay.addEventListener("click", (e) => { // anywhere above the time axis jumps to that step
    const rect = state.overlay.getBoundingClientRect();
    const first = state.layout?.boxes[0];
    const mx = e.clientX - rect.left;
    if (!first || mx < first.x || mx >= first.x + first.w) return;
    seek(state, Math.min(state.header.columns - 1, Math.floor(((mx - first.x) / first.w) * state.header.columns)));
  });
  root.querySelector(".png").addEventListener("click", () => exportPng(state));
  let lastWidth = 0;
  const ro = new ResizeObserver(() => {
    const w = state.holder.clientWidth;
    if (Math.abs(w - lastWidth) > 2) { lastWidth = w; render(state); }
  });
  ro.observe(state.holder);
  render(state);
  root.dataset.ready = "1";
  return () => {
    window.removeEventListener(STEP_EVENT, onStep);
    ro.disconnect();
  };
}
