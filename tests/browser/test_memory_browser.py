"""The Memory page in Chromium: it opens on the task chosen on Explore and draws every view."""

from __future__ import annotations

from playwright.sync_api import expect

from .harness import wait_for_explore

VIEWS = ("retention", "gradient", "saturation", "clamp", "trajectory", "ruler", "sweep")


def test_the_memory_page_draws_every_view(page, server):
    page.goto(f"{server}/?task=copy")
    wait_for_explore(page)
    page.get_by_role("link", name="Memory").click()
    for view in VIEWS:
        box = page.locator(f".st-key-mem_{view}")
        box.scroll_into_view_if_needed()
        if view == "clamp":
            expect(box.locator(".lstmlab-trace[data-ready='1']")).to_be_visible(timeout=60_000)
        else:
            expect(box.locator(".vega-embed").first).to_be_visible(timeout=60_000)
            expect(box.locator(".vega-embed svg, .vega-embed canvas").first).to_be_visible()
    expect(page.get_by_text("See 5 symbols (of 8)")).to_be_visible()  # the task chosen on Explore stays
    expect(page.locator("[data-testid=stException]")).to_have_count(0)


def test_the_delay_sweep_says_where_each_model_falls_to_chance(page, server):
    page.goto(f"{server}/memory?task=adding&sweep_delay=30")
    box = page.locator(".st-key-mem_sweep")
    box.scroll_into_view_if_needed(timeout=60_000)
    expect(box.locator(".vega-embed svg, .vega-embed canvas").first).to_be_visible(timeout=60_000)
    for model in ("LSTM:", "GRU:", "vanilla RNN:"):
        expect(box).to_contain_text(model)
    expect(box).to_contain_text("python -m lstm_core sweep")  # the command that made the shipped results
    rerun = box.get_by_role("button", name="▶ Rerun LSTM, GRU, vanilla RNN at delay 30 in the background")
    expect(rerun).to_be_visible()  # the delay came from the link
    expect(page.locator("[data-testid=stException]")).to_have_count(0)


def test_text_shows_its_interpretable_cells(page, server):
    page.goto(f"{server}/memory?task=charlm")
    box = page.locator(".st-key-mem_text")
    box.scroll_into_view_if_needed(timeout=60_000)
    expect(box).to_contain_text("position in the line: unit")
    expect(box.locator(".lstmlab-text-body span")).to_have_count(100)


def test_a_link_straight_to_a_page_keeps_its_settings(page, server):
    """A fresh browser landing on /memory or /explore (not /) still gets the session set up from the link."""
    page.goto(f"{server}/memory?task=copy&memory_mode=perturb")
    expect(page.locator(".st-key-mem_retention")).to_contain_text("move it by 1", timeout=60_000)
    expect(page.get_by_text("See 5 symbols (of 8)")).to_be_visible()
    expect(page.locator("[data-testid=stException]")).to_have_count(0)
    page.goto(f"{server}/explore?task=spike")
    wait_for_explore(page)
    expect(page.locator(".st-key-story")).to_contain_text("Was there a spike early on")


def test_a_link_to_a_clamp_shows_the_same_held_numbers_in_another_browser(browser, server):
    """A clamp (hold f = 0 on units 2 and 5 from step 30) travels in the address: a fresh browser context
    opened on the copied address draws the same held cell state and says the same answer."""
    shown = []
    url = f"{server}/memory?task=adding&clamp=custom&clamp_gate=f&clamp_value=0&clamp_units=2%2C%205&clamp_from=30"
    for _ in range(2):
        context = browser.new_context(viewport={"width": 1600, "height": 1000})
        page = context.new_page()
        page.goto(url)
        box = page.locator(".st-key-mem_clamp")
        box.scroll_into_view_if_needed(timeout=60_000)
        view = box.locator(".lstmlab-trace[data-ready='1']")
        expect(view).to_be_visible(timeout=60_000)
        expect(box).to_contain_text("with the gate held it says")
        shown.append((view.get_attribute("data-ranges"), view.get_attribute("data-view-id"),
                      box.locator("[data-testid=stMarkdownContainer]").last.inner_text()))
        url = page.url  # the second browser opens the address the first one shows
        context.close()
    assert "clamp_units=2" in url and "clamp_from=30" in url
    assert shown[0] == shown[1]
