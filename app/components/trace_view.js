// Trace view: every recorded quantity as a heatmap (time x unit) on one canvas, with a shared time axis,
// colour bars with units, a cursor at the current step, hover values, click-to-seek and PNG export.
// It receives the whole (possibly downsampled) trace once, as bytes; the current step arrives through
// window events from the step bridge, so stepping never re-sends the trace.
// Message layout: see app/trace_payload.py.
// Safety: titles, feature names and ids come from users' files, so no string ever becomes markup here: the
// DOM is built with createElement and textContent, and the canvas draws text with fillText.

const STEP_EVENT = "lstmlab:step";
const SEEK_EVENT = "lstmlab:seek";
const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
const M = { left: 132, right: 118, top: 8, bottom: 46, gap: 14, titleH: 34 };
const BAR = { dx: 14, w: 14, cap: 7 }; // colour bar: offset right of the plot, width, height of a saturation cap
const UNKNOWN = "#c00000"; // ticks under the input at steps whose character is outside the vocabulary
const NARROW = { left: 78, right: 74 }; // under 720 px wide: smaller margins, units only where they fit
// Presentation mode (header.present): text at least 18 px, lines twice as thick, wider margins for the text.
const PRESENT = { left: 150, right: 132, narrowLeft: 112, narrowRight: 120, titleH: 42, reserve: 200, bottom: 72 };
const drawn = { smallest: Infinity }; // the smallest font size drawn, for tests (canvas text is not in the DOM)
const fs = (box, px) => {
  const size = box.present ? Math.max(18, Math.round(px * 1.35)) : px;
  drawn.smallest = Math.min(drawn.smallest, size);
  return size;
};
const lw = (box, w) => (box.present ? w * 2 : w);

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

function pct(share) {
  const v = share * 100;
  if (v < 0.1) return "<0.1%";
  return `${v < 10 ? v.toFixed(1) : v.toFixed(0)}%`;
}

// The colour range a panel is drawn with: the one chosen in Python, or its full range after a click on the
// colour bar (only panels whose robust range leaves values out have one).
function shown(state, p) {
  const full = p.full_range || [];
  if (full.length === 2 && state.full.has(p.key)) {
    return { vmin: full[0], vmax: full[1], under: 0, over: 0, note: "full range (max |value|)", toggled: true };
  }
  return { vmin: p.vmin, vmax: p.vmax, under: p.under || 0, over: p.over || 0, note: p.range_note || "", toggled: false };
}

function canToggle(p) {
  return p.kind === "heatmap" && (p.full_range || []).length === 2;
}

function panelHeight(p, n, present, top) {
  // Every panel fits on one screen: a projector at 720 px tall still shows the whole trace. In presentation
  // mode the view fits below its own top (the page above it: the question, the story), with a little margin.
  const titleH = present ? PRESENT.titleH : M.titleH;
  const reserve = present ? Math.max(PRESENT.reserve, (top || 0) + 12) : 170;
  const room = Math.max(present ? 200 : 360, (window.innerHeight || 900) - reserve) - n * (titleH + M.gap)
    - (present ? PRESENT.bottom : M.bottom);
  const share = Math.max(44, Math.floor(room / Math.max(1, n)));
  if (p.kind === "lines") return Math.min(92, share);
  return Math.min(150, share, Math.max(44, p.rows * 3));
}

function layout(header, width, top) {
  let y = M.top;
  const present = Boolean(header.present);
  const narrow = width < 720;
  const left = present ? (narrow ? PRESENT.narrowLeft : PRESENT.left) : narrow ? NARROW.left : M.left;
  const right = present ? (narrow ? PRESENT.narrowRight : PRESENT.right) : narrow ? NARROW.right : M.right;
  const titleH = present ? PRESENT.titleH : M.titleH;
  const plotW = Math.max(120, width - left - right);
  const boxes = header.panels.map((p) => {
    const h = panelHeight(p, header.panels.length, present, top);
    const box = { p, x: left, y: y + titleH, w: plotW, h, narrow, right, present, titleH };
    y += titleH + h + M.gap;
    return box;
  });
  return { boxes, width, height: y + (present ? PRESENT.bottom : M.bottom) - M.gap, plotW, present };
}

