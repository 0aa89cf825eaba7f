"""The offline handout: the current view as one self-contained HTML file, and as one PNG image.

Pure builders (arrays and plain data in, bytes out; no Streamlit). The HTML needs no script, no font and no
network: heatmaps are PNG data URIs inside inline SVG, lines and the memory chart are SVG paths, the cell
diagrams are our own SVG templates with their slots filled in, and the one stylesheet is inline. Every
string that may come from a user (titles, feature names, a file's name, the link) is escaped in exactly one
place, `_t`, where it is written into the markup; the diagrams' colours must match #rrggbb or they are
dropped, as in the browser's step view.
"""

from __future__ import annotations

import base64
import html
import io
import re
from dataclasses import dataclass

import numpy as np

from .colors import LINES, SCALES
from .trace_payload import Panel, downsample

COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
SLOT = re.compile(r"\{\{(\w+)\}\}")
WIDTH = 900  # px of a panel's plot in the HTML and the PNG
CSS = """
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif; color: #111;
  max-width: 1000px; margin: 24px auto; padding: 0 16px; font-size: 16px; }
h1 { font-size: 1.5rem; margin: 0 0 4px 0; } h2 { font-size: 1.15rem; margin: 22px 0 6px 0; }
.meta { color: #444; margin: 2px 0; } .link { color: #444; font-size: 0.9rem; overflow-wrap: anywhere; }
figure { margin: 8px 0 14px 0; } figcaption { font-size: 0.95rem; color: #333; }
svg { display: block; max-width: 100%; height: auto; }
.eqs { display: grid; grid-template-columns: minmax(0, 1.3fr) minmax(0, 1fr); gap: 2px 16px;
  font-family: 'Latin Modern Math', 'STIX Two Math', 'Cambria Math', Georgia, serif; font-size: 1.05rem; }
.eqs div { border-bottom: 1px solid #eee; padding: 2px 0; } sub { font-size: 0.72em; }
.answers { font-weight: 600; } @media print { body { margin: 0; } }
"""


@dataclass(frozen=True)
class Sheet:
    """Everything the handout shows (app/classroom.py fills it from the page's own data)."""

    title: str  # the view, e.g. "LSTM (vanilla, 32 units) trained on copy vs. RNN ..."
    lines: tuple  # a few lines saying what runs and which step
    panels: tuple  # trace_payload.Panel, the heatmaps and line panels as on the page
    steps: int
    step: int
    marks: tuple
    view: dict  # stepping.view(...): heading, answers, equation blocks, diagrams
    templates: dict  # diagram name -> SVG template text (trusted files of ours)
    memory: dict  # {"LSTM C_t": (T,) change, ...}, or {} for no memory chart
    nudged: int = 0
    link: str = ""
    link_note: str = ""


def _t(s: object) -> str:
    """The one place a string enters the markup: escaped for text and for attribute values."""
    return html.escape(str(s), quote=True)


def _rich(s: str) -> str:
    """Equation text: escaped, then `_{...}` as a subscript (the step view's convention)."""
    return re.sub(r"_\{([^}]*)\}", r"<sub>\1</sub>", _t(s))


def _lut(scale: str) -> np.ndarray:
    anchors = np.array([[int(c[k : k + 2], 16) for k in (1, 3, 5)] for c in SCALES[scale]], float)
    pos = np.linspace(0, len(anchors) - 1, 256)
    a = np.minimum(pos.astype(int), len(anchors) - 2)
    t = (pos - a)[:, None]
    return np.round(anchors[a] * (1 - t) + anchors[a + 1] * t).astype(np.uint8)  # (256, 3)


def heatmap_rgb(p: Panel, columns: int = WIDTH) -> np.ndarray:
    """(rows, C, 3) colours of a heatmap panel, unit 0 at the bottom, values beyond the range in the end colours."""
    cols, _ = downsample(np.asarray(p.values, np.float32), columns)
    v = cols.T[::-1]  # (rows, C), unit 0 last (bottom)
    span = (p.vmax - p.vmin) or 1.0
    k = np.clip(np.round((np.nan_to_num(v, nan=p.vmin) - p.vmin) / span * 255), 0, 255).astype(int)
    rgb = _lut(p.scale)[k]
    rgb[~np.isfinite(v)] = 235
    return rgb


