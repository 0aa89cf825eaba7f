"""Stepping in Chromium: keys, buttons, the slider and heatmap clicks, fast and slow, always land on the
step the person asked for (the browser sends absolute targets; app/stepping.py explains the protocol)."""

import json
import re

import pytest
from playwright.sync_api import expect

from .harness import wait_for_explore


def shows(page, t: int, timeout: int = 20_000):
    """The numbers, the diagrams and the cursor all show step t."""
    expect(page.get_by_text(f"The step in numbers: t = {t}", exact=True)).to_be_visible(timeout=timeout)
    expect(page.locator("svg title").first).to_have_text(re.compile(rf"at step t = {t}$"), timeout=timeout)
    expect(page.locator(".lstmlab-trace")).to_have_attribute("data-step", str(t), timeout=timeout)


def click(page, name: str, times: int = 1):
    """Real mouse clicks on a button's centre (pointerdown, pointerup, click), as quickly as they come."""
    box = page.get_by_role("button", name=name, exact=True).bounding_box()
    for _ in range(times):
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def keys(page, key: str, times: int = 1):
    page.evaluate("document.activeElement && document.activeElement.blur()")
    for _ in range(times):
        page.keyboard.press(key)


def heatmap_click(page, fx: float):
    view = page.locator(".lstmlab-trace")
    x, y, w, h = json.loads(view.get_attribute("data-panels"))["c"]
    view.locator("canvas.overlay").click(position={"x": x + w * fx, "y": y + h / 2})


def slider_to(page, fx: float):
    """Click the time slider at a fraction of its width (a real mouse click)."""
    box = page.get_by_role("slider", name="Time step t").bounding_box()
    page.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] / 2)


def test_keys_buttons_slider_and_heatmap_clicks_mixed(page):
    shows(page, 0)
    keys(page, "ArrowRight", 3)  # fast: no waiting between presses
    shows(page, 3)
    click(page, "Forward ▶", 2)
    shows(page, 5)
    keys(page, "ArrowRight")  # the key reads the step on screen, not a stale one
    shows(page, 6)
    click(page, "◀ Back")
    shows(page, 5)
    slider_to(page, 0.5)
    t = int(page.get_by_role("slider", name="Time step t").input_value())
    assert 40 <= t <= 60
    shows(page, t)
    keys(page, "ArrowRight")  # the slider no longer has focus: the page's keys, from the slider's step
    shows(page, t + 1)
    page.get_by_role("slider", name="Time step t").focus()
    page.keyboard.press("ArrowLeft")  # the slider's own keys
    shows(page, t)
    keys(page, "ArrowLeft", 4)
    shows(page, t - 4)
    heatmap_click(page, 0.705)  # step 70 of 100 (each column is one step)
    shows(page, 70)
    keys(page, "ArrowLeft")
    shows(page, 69)
    keys(page, "PageDown")
    shows(page, 79)
    keys(page, "End")
    shows(page, 99)
    expect(page).to_have_url(re.compile(r"[?&]step=99(&|$)"))  # a copied link opens this step
    expect(page.get_by_role("button", name="Forward ▶", exact=True)).to_be_disabled()
    keys(page, "Home")
    shows(page, 0)
    expect(page.get_by_role("button", name="◀ Back", exact=True)).to_be_disabled()


def test_a_longer_input_moves_the_keys_end_and_the_cursor(browser, server):
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.goto(server + "/?task=sine")
    wait_for_explore(page)
    keys(page, "End")
    shows(page, 99)
    length = page.get_by_role("spinbutton", name="Length (steps)")
    length.fill("300")
    length.press("Enter")
    shows(page, 0)
    expect(page.locator(".lstmlab-trace")).to_have_attribute("data-steps", "300", timeout=20_000)
    keys(page, "End")
    shows(page, 299)
    keys(page, "ArrowLeft", 2)
    shows(page, 297)
    page.close()