function drawHeatmap(ctx, box, header, luts, range) {
  const { p } = box;
  const C = header.columns;
  const img = new ImageData(C, p.rows);
  const table = luts[p.scale];
  const span = range.vmax - range.vmin || 1;
  for (let r = 0; r < p.rows; r++) {
    for (let c = 0; c < C; c++) {
      const v = p.data[r * C + c];
      const o = ((p.rows - 1 - r) * C + c) * 4; // unit 0 at the bottom
      if (!Number.isFinite(v)) {
        img.data[o] = img.data[o + 1] = img.data[o + 2] = 235;
        img.data[o + 3] = 255;
        continue;
      }
      // values beyond the range take the end colours (the colour bar's caps say how many)
      const k = Math.max(0, Math.min(255, Math.round(((v - range.vmin) / span) * 255))) * 3;
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
    ctx.lineWidth = lw(box, 2);
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
  ctx.font = `${fs(box, 13)}px ${FONT}`;
  ctx.textAlign = "right";
  let lx = box.x + box.w - 6;
  for (let r = Math.min(p.rows, 8) - 1; r >= 0; r--) {
    const name = p.row_names[r] ?? `x${r}`;
    if (box.present) { // large names over the lines: on a white ground, to be read from the back
      ctx.fillStyle = "rgba(255, 255, 255, 0.85)";
      ctx.fillRect(lx - ctx.measureText(name).width - 3, box.y + 2, ctx.measureText(name).width + 6, fs(box, 13) + 4);
    }
    ctx.fillStyle = header.lines[r % header.lines.length];
    ctx.fillText(name, lx, box.y + fs(box, 13) + 2);
    lx -= ctx.measureText(name).width + 14;
  }
}

// A saturation cap: a triangle in the end colour beyond the end of the bar (up above it, down below it).
function drawCap(ctx, x, yBase, dir, rgb) {
  ctx.beginPath();
  ctx.moveTo(x, yBase);
  ctx.lineTo(x + BAR.w, yBase);
  ctx.lineTo(x + BAR.w / 2, yBase + dir * BAR.cap);
  ctx.closePath();
  ctx.fillStyle = rgb;
  ctx.fill();
  ctx.strokeStyle = "#444";
  ctx.lineWidth = 1;
  ctx.stroke();
}

function drawColourBar(ctx, box, luts, range) {
  const { p } = box;
  if (p.kind === "lines") return;
  const x = box.x + box.w + BAR.dx;
  const w = BAR.w;
  const edge = box.x + box.w + box.right - 2; // the canvas's right edge
  const table = luts[p.scale];
  const rgbAt = (q) => `rgb(${table[q]},${table[q + 1]},${table[q + 2]})`;
  for (let k = 0; k < box.h; k++) {
    ctx.fillStyle = rgbAt(Math.round((1 - k / Math.max(1, box.h - 1)) * 255) * 3);
    ctx.fillRect(x, box.y + k, w, 1);
  }
  ctx.strokeStyle = "#444";
  ctx.lineWidth = 1;
  ctx.strokeRect(x + 0.5, box.y + 0.5, w, box.h - 1);
  // values beyond the range: a cap in the end colour and the share of values it stands for
  ctx.font = `${fs(box, 10)}px ${FONT}`;
  ctx.textAlign = "left";
  const capText = (share, rel, v, baseline) => {
    let text = `${pct(share)} ${rel} ${fmt(v)}`;
    if (x + w + 4 + ctx.measureText(text).width > edge) text = pct(share);
    ctx.fillStyle = "#7a3b00";
    ctx.fillText(text, x + w + 4, baseline);
  };
  if (range.over > 0) {
    drawCap(ctx, x, box.y - 1, -1, rgbAt(255 * 3));
    capText(range.over, ">", range.vmax, box.y - 1);
  }
  if (range.under > 0) {
    drawCap(ctx, x, box.y + box.h + 1, 1, rgbAt(0));
    capText(range.under, "<", range.vmin, box.y + box.h + fs(box, 10));
  }
  ctx.fillStyle = "#111";
  ctx.font = `${fs(box, 12)}px ${FONT}`;
  ctx.fillText(fmt(range.vmax), x + w + 4, box.y + fs(box, 10));
  ctx.fillText(fmt(range.vmin), x + w + 4, box.y + box.h - 2);
  const roomy = box.h >= 3.2 * fs(box, 12); // a short panel has no room for a third label between the ends
  if (roomy && range.vmin < 0 && range.vmax > 0) ctx.fillText("0", x + w + 4, box.y + box.h * (range.vmax / (range.vmax - range.vmin)) + 4);
  // units, rotated, right of the widest number
  const numbers = Math.max(...[range.vmax, range.vmin].map((v) => ctx.measureText(fmt(v)).width));
  ctx.save();
  const gap = box.present ? 24 : 12; // the rotated units clear the numbers' glyphs
  ctx.translate(x + w + 4 + numbers + gap, box.y + box.h / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textAlign = "center";
  ctx.font = `${fs(box, 11)}px ${FONT}`;
  ctx.fillStyle = "#333";
  const fits = x + w + 4 + numbers + gap + 6 <= box.x + box.w + box.right;
  if (!box.narrow && fits && ctx.measureText(p.units).width <= box.h + 20) ctx.fillText(p.units, 0, 0);
  ctx.restore();
}

function fitText(ctx, text, room) {
  if (ctx.measureText(text).width <= room) return text;
  let t = text;
  while (t.length > 3 && ctx.measureText(t + "…").width > room) t = t.slice(0, -1);
  return t.length > 3 ? t.trimEnd() + "…" : "";
}

function drawAxes(ctx, box, header, isLast, range) {
  const { p } = box;
  const baseline = box.y - box.titleH + fs(box, 15);
  ctx.fillStyle = "#111";
  ctx.font = `bold ${fs(box, 15)}px ${FONT}`;
  ctx.textAlign = "left";
  ctx.fillText(p.title, box.x, baseline);
  const noteX = box.x + ctx.measureText(p.title).width + 12;
  const rowEnd = box.x + box.w + box.right - 4;
  // the scale caption, right-aligned over the colour bar: it wins over the intuition note when room is short
  ctx.font = `${fs(box, 12)}px ${FONT}`;
  let caption = range.note;
  if (caption && rowEnd - ctx.measureText(caption).width - 16 - noteX < 90) caption = caption.split(" (")[0];
  if (caption && rowEnd - ctx.measureText(caption).width < noteX) caption = "";
  let noteEnd = box.x + box.w + 60;
  if (caption) {
    const cw = ctx.measureText(caption).width;
    ctx.textAlign = "right";
    ctx.fillStyle = range.over + range.under > 0 ? "#7a3b00" : "#555";
    ctx.fillText(caption, rowEnd, baseline);
    noteEnd = Math.min(noteEnd, rowEnd - cw - 16);
    ctx.textAlign = "left";
  }
  ctx.font = `${fs(box, 13)}px ${FONT}`;
  ctx.fillStyle = "#444";
  ctx.fillText(fitText(ctx, p.note, noteEnd - noteX), noteX, baseline);
  // y axis: row label and a few row ticks
  ctx.fillStyle = "#333";
  ctx.font = `${fs(box, 12)}px ${FONT}`;
  ctx.textAlign = "right";
  if (p.kind === "heatmap") {
    const ticks = p.rows === 1 ? [0] : [0, p.rows - 1];
    for (const r of ticks) {
      const yy = box.y + box.h - ((r + 0.5) / p.rows) * box.h + 4;
      ctx.fillText(p.row_names[r] ?? String(r), box.x - 6, yy);
    }
  } else {
    ctx.fillText(fmt(p.vmax), box.x - 6, box.y + fs(box, 10));
    ctx.fillText(fmt(p.vmin), box.x - 6, box.y + box.h - 2);
  }
  ctx.save();
  ctx.translate(box.x - (box.present ? box.x - 14 : box.narrow ? 50 : 58), box.y + box.h / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textAlign = "center";
  ctx.fillText(p.row_label, 0, 0);
  ctx.restore();
  ctx.strokeStyle = "#888";
  ctx.lineWidth = lw(box, 1);
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
    if (isLast) ctx.fillText(String(t), x, box.y + box.h + fs(box, 12) + 5);
  }
  if (isLast) {
    ctx.font = `${fs(box, 13)}px ${FONT}`;
    ctx.fillText(header.step_label + (header.bin > 1 ? `  (drawn as ${header.columns} columns, each the mean of ${header.bin} steps)` : ""),
      box.x + box.w / 2, box.y + box.h + (box.present ? 64 : 36));
  }
}

// Steps whose character is outside the model's vocabulary (fed as all-zero): red ticks under the panel.
function drawUnknown(ctx, box, header) {
  const steps = box.p.unknown_steps || [];
  if (!steps.length) return;
  const C = header.columns;
  ctx.save();
  ctx.strokeStyle = UNKNOWN;
  ctx.lineWidth = 2;
  ctx.beginPath();
  for (const t of steps) {
    const x = box.x + ((Math.floor(t / header.bin) + 0.5) / C) * box.w;
    ctx.moveTo(x, box.y + box.h + 1);
    ctx.lineTo(x, box.y + box.h + 9);
  }
  ctx.stroke();
  ctx.restore();
}

function drawMarks(ctx, boxes, header) {
  if (!header.marks.length) return;
  const first = boxes[0];
  ctx.save();
  ctx.strokeStyle = "#d55e00";
  ctx.setLineDash([4, 3]);
  ctx.lineWidth = lw(first, 1.5);
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
  drawn.smallest = Infinity;
  const width = Math.max(420, holder.clientWidth || 900);
  const L = layout(header, width, holder.getBoundingClientRect().top + window.scrollY);
  state.layout = L;
  // where each plot is, in CSS pixels of the canvas (for tests and tools that point at a panel)
  state.root.dataset.panels = JSON.stringify(Object.fromEntries(L.boxes.map((b) => [b.p.key,
    [Math.round(b.x), Math.round(b.y), Math.round(b.w), Math.round(b.h)]])));
  // the colour range each panel is drawn with (for tests and tools; the full one after a colour-bar click)
  state.root.dataset.ranges = JSON.stringify(Object.fromEntries(L.boxes.filter((b) => b.p.kind === "heatmap")
    .map((b) => { const r = shown(state, b.p); return [b.p.key, [r.vmin, r.vmax, r.under, r.over]]; })));
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
    const range = shown(state, box.p);
    if (box.p.kind === "lines") drawLines(ctx, box, header);
    else drawHeatmap(ctx, box, header, state.luts, range);
    drawColourBar(ctx, box, state.luts, range);
    drawAxes(ctx, box, header, k === L.boxes.length - 1, range);
    drawUnknown(ctx, box, header);
  });
  drawMarks(ctx, L.boxes, header);
  drawCursor(state);
  state.root.dataset.smallestFont = String(drawn.smallest);
}

function drawCursor(state) {
  const { overlay, layout: L, header } = state;
  if (!L) return;
  const t = Math.max(0, Math.min(header.steps - 1, state.step ?? 0));
  if (state.cursor && state.cursor.t === t && state.cursor.layout === L) return; // already drawn
  const dpr = window.devicePixelRatio || 1;
  const ctx = overlay.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  // only the old cursor's strip is cleared (the line and its label, at most 80 px either side)
  if (state.cursor && state.cursor.layout === L) ctx.clearRect(state.cursor.x - 80, 0, 160, L.height);
  else ctx.clearRect(0, 0, L.width, L.height);
  const first = L.boxes[0];
  const last = L.boxes[L.boxes.length - 1];
  const x = first.x + ((t + 0.5) / header.steps) * first.w;
  state.cursor = { t, x, layout: L };
  ctx.strokeStyle = "#d62728";
  ctx.lineWidth = lw(first, 2);
  ctx.beginPath();
  for (const box of L.boxes) { // inside the plots only, so titles stay readable
    ctx.moveTo(x, box.y);
    ctx.lineTo(x, box.y + box.h + (box === last ? 4 : 0));
  }
  ctx.stroke();
  ctx.fillStyle = "#d62728";
  ctx.font = `bold ${fs(first, 13)}px ${FONT}`;
  ctx.textAlign = x > first.x + first.w - 60 ? "right" : "left";
  ctx.fillText(`t = ${t}`, x + (ctx.textAlign === "left" ? 5 : -5), last.y + last.h + (first.present ? 40 : 30));
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
    const bx = box.x + box.w + BAR.dx;
    if (box.p.kind === "heatmap" && mx >= bx - 2 && mx < bx + BAR.w + 2 && my >= box.y - BAR.cap - 2 && my < box.y + box.h + BAR.cap + 2) {
      return { box, bar: true };
    }
  }
  return null;
}