def png_bytes(rgb: np.ndarray, size: tuple | None = None) -> bytes:
    from PIL import Image

    img = Image.fromarray(np.ascontiguousarray(rgb, np.uint8), "RGB")
    if size is not None:
        img = img.resize(size, Image.NEAREST)
    out = io.BytesIO()
    img.save(out, "PNG", optimize=True)
    return out.getvalue()


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _x(t: float, steps: int) -> float:
    return 70 + (t + 0.5) / max(1, steps) * WIDTH


def panel_svg(p: Panel, steps: int, step: int, marks: tuple) -> str:
    """One panel as inline SVG: the heatmap image or the lines, the range, the step's cursor, the marks."""
    h = 60 if p.kind == "lines" else int(np.clip(p.values.shape[1] * 4, 48, 150))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH + 170} {h + 64}" '
             f'width="{WIDTH + 170}" role="img" aria-label="{_t(p.title)}">',
             f'<text x="70" y="16" font-size="15" font-weight="bold">{_t(p.title)}</text>',
             f'<text x="70" y="32" font-size="12" fill="#444">{_t(p.note)}</text>']
    top = 38
    if p.kind == "lines":
        span = (p.vmax - p.vmin) or 1.0
        cols, w = downsample(np.asarray(p.values, np.float32), WIDTH)
        for r in range(cols.shape[1]):
            pts = [f"{_x((c + 0.5) * w - 0.5, steps):.1f},{top + h - (v - p.vmin) / span * h:.1f}"
                   for c, v in enumerate(cols[:, r]) if np.isfinite(v)]
            if pts:
                parts.append(f'<polyline fill="none" stroke="{LINES[r % len(LINES)]}" stroke-width="2" '
                             f'points="{" ".join(pts)}"/>')
    else:
        rgb = heatmap_rgb(p)  # drawn at full size, so no viewer smooths the cells' edges
        uri = _data_uri(png_bytes(rgb, (WIDTH, h)))
        parts.append(f'<image x="70" y="{top}" width="{WIDTH}" height="{h}" preserveAspectRatio="none" '
                     f'style="image-rendering:pixelated" href="{uri}"/>')
        parts.append(f'<text x="{WIDTH + 78}" y="{top + 12}" font-size="12">{p.vmax:+.3g}</text>'
                     f'<text x="{WIDTH + 78}" y="{top + h}" font-size="12">{p.vmin:+.3g}</text>'
                     f'<text x="{WIDTH + 78}" y="{top + h / 2 + 4}" font-size="11" fill="#555">'
                     f'{_t(p.units)}</text>')
    parts.append(f'<rect x="70" y="{top}" width="{WIDTH}" height="{h}" fill="none" stroke="#888"/>')
    parts.append(f'<text x="64" y="{top + h / 2 + 4}" font-size="12" text-anchor="end">{_t(p.row_label)}</text>')
    for m in marks:
        parts.append(f'<line x1="{_x(m, steps):.1f}" x2="{_x(m, steps):.1f}" y1="{top}" y2="{top + h}" '
                     'stroke="#d55e00" stroke-dasharray="4 3" stroke-width="1.5"/>')
    x = _x(step, steps)
    parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + h + 4}" stroke="#d62728" stroke-width="2.5"/>'
                 f'<text x="{x + 4:.1f}" y="{top + h + 8}" font-size="12" fill="#d62728" dominant-baseline="hanging">'
                 f't = {int(step)}</text></svg>')
    return "".join(parts)


