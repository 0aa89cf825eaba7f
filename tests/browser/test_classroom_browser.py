"""The classroom in Chromium (issue 15): every lesson stop, presentation mode at 1280x720 (type, fit), links
that reproduce a view in a fresh browser, tampered links, and the handout opened from disk offline."""

from __future__ import annotations

import math
import re

import pytest
from playwright.sync_api import expect

from app import lesson
from lstm_core import presets
from tests.browser.harness import app_server, wait_for_explore, wait_for_lesson
from tests.browser.measure import smallest_canvas_font, smallest_fonts
from tests.test_app import reference_trace

WIDTH, HEIGHT = 1280, 720
STOPS = lesson.STOPS


def equations(page) -> str:
    return page.locator(".lstmlab-eqs").first.inner_text()


def pick(page, k: int) -> None:
    """Click the k-th choice of the stop's question."""
    page.locator(".st-key-lesson_question [role='radiogroup'] label").nth(k).click()


@pytest.fixture
def small(browser):
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, accept_downloads=True)
    yield context.new_page()
    context.close()


@pytest.mark.slow
def test_walk_every_stop_reveal_answers_and_follow_the_url(small, server):
    small.goto(f"{server}/lesson")
    for k, stop in enumerate(STOPS):
        wait_for_lesson(small, bool(stop.panels))
        expect(small.get_by_role("heading", name=stop.title)).to_be_visible()
        if k:
            expect(small).to_have_url(re.compile(rf"[?&]stop={k}(&|$)"))
        q = stop.question
        expect(small.get_by_text("Predict first")).to_be_visible()
        wrong = next(i for i in range(len(q.choices)) if i != q.right)
        pick(small, wrong)
        expect(small.get_by_text("Not quite: the answer is")).to_be_visible()
        pick(small, q.right)
        expect(small.get_by_text(re.compile(r"^Right\."))).to_be_visible()
        if k + 1 < len(STOPS):
            small.get_by_role("button", name="Next ▶").click()
    small.get_by_role("button", name="◀ Previous").click()
    expect(small.get_by_role("heading", name=STOPS[-2].title)).to_be_visible()
    expect(small).to_have_url(re.compile(rf"[?&]stop={len(STOPS) - 2}(&|$)"))


@pytest.mark.parametrize("k", range(len(STOPS)))
def test_presentation_mode_type_is_18px_or_more_and_the_figure_fits_1280x720(small, server, k):
    stop = STOPS[k]
    small.goto(f"{server}/lesson?stop={k}&present=true")
    wait_for_lesson(small, bool(stop.panels))
    expect(small.locator("section[data-testid='stSidebar']")).to_be_hidden()
    fonts = smallest_fonts(small, 3)
    assert fonts and fonts[0]["size"] >= 18, fonts
    question = small.locator(".st-key-lesson_question").bounding_box()
    assert question["y"] < HEIGHT  # the question starts on the first screen
    if stop.panels:
        assert smallest_canvas_font(small) >= 18
        canvas = small.locator(".lstmlab-trace canvas.overlay").bounding_box()
        assert canvas["y"] + canvas["height"] <= HEIGHT, (k, canvas)  # the whole figure, no scrolling
    else:
        chart = small.locator("[data-testid='stVegaLiteChart']").first.bounding_box()
        assert chart["y"] + chart["height"] <= HEIGHT, (k, chart)


def test_explore_in_presentation_mode_fits_and_reads_from_the_back(small, server):
    small.goto(f"{server}/?task=copy&present=true")
    wait_for_explore(small)
    fonts = smallest_fonts(small, 3)
    assert fonts[0]["size"] >= 18, fonts
    assert smallest_canvas_font(small) >= 18
    canvas = small.locator(".lstmlab-trace canvas.overlay").bounding_box()
    assert canvas["y"] + canvas["height"] <= HEIGHT
    small.get_by_text("Presentation mode", exact=True).click()  # off again: the sidebar is back, the link forgets it
    expect(small.locator("section[data-testid='stSidebar']")).to_be_visible()
    expect(small).not_to_have_url(re.compile("present="))


def fresh_page(browser, url: str):
    """A new browser context (no cookies, no storage): another student's browser."""
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    page.goto(url)
    return context, page