@pytest.fixture
def slow_page(browser, slow_server):
    p = browser.new_page(viewport={"width": 1600, "height": 1000})
    p.goto(slow_server + "/")
    wait_for_explore(p)
    yield p
    p.close()


def test_play_plays_and_pauses_through_the_bridge(page):
    page.get_by_role("button", name="▶ Play").click()
    expect(page.get_by_role("button", name="⏸ Pause")).to_be_visible()
    expect(page.locator(".lstmlab-trace")).not_to_have_attribute("data-step", "0", timeout=10_000)
    page.get_by_role("button", name="⏸ Pause").click()
    expect(page.get_by_role("button", name="▶ Play")).to_be_visible()
    t = int(page.locator(".lstmlab-bridge").get_attribute("data-step"))
    shows(page, t)
    keys(page, "ArrowRight")
    shows(page, t + 1)  # paused: the step stays where the person left it


def test_a_pause_on_a_slow_server_stays_on_the_step_on_screen(slow_page):
    """A timer tick the server runs after drawing a step and before the pause arrives must not move the step."""
    page = slow_page
    bridge = page.locator(".lstmlab-bridge")
    for _ in range(3):
        page.get_by_role("button", name="▶ Play").click()
        shown = int(bridge.get_attribute("data-step"))
        expect(bridge).not_to_have_attribute("data-step", str(shown), timeout=10_000)  # it plays
        page.get_by_role("button", name="⏸ Pause").click()
        t = int(bridge.get_attribute("data-step"))  # the step on screen when the person paused
        seq = page.evaluate("window.__lstmlabBridge.seq")
        expect(bridge).to_have_attribute("data-ack", str(seq), timeout=20_000)  # the server has the pause
        shows(page, t)
        expect(page.get_by_role("button", name="▶ Play")).to_be_visible()


def test_quick_clicks_and_keys_on_a_slow_server_end_on_the_right_step(slow_page):
    page = slow_page
    shows(page, 0)
    click(page, "Forward ▶", 20)  # every step takes the server 150 ms longer than usual
    shows(page, 20)
    keys(page, "ArrowRight", 50)
    shows(page, 70)
    click(page, "◀ Back", 5)
    keys(page, "ArrowRight", 3)
    shows(page, 68)
    assert re.fullmatch(r"\d+", page.locator(".lstmlab-bridge").get_attribute("data-step"))


def test_a_move_shows_the_numbers_python_sent_ahead_before_the_server_answers(slow_page):
    """Python sends the views of the steps one move away with every step (app/stepping.py near_steps):
    Forward shows step 1's numbers at once, before the (slow) server has even applied the request, and its
    answer then carries the same numbers."""
    page = slow_page
    shows(page, 0)
    expect(page.locator(".lstmlab-bridge")).not_to_have_attribute("data-ack", "", timeout=10_000)
    ack0 = page.evaluate("""() => {
      const bridge = document.querySelector('.lstmlab-bridge');
      window.__firstSeen = null;
      const check = () => {
        const h = document.querySelector('.lstmlab-step-heading');
        if (window.__firstSeen || !h || h.textContent !== 'The step in numbers: t = 1') return;
        window.__firstSeen = { ack: bridge.dataset.ack, eqs: document.querySelector('.lstmlab-eqs').innerText };
      };
      new MutationObserver(check).observe(document.body, { subtree: true, childList: true, characterData: true });
      return bridge.dataset.ack;
    }""")
    click(page, "Forward ▶")
    shows(page, 1)
    expect(page.locator(".lstmlab-bridge")).not_to_have_attribute("data-ack", ack0, timeout=10_000)
    seen = page.evaluate("window.__firstSeen")
    assert seen is not None and seen["ack"] == ack0  # on screen before the server applied the move
    assert page.locator(".lstmlab-eqs").first.inner_text() == seen["eqs"]  # and the server's answer agrees
