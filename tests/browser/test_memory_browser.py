"""The Memory page in Chromium: it opens on the task chosen on Explore and draws every view."""

from __future__ import annotations

from playwright.sync_api import expect

from .harness import wait_for_explore

VIEWS = ("retention", "gradient", "saturation", "clamp", "trajectory", "ruler")


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
