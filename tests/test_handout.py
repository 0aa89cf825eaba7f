"""The handout builder (app/handout.py): self-contained, every user string escaped, the pictures true to
the numbers."""

import base64
import io
import re

import numpy as np
from PIL import Image

from app import handout
from app.colors import SCALES
from app.trace_payload import Panel

HOSTILE = '<img src=x onerror="window.__pwned=1"></svg><script>alert(1)</script>'


def sheet(title=HOSTILE, note=HOSTILE, memory=True) -> handout.Sheet:
    values = np.tile(np.linspace(0, 1, 40, dtype=np.float32)[:, None], (1, 3))  # (T=40, 3 rows)
    panels = (Panel("f", f"f_t {title}", note, values, units=HOSTILE),
              Panel("x", "x_t input", "the input", np.sin(np.arange(40, dtype=np.float32))[:, None], kind="lines",
                    vmin=-1, vmax=1, row_names=(HOSTILE,)))
    view = {"heading": "The step in numbers: t = 7", "answers": [HOSTILE],
            "blocks": [{"name": "lstm", "equations": [{"eq": "f_{t} = σ(…)", "num": ["= σ(0.500) = 0.622"]}]}],
            "diagrams": [{"template": "cell", "text": {"x": HOSTILE, "t": "7"},
                          "fill": {"f": "#123456", "o": "red;background:url(x)"}, "ink": {}}]}
    templates = {"cell": '<svg xmlns="http://www.w3.org/2000/svg"><text>{{x}} at {{t}}</text>'
                         '<rect fill="{{f_fill}}"/><rect fill="{{o_fill}}"/></svg>'}
    curves = {"LSTM C_t": np.linspace(1, 0.9, 40), "RNN h_t": np.exp(-np.arange(40.0))} if memory else {}
    return handout.Sheet(title, (f"Input: {HOSTILE}",), panels, 40, 7, (3,), view, templates, curves, 3,
                         "http://127.0.0.1:8501/lesson?stop=2&x=<b>", "This view online:")


def test_the_document_has_no_script_no_external_resource_and_no_raw_user_markup():
    doc = handout.html_document(sheet())
    assert "<script" not in doc.lower() and "onerror=" not in doc.replace("onerror=&quot;", "")
    assert HOSTILE not in doc and "&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;" in doc
    assert "x=&lt;b&gt;" in doc  # the link too
    refs = re.findall(r'(?:href|src)="([^"]*)"', doc)
    assert refs and all(r.startswith("data:image/png;base64,") for r in refs), refs  # nothing to fetch
    assert "url(" not in doc.split("<body>", 1)[1]  # a colour that is not #rrggbb is dropped
    assert 'fill="#123456"' in doc and 'fill="#dddddd"' in doc
    assert "f<sub>t</sub> = σ(…)" in doc  # equations keep their subscripts


def test_a_heatmap_is_drawn_in_its_scale_low_values_left_high_values_right():
    doc = handout.html_document(sheet(title="gates", note="n"))
    uri = re.search(r'href="data:image/png;base64,([^"]+)"', doc).group(1)
    img = np.asarray(Image.open(io.BytesIO(base64.b64decode(uri))).convert("RGB"))
    first, last = (np.array([int(c[k : k + 2], 16) for k in (1, 3, 5)]) for c in (SCALES["cividis"][0],
                                                                                  SCALES["cividis"][-1]))
    np.testing.assert_array_equal(img[0, 0], first)  # value 0 = vmin: the scale's first colour
    np.testing.assert_array_equal(img[-1, -1], last)  # value 1 = vmax: its last colour
    assert img.shape[1] == handout.WIDTH  # drawn at full width: 40 steps, each a block of equal columns
    np.testing.assert_array_equal(img[-1, : handout.WIDTH // 40 - 1], img[-1, :1].repeat(handout.WIDTH // 40 - 1, 0))


def test_every_figure_is_in_the_document():
    doc = handout.html_document(sheet(title="t", note="n"))
    assert doc.count("<figure>") == 2 + 1 + 1  # two panels, one diagram, the memory chart
    assert "Memory at a glance" in doc and "<polyline" in doc
    assert "Memory at a glance" not in handout.html_document(sheet(memory=False))


def test_the_png_is_a_png_of_the_same_sheet():
    png = handout.png_document(sheet(title="gates", note="n"))
    img = Image.open(io.BytesIO(png))
    assert img.format == "PNG" and img.width > handout.WIDTH and img.height > 300