def memory_svg(curves: dict, nudged: int, step: int, steps: int) -> str:
    """The memory chart: each state's change after the nudge, scaled to the largest change."""
    h, top = 180, 10
    peak = max([float(np.nanmax(v)) for v in curves.values() if np.size(v)] + [1e-12])
    colours = {"LSTM h_t": "#0072b2", "LSTM C_t": "#56b4e9", "GRU h_t": "#009e73", "RNN h_t": "#d55e00"}
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH + 170} {h + 60}" width="{WIDTH + 170}" '
             'role="img" aria-label="memory chart">']
    for k, (name, v) in enumerate(curves.items()):
        v = np.asarray(v, float)
        every = max(1, len(v) // WIDTH)
        pts = " ".join(f"{_x(t, steps):.1f},{top + h - v[t] / peak * h:.1f}" for t in range(0, len(v), every))
        colour = colours.get(name, LINES[k % len(LINES)])
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2.5" points="{pts}"/>'
                     f'<text x="{WIDTH + 78}" y="{top + 16 + 18 * k}" font-size="13" fill="{colour}">{_t(name)}</text>')
    for t, colour, dash in ((nudged, "#999", ' stroke-dasharray="4 3"'), (step, "#d62728", "")):
        parts.append(f'<line x1="{_x(t, steps):.1f}" x2="{_x(t, steps):.1f}" y1="{top}" y2="{top + h}" '
                     f'stroke="{colour}" stroke-width="2"{dash}/>')
    parts.append(f'<rect x="70" y="{top}" width="{WIDTH}" height="{h}" fill="none" stroke="#888"/>'
                 f'<text x="{70 + WIDTH / 2}" y="{top + h + 22}" font-size="13" text-anchor="middle">time step t '
                 f'(0–{steps - 1}); the input at step {int(nudged)} raised by 1</text>'
                 f'<text x="64" y="{top + 12}" font-size="12" text-anchor="end">{peak:.3g}</text>'
                 f'<text x="64" y="{top + h}" font-size="12" text-anchor="end">0</text></svg>')
    return "".join(parts)


def _slot(name: str, d: dict) -> str:
    if name.endswith("_fill") or name.endswith("_text"):
        colour = (d.get("fill") if name.endswith("_fill") else d.get("ink") or {}).get(name[:-5])
        return colour if isinstance(colour, str) and COLOUR.match(colour) else "#dddddd"
    v = (d.get("text") or {}).get(name)
    return "" if v is None else _t(v)


def diagram_svg(d: dict, templates: dict) -> str:
    """A cell diagram: our template with every {{slot}} filled, text escaped, colours checked."""
    tpl = templates.get(d.get("template"))
    return "" if tpl is None else SLOT.sub(lambda m: _slot(m.group(1), d), tpl)


def equations_html(view: dict) -> str:
    out = []
    for block in view.get("blocks", ()):
        if block.get("caption"):
            out.append(f"<p class='meta'>{_t(block['caption'])}</p>")
        rows = "".join(f"<div>{_rich(e['eq'])}</div><div>{'<br>'.join(_rich(n) for n in e['num'])}</div>"
                       for e in block.get("equations", ()))
        out.append(f"<div class='eqs'>{rows}</div>")
    return "".join(out)


def html_document(s: Sheet) -> str:
    """The handout as one HTML document: no script, no external resource."""
    body = [f"<h1>{_t(s.title)}</h1>", *(f"<p class='meta'>{_t(line)}</p>" for line in s.lines)]
    if s.link:
        body.append(f"<p class='link'>{_t(s.link_note)} {_t(s.link)}</p>")
    body.append("<h2>Gates and states over time</h2>")
    body += [f"<figure>{panel_svg(p, s.steps, s.step, s.marks)}</figure>" for p in s.panels]
    if s.view:
        body.append(f"<h2>{_t(s.view.get('heading', 'The step in numbers'))}</h2>")
        body += [f"<p class='answers'>{_t(a)}</p>" for a in s.view.get("answers", ())]
        body.append(equations_html(s.view))
        body += [f"<figure>{diagram_svg(d, s.templates)}</figure>" for d in s.view.get("diagrams", ())]
    if s.memory:
        body.append("<h2>Memory at a glance</h2>")
        body.append(f"<figure>{memory_svg(s.memory, s.nudged, s.step, s.steps)}<figcaption>How much each state "
                    "changes at every step when one input is nudged.</figcaption></figure>")
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{_t(s.title)}</title><style>{CSS}</style></head><body>{''.join(body)}</body></html>")


# ------------------------------------------------------------------------------------------------
# The PNG: the same sheet drawn with Pillow (the heatmaps, the cursor, the equations' numbers, the memory chart)