// The tooltip's content as plain strings: a bold title and lines (shown with textContent, never as markup).
function tooltip(state, hit) {
  const { header } = state;
  const { box, c, r } = hit;
  const p = box.p;
  const range = shown(state, p);
  if (hit.bar) {
    const lines = [`colour range ${fmt(range.vmin)} … ${fmt(range.vmax)}` + (range.note ? `: ${range.note}` : "")];
    if (range.over > 0 || range.under > 0) {
      lines.push(`${pct(range.over)} of values above, ${pct(range.under)} below: drawn in the end colours`);
    }
    if (canToggle(p)) lines.push(range.toggled ? "click for the robust range" : `click for the full range ±${fmt(p.full_range[1])}`);
    return { title: p.title, lines };
  }
  const w = header.bin;
  const t0 = c * w;
  const t1 = Math.min(header.steps - 1, t0 + w - 1);
  const when = w > 1 ? `steps ${t0}–${t1} (mean)` : `step ${t0}`;
  const C = header.columns;
  const unknown = (p.unknown_steps || []).some((t) => Math.floor(t / w) === c);
  const extra = unknown ? [w > 1 ? "a character outside the vocabulary here, fed as zeros" : "character outside the vocabulary, fed as zeros"] : [];
  if (r === null) {
    const rows = [];
    for (let k = 0; k < Math.min(p.rows, 8); k++) rows.push(`${p.row_names[k] ?? "x" + k} = ${fmt(p.data[k * C + c])}`);
    return { title: p.title, lines: [when, ...rows, ...extra] };
  }
  const v = p.data[r * C + c];
  const out = v > range.vmax ? " (above the colour range)" : v < range.vmin ? " (below the colour range)" : "";
  const name = p.row_names[r] ? p.row_names[r] : String(r);
  return { title: p.title, lines: [`${when}, ${p.row_label} ${name}`, `value = ${fmt(v)}${out}`, ...extra] };
}

