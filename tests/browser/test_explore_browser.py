"""The Explore page in Chromium: it loads, steps forward and back, and the charts and numbers follow."""

import json
import re

from playwright.sync_api import expect

from tests.test_app import reference_trace


def trace_view(page):
    return page.locator(".lstmlab-trace")


def panel_point(page, key, fx=0.5, fy=0.5):
    """A point inside the plot of panel `key`, as fractions of its width and height."""
    x, y, w, h = json.loads(trace_view(page).get_attribute("data-panels"))[key]
    return {"x": x + w * fx, "y": y + h * fy}


def lstm_diagram_title(page):
    return page.locator("svg title").first


def equations_text(page) -> str:
    return page.locator(".lstmlab-eqs").first.inner_text()


def test_page_loads_with_the_trace_the_numbers_and_the_diagrams(page):
    expect(trace_view(page)).to_have_attribute("data-step", "0")
    expect(lstm_diagram_title(page)).to_have_text(re.compile(r"LSTM cell, unit 0 at step t = 0"))
    f0 = reference_trace("adding")["f"][0, 0]  # the first screen: the shipped adding LSTM, unit 0, step 0
    expect(page.locator(".lstmlab-eqs").first).to_contain_text(f"{f0:.3f}")
    expect(page.get_by_text("Memory at a glance")).to_be_visible()
    # The memory chart comes by itself once the first screen has drawn (the step follower asks for it), in its
    # place: the three curves' legend, and no placeholder left.
    chart = page.locator(".st-key-memory_chart [data-testid='stVegaLiteChart']")
    expect(chart).to_have_count(1, timeout=15_000)
    expect(chart.locator("svg, canvas").first).to_be_attached()
    expect(page.get_by_text("Drawing the chart…")).to_have_count(0)


def test_forward_and_back_move_the_cursor_the_numbers_and_the_diagrams(page):
    before = equations_text(page)
    page.get_by_role("button", name="Forward ▶", exact=True).click()
    expect(trace_view(page)).to_have_attribute("data-step", "1")
    expect(lstm_diagram_title(page)).to_have_text(re.compile(r"at step t = 1$"))
    expect(page.get_by_text("The step in numbers: t = 1")).to_be_visible()
    after = equations_text(page)
    assert after != before
    page.get_by_role("button", name="Forward ▶", exact=True).click()
    expect(lstm_diagram_title(page)).to_have_text(re.compile(r"at step t = 2$"))
    page.get_by_role("button", name="◀ Back", exact=True).click()
    expect(trace_view(page)).to_have_attribute("data-step", "1")
    expect(lstm_diagram_title(page)).to_have_text(re.compile(r"at step t = 1$"))
    assert equations_text(page) == after


def test_arrow_keys_step_and_clicking_a_heatmap_jumps(page):
    page.evaluate("document.activeElement && document.activeElement.blur()")  # keys go to the page, not a widget
    page.keyboard.press("ArrowRight")
    expect(lstm_diagram_title(page)).to_have_text(re.compile(r"at step t = 1$"))
    page.keyboard.press("End")
    expect(lstm_diagram_title(page)).to_have_text(re.compile(r"at step t = 99$"))
    overlay = page.locator(".lstmlab-trace canvas.overlay")
    overlay.click(position=panel_point(page, "c", 0.5))  # the middle of the time axis
    expect(lstm_diagram_title(page)).to_have_text(re.compile(r"at step t = (49|50)$"))
    expect(trace_view(page)).to_have_attribute("data-step", re.compile(r"^(49|50)$"))


def test_hover_shows_step_unit_and_value_and_png_export_downloads(page):
    overlay = page.locator(".lstmlab-trace canvas.overlay")
    overlay.hover(position=panel_point(page, "f", 0.3, 0.5))
    tip = page.locator(".lstmlab-trace .tip")
    expect(tip).to_be_visible()
    expect(tip).to_contain_text(re.compile(r"step \d+, unit \d+"))
    expect(tip).to_contain_text("value = ")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download PNG").click()
    assert info.value.suggested_filename.endswith(".png")
    assert info.value.path().read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