def _font(size: int, bold: bool = False):
    from PIL import ImageFont

    for name in ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf",):
        for folder in ("/usr/share/fonts/truetype/dejavu/", ""):
            try:
                return ImageFont.truetype(folder + name, size)
            except OSError:
                continue
    return ImageFont.load_default(size)


def _plain(s: str) -> str:
    return re.sub(r"_\{([^}]*)\}", r"_\1", str(s))


def png_document(s: Sheet) -> bytes:
    """The handout as one PNG (a figure sheet for slides): the same content, drawn, no links."""
    from PIL import Image, ImageDraw

    left, width = 90, WIDTH
    eq_lines = []
    for b in (s.view or {}).get("blocks", ()):
        if b.get("caption"):
            eq_lines.append(str(b["caption"]))
        eq_lines += [_plain(e["eq"]) + "  " + "  ".join(_plain(n) for n in e["num"]) for e in b.get("equations", ())]
    heights = [60 if p.kind == "lines" else int(np.clip(p.values.shape[1] * 4, 48, 150)) for p in s.panels]
    total = 40 + 22 * len(s.lines) + sum(h + 44 for h in heights) + 30 + 22 * len(eq_lines) + (230 if s.memory else 0)
    img = Image.new("RGB", (left + width + 120, total + 20), "white")
    d = ImageDraw.Draw(img)
    y = 10
    d.text((10, y), s.title[:150], fill="#111", font=_font(18, True))
    y += 30
    for line in s.lines:
        d.text((10, y), str(line)[:170], fill="#444", font=_font(14))
        y += 22
    x_at = lambda t: left + (t + 0.5) / max(1, s.steps) * width  # noqa: E731
    for p, h in zip(s.panels, heights, strict=True):
        d.text((left, y + 4), f"{p.title}", fill="#111", font=_font(15, True))
        y += 26
        if p.kind == "lines":
            span = (p.vmax - p.vmin) or 1.0
            cols, w = downsample(np.asarray(p.values, np.float32), width)
            for r in range(cols.shape[1]):
                pts = [(x_at((c + 0.5) * w - 0.5), y + h - (v - p.vmin) / span * h) for c, v in enumerate(cols[:, r])
                       if np.isfinite(v)]
                if len(pts) > 1:
                    d.line(pts, fill=LINES[r % len(LINES)], width=2)
        else:
            rgb = heatmap_rgb(p)
            img.paste(Image.fromarray(rgb, "RGB").resize((width, h), Image.NEAREST), (left, y))
            d.text((left + width + 6, y), f"{p.vmax:+.3g}", fill="#111", font=_font(12))
            d.text((left + width + 6, y + h - 14), f"{p.vmin:+.3g}", fill="#111", font=_font(12))
        d.rectangle((left, y, left + width, y + h), outline="#888")
        for m in s.marks:
            d.line((x_at(m), y, x_at(m), y + h), fill="#d55e00", width=1)
        d.line((x_at(s.step), y, x_at(s.step), y + h + 4), fill="#d62728", width=3)
        y += h + 18
    d.text((10, y), (s.view or {}).get("heading", ""), fill="#111", font=_font(16, True))
    y += 28
    for line in eq_lines:
        d.text((20, y), line[:160], fill="#111", font=_font(14))
        y += 22
    if s.memory:
        y += 10
        d.text((10, y), "Memory at a glance: the change of each state after a nudge of one input", fill="#111",
               font=_font(15, True))
        y += 24
        peak = max([float(np.nanmax(v)) for v in s.memory.values()] + [1e-12])
        for k, (name, v) in enumerate(s.memory.items()):
            v = np.asarray(v, float)
            every = max(1, len(v) // width)
            colour = {"LSTM C_t": "#56b4e9", "RNN h_t": "#d55e00"}.get(name, LINES[k % len(LINES)])
            d.line([(x_at(t), y + 180 - v[t] / peak * 180) for t in range(0, len(v), every)], fill=colour, width=3)
            d.text((left + width + 6, y + 18 * k), name, fill=colour, font=_font(13))
        d.rectangle((left, y, left + width, y + 180), outline="#888")
        d.line((x_at(s.step), y, x_at(s.step), y + 180), fill="#d62728", width=2)
    out = io.BytesIO()
    img.save(out, "PNG", optimize=True)
    return out.getvalue()