function showTip(tip, content) {
  const title = document.createElement("b");
  title.textContent = content.title;
  const nodes = [title];
  for (const line of content.lines) {
    const div = document.createElement("div");
    div.textContent = line;
    nodes.push(div);
  }
  tip.replaceChildren(...nodes);
  tip.hidden = false;
}

function seek(state, c) {
  const w = state.header.bin;
  const t = Math.min(state.header.steps - 1, c * w + Math.floor(w / 2));
  window.dispatchEvent(new CustomEvent(SEEK_EVENT, { detail: { step: t } }));
}

// A file-name-safe piece of text: letters, digits, "_" and "-" only.
function safeName(text, fallback) {
  const clean = String(text ?? "").replace(/[^A-Za-z0-9_-]/g, "").slice(0, 64);
  return clean || fallback;
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
    const step = Math.max(0, Math.trunc(Number(state.step) || 0));
    a.download = `lstm-gate-lab-${safeName(state.header.id, "trace")}-step-${step}.png`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  }, "image/png");
}

function el(tag, className, props = {}) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  return Object.assign(node, props);
}

// The view's elements, built node by node (no markup strings anywhere in this file).
function skeleton() {
  const root = el("div", "lstmlab-trace");
  const bar = el("div", "bar");
  const title = el("span", "title", { textContent: "Gates and states over time" });
  const hint = el("span", "hint", { textContent: "hover for values · click to jump to a step" });
  const png = el("button", "png", { type: "button", title: "Save this view, with the cursor, as a PNG image", textContent: "Download PNG" });
  bar.append(title, hint, png);
  const holder = el("div", "holder");
  const canvas = el("canvas", "base");
  canvas.setAttribute("role", "img");
  const overlay = el("canvas", "overlay");
  const tip = el("div", "tip", { hidden: true });
  holder.append(canvas, overlay, tip);
  root.append(bar, holder);
  return { root, holder, canvas, overlay, tip, png };
}

