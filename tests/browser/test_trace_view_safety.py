"""The trace view in Chromium: users' strings stay text, and the colour scale says what it shows.

The first test runs the real app with an uploaded file; the others mount app/components/trace_view.js
on a blank page with a message built here, so they test the view alone, whatever the page around it.
"""

import base64
import json
import re
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import expect

from app import colors, trace_payload
from app.trace_payload import Panel

HOSTILE = '<img src=x onerror="window.__pwned=1">'
VIEW_JS = Path(__file__).resolve().parents[2] / "app" / "components" / "trace_view.js"


def box_of(page, key):
    return json.loads(page.locator(".lstmlab-trace").get_attribute("data-panels"))[key]


def test_a_column_named_like_markup_is_shown_as_text_in_the_app(page, tmp_path):
    evil = tmp_path / "evil.csv"
    evil.write_text(f"{HOSTILE},b\n" + "".join(f"{k * 0.1:.2f},{(k % 5) / 5:.2f}\n" for k in range(30)))
    before = page.locator(".lstmlab-trace").element_handle()
    page.get_by_text("Upload a file", exact=True).click()
    page.locator("[data-testid=stFileUploaderDropzoneInput]").first.set_input_files(str(evil))
    expect(page.get_by_text("Your file evil.csv, sequence 0: what")).to_be_visible(timeout=30_000)
    page.wait_for_function("el => !el.isConnected", arg=before, timeout=30_000)  # the view of the new input
    expect(page.locator(".lstmlab-trace[data-ready='1']")).to_have_count(1)
    x, y, w, h = box_of(page, "x")
    page.locator(".lstmlab-trace canvas.overlay").hover(position={"x": x + w / 2, "y": y + h / 2})
    tip = page.locator(".lstmlab-trace .tip")
    expect(tip).to_contain_text(f"{HOSTILE} = ")
    expect(page.locator(".lstmlab-trace img")).to_have_count(0)
    assert page.evaluate("typeof window.__pwned") == "undefined"


@pytest.fixture
def view(browser):
    """A blank page with a `mount(payload_bytes)` that shows the trace view in a 1000 px wide box."""
    page = browser.new_page(viewport={"width": 1100, "height": 800}, device_scale_factor=1, accept_downloads=True)
    page.set_content('<div id="host" style="width: 1000px"></div>')
    page.add_script_tag(content=VIEW_JS.read_text().replace("export default function", "window.__mount = function"),
                        type="module")
    page.wait_for_function("() => typeof window.__mount === 'function'")

    def mount(payload: bytes):
        page.evaluate("b64 => window.__mount({data: Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)), "
                      "parentElement: document.getElementById('host')})", base64.b64encode(payload).decode())
        expect(page.locator(".lstmlab-trace[data-ready='1']")).to_have_count(1)
        return page

    yield mount
    page.close()


def pixel(page, x, y):
    return page.evaluate("([x, y]) => Array.from(document.querySelector('.lstmlab-trace canvas.base')"
                         ".getContext('2d').getImageData(x, y, 1, 1).data)", [round(x), round(y)])


def loud_cell_state(T: int = 40) -> np.ndarray:
    """(T, 8) waves of amplitude 1, but one unit 40 times louder."""
    c = np.tile(np.sin(np.arange(T) / 4)[:, None], (1, 8)).astype(np.float32)
    c[:, 0] *= 40
    return c


def hostile_message() -> bytes:
    T = 40
    one_hot = np.eye(6, dtype=np.float32)[np.arange(T) % 6]
    one_hot[[7, 20]] = 0.0
    c = loud_cell_state(T)
    r = colors.signed_range(c, "C_t")  # robust: the loud unit saturates
    panels = [Panel("x", f"x_t {HOSTILE}", HOSTILE, one_hot, scale="greys", row_label=HOSTILE,
                    row_names=(HOSTILE,) * 6, unknown_steps=(7, 20)),
              Panel("c", "C_t  cell state", "", c, scale="diverging", vmin=r.vmin, vmax=r.vmax, range_note=r.note,
                    under=r.under, over=r.over, full_range=r.full)]
    return trace_payload.encode(panels, T, title=HOSTILE, view_id='../<b>"x y"</b>')


def test_titles_names_and_ids_from_the_message_stay_text(view):
    page = view(hostile_message())
    x, y, w, h = box_of(page, "x")
    page.locator(".lstmlab-trace canvas.overlay").hover(position={"x": x + w * 0.3, "y": y + h * 0.1})
    tip = page.locator(".lstmlab-trace .tip")
    expect(tip).to_contain_text(f"x_t {HOSTILE}")
    expect(tip).to_contain_text(f", {HOSTILE} {HOSTILE}")  # the row label and the row's name
    expect(page.locator("img, b b")).to_have_count(0)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    with page.expect_download() as info:
        page.get_by_role("button", name="Download PNG").click()
    assert re.fullmatch(r"lstm-gate-lab-[A-Za-z0-9_-]+-step-\d+\.png", info.value.suggested_filename)
    assert info.value.suggested_filename.startswith("lstm-gate-lab-bxyb-step-")


def test_unknown_characters_and_saturated_values_are_marked(view):
    page = view(hostile_message())
    # red ticks under the input at the unknown steps 7 and 20, none at step 14
    x, y, w, h = box_of(page, "x")
    def red_near(t):
        cx = x + (t + 0.5) / 40 * w
        return any(p[0] > 150 and p[1] < 80 for p in (pixel(page, cx + d, y + h + 5) for d in (-1, 0, 1)))
    assert red_near(7) and red_near(20) and not red_near(14)
    x, y, w, h = box_of(page, "c")
    ranges = json.loads(page.locator(".lstmlab-trace").get_attribute("data-ranges"))
    lo, hi, under, over = ranges["c"]
    assert 0.9 < hi < 1.0 and lo == -hi and over > 0 and under > 0
    # the cap above the colour bar is drawn in the scale's top colour
    top = colors.SCALES["diverging"][-1]
    assert pixel(page, x + w + 14 + 7, y - 3)[:3] == [int(top[k:k + 2], 16) for k in (1, 3, 5)]
    # the colour bar explains itself and switches to the full range on a click, and back
    bar = {"x": x + w + 14 + 7, "y": y + h / 2}
    overlay = page.locator(".lstmlab-trace canvas.overlay")
    overlay.hover(position=bar)
    tip = page.locator(".lstmlab-trace .tip")
    expect(tip).to_contain_text("robust range (median unit's 99th pct of |C_t|)")
    expect(tip).to_contain_text("click for the full range")
    overlay.click(position=bar)
    expect(tip).to_contain_text("click for the robust range")
    top = float(np.abs(loud_cell_state()).max())
    assert json.loads(page.locator(".lstmlab-trace").get_attribute("data-ranges"))["c"] == [
        pytest.approx(-top), pytest.approx(top), 0, 0]
    overlay.click(position=bar)
    assert json.loads(page.locator(".lstmlab-trace").get_attribute("data-ranges"))["c"] == [lo, hi, under, over]