def test_a_copied_explore_address_opens_the_same_step_and_numbers_elsewhere(browser, server):
    a_ctx, a = fresh_page(browser, f"{server}/?task=copy&variant=nfg&example_seed=3&unit=5")
    wait_for_explore(a)
    a.get_by_role("button", name="Forward ▶", exact=True).click()
    a.get_by_role("button", name="Forward ▶", exact=True).click()
    expect(a.locator(".lstmlab-trace")).to_have_attribute("data-step", "2")
    expect(a).to_have_url(re.compile(r"step=2"))  # the bridge writes it once the person pauses
    address, numbers = a.url, equations(a)
    b_ctx, b = fresh_page(browser, address)
    wait_for_explore(b)
    expect(b.locator(".lstmlab-trace")).to_have_attribute("data-step", "2")
    assert equations(b) == numbers
    f = float(reference_trace("copy", seed=3, variant="nfg")["i"][2, 5])  # torch's trace, independently
    assert f"{f:.3f}".replace("-", "−") in numbers
    a_ctx.close()
    b_ctx.close()


def test_a_lesson_link_with_hand_set_weights_shows_the_same_numbers(browser, server):
    k = next(i for i, s in enumerate(STOPS) if s.key == "forget")
    url = f"{server}/lesson?stop={k}&step=50&hand_f_b=2.0&present=true"
    a_ctx, a = fresh_page(browser, url)
    wait_for_lesson(a)
    expect(a).to_have_url(re.compile(r"step=50"))  # a full run rewrites the link; the bridge puts the step back
    b_ctx, b = fresh_page(browser, a.url)
    wait_for_lesson(b)
    for page in (a, b):
        expect(page.locator(".lstmlab-trace")).to_have_attribute("data-step", "50")
        expect(page.locator(".lstmlab-eqs").first).to_contain_text(f"{1 / (1 + math.exp(-2.0)):.3f}")  # f = σ(b_f)
    assert equations(a) == equations(b)
    assert presets.preset("latch").weight("f", "b") != 2.0  # the link's weight, not the preset's
    a_ctx.close()
    b_ctx.close()


def test_tampered_links_fall_back_with_a_notice_and_never_raise(small, server):
    small.goto(f"{server}/lesson?stop=99&present=maybe&hand_f_b=1e9&step=-4")
    wait_for_lesson(small)
    expect(small.get_by_role("heading", name=STOPS[0].title)).to_be_visible()
    for key in ("stop", "present", "hand_f_b", "step"):
        expect(small.get_by_text(re.compile(f"for '{key}'"))).to_be_visible()
    expect(small.locator("[data-testid='stException']")).to_have_count(0)


@pytest.mark.slow
def test_a_deep_link_is_the_first_request_of_a_fresh_server(browser):
    """Streamlit runs a page file on its own until st.navigation has run once (app/state.py)."""
    with app_server() as (url, _):
        context, page = fresh_page(browser, f"{url}/lesson?stop=3&step=9")
        wait_for_lesson(page)
        expect(page.get_by_role("heading", name=STOPS[3].title)).to_be_visible()
        expect(page.locator(".lstmlab-trace")).to_have_attribute("data-step", "9")
        context.close()


def test_the_handout_opens_from_disk_offline_and_shows_every_figure(browser, server, tmp_path):
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{server}/?task=copy&step=30")
    wait_for_explore(page)
    page.get_by_text("Handout and link").click()
    with page.expect_download() as info:
        page.get_by_role("button", name="Handout (HTML)").click()
    path = tmp_path / "handout.html"
    info.value.save_as(path)
    with page.expect_download() as info:
        page.get_by_role("button", name="Handout (PNG)").click()
    assert info.value.path().read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    context.close()

    offline = browser.new_context(offline=True, java_script_enabled=False)
    requests = []
    offline.route("**/*", lambda route: (requests.append(route.request.url),
                                         route.continue_() if route.request.url.startswith("file:")
                                         else route.abort()))
    page = offline.new_page()
    page.goto(path.as_uri())
    assert all(u.startswith("file:") for u in requests), requests  # nothing but the file itself was asked for
    expect(page.locator("h1")).to_contain_text("LSTM")
    panels = page.locator("figure svg[aria-label]")
    assert panels.count() >= 8  # the input, C_t, the RNN's h_t, the answers, f, i, C~, o, h ...
    images = page.locator("figure svg image")
    assert images.count() >= 7
    for k in range(images.count()):  # each heatmap is drawn: a box of its full size
        box = images.nth(k).bounding_box()
        assert box and box["width"] > 300 and box["height"] > 20
    expect(page.locator("figure svg title").first).to_contain_text("step t = 30")  # the diagrams, filled
    expect(page.get_by_text("Memory at a glance")).to_be_visible()
    expect(page.get_by_text("The step in numbers: t = 30")).to_be_visible()
    offline.close()
