"""Two people on a server that has just started: one opens a random model (its first use imports torch),
the other steps through the shipped numpy models at the same moment. Neither sees an error."""

import re

from playwright.sync_api import expect

from .harness import app_server, wait_for_explore


def test_two_sessions_one_importing_torch_see_no_error(browser):
    with app_server() as (url, _):  # a fresh server: torch is not imported yet
        a = browser.new_page(viewport={"width": 1280, "height": 720})
        b = browser.new_page(viewport={"width": 1280, "height": 720})
        a.goto(url + "/?model_source=random&hidden=64", wait_until="commit")
        b.goto(url + "/", wait_until="commit")
        wait_for_explore(b)
        for _ in range(15):  # B steps while A's session loads torch
            b.evaluate("document.activeElement && document.activeElement.blur()")
            b.keyboard.press("ArrowRight")
        wait_for_explore(a)
        expect(b.locator(".lstmlab-step")).to_have_attribute("data-step", "15", timeout=30_000)
        expect(a.locator(".lstmlab-trace canvas.base")).to_have_attribute(  # the title: in the heading's help
            "aria-label", re.compile(r"^LSTM \(vanilla, 64 units\) vs\. RNN \(tanh, 64 units\)"))
        for page in (a, b):
            expect(page.locator("[data-testid=stException]")).to_have_count(0)
            expect(page.locator("[data-testid=stAlertContentError]")).to_have_count(0)
        a.close()
        b.close()