export default function (component) {
  const { data, parentElement } = component;
  if (!data || !data.byteLength) return;
  const header = parse(data instanceof Uint8Array ? data : new Uint8Array(data));
  const luts = Object.fromEntries(Object.entries(header.scales).map(([k, v]) => [k, lut(v)]));
  const parts = skeleton();
  const { root } = parts;
  root.dataset.viewId = String(header.id ?? "");
  root.dataset.steps = String(header.steps);
  root.classList.toggle("present", Boolean(header.present));
  parentElement.querySelectorAll(".lstmlab-trace").forEach((n) => n.remove()); // an earlier mount's view
  parentElement.appendChild(root);
  const state = { header, luts, root, holder: parts.holder, canvas: parts.canvas, overlay: parts.overlay, tip: parts.tip,
    step: window.__lstmlabStep ?? 0, full: new Set() };
  state.canvas.setAttribute("aria-label", `${header.title}: heatmaps of ${header.panels.map((p) => p.title).join(", ")} over ${header.steps} steps`);
  const onStep = (e) => { state.step = e.detail.step; drawCursor(state); };
  window.addEventListener(STEP_EVENT, onStep);
  state.overlay.addEventListener("mousemove", (e) => {
    const rect = state.overlay.getBoundingClientRect();
    const hit = hitTest(state, e.clientX - rect.left, e.clientY - rect.top);
    state.overlay.style.cursor = hit?.bar && canToggle(hit.box.p) ? "pointer" : "";
    if (!hit) { state.tip.hidden = true; return; }
    showTip(state.tip, tooltip(state, hit));
    const left = e.clientX - rect.left + 14;
    state.tip.style.left = `${Math.max(0, Math.min(left, rect.width - state.tip.offsetWidth - 4))}px`;
    state.tip.style.top = `${e.clientY - rect.top + 12}px`;
  });
  state.overlay.addEventListener("mouseleave", () => { state.tip.hidden = true; });
  state.overlay.addEventListener("click", (e) => {
    const rect = state.overlay.getBoundingClientRect();
    const mx = e.clientX - rect.left;
    const hit = hitTest(state, mx, e.clientY - rect.top);
    if (hit?.bar) { // a colour bar: switch that panel between its robust and its full range
      if (!canToggle(hit.box.p)) return;
      const key = hit.box.p.key;
      if (state.full.has(key)) state.full.delete(key); else state.full.add(key);
      render(state);
      showTip(state.tip, tooltip(state, hit));
      return;
    }
    const first = state.layout?.boxes[0]; // anywhere above the time axis jumps to that step
    if (!first || mx < first.x || mx >= first.x + first.w) return;
    seek(state, Math.min(state.header.columns - 1, Math.floor(((mx - first.x) / first.w) * state.header.columns)));
  });
  parts.png.addEventListener("click", () => exportPng(state));
  let lastWidth = 0;
  const ro = new ResizeObserver(() => {
    const w = state.holder.clientWidth;
    if (Math.abs(w - lastWidth) > 2) { lastWidth = w; render(state); }
  });
  ro.observe(state.holder);
  render(state);
  root.dataset.ready = "1";
  window.__lstmlabTraceDrawn = true; // what waits for the first screen (components/step_follower.js) may go
  window.dispatchEvent(new CustomEvent("lstmlab:trace-ready"));
  return () => {
    window.removeEventListener(STEP_EVENT, onStep);
    ro.disconnect();
  };
}
