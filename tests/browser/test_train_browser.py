"""The Train page in Chromium: three models train side by side, the loss chart gains points while they do (at
least once a second), Stop ends them with their results, and Open on Explore shows a trained model there."""

import re

from playwright.sync_api import expect

from .harness import wait_for_explore

GROWTH_MS = 1000  # the loss chart must gain points at least this often while the models train
GROWTHS = 5  # how many times in a row


def sidebar_number(page, label: str, value: int) -> None:
    box = page.locator("[data-testid=stSidebar]").get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Enter")
    expect(box).to_have_value(str(value))


def test_three_models_train_live_stop_and_open_on_explore(browser, server):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server + "/train")
    expect(page.get_by_text("What must be remembered")).to_be_visible(timeout=60_000)
    sidebar = page.locator("[data-testid=stSidebar]")
    sidebar.get_by_label("Task", exact=True).click()
    page.get_by_role("option", name="Adding problem").click()
    expect(page.get_by_text(re.compile(r"What must be remembered: Among 100 random values"))).to_be_visible()
    sidebar_number(page, "Length T", 30)
    expect(page.get_by_text(re.compile(r"What must be remembered: Among 30 random values"))).to_be_visible()
    slider = sidebar.get_by_role("slider", name="Training sequences")
    slider.focus()
    slider.press("Home")  # 250 sequences: epochs of a fraction of a second
    expect(slider).to_have_attribute("aria-valuetext", "250")
    sidebar_number(page, "Time budget in seconds", 60)

    page.get_by_role("button", name=re.compile(r"Train 3 model")).click()
    stop = page.get_by_role("button", name=re.compile(r"■ Stop"))
    expect(stop).to_be_visible(timeout=30_000)
    points = page.locator("[aria-roledescription='point']")  # the loss chart's points (SVG marks)
    expect(points.first).to_be_attached(timeout=60_000)  # the first epoch has been reported
    for _ in range(GROWTHS):
        n = points.count()
        expect(points).not_to_have_count(n, timeout=GROWTH_MS)  # new epochs on the chart within a second
    expect(page.get_by_text(re.compile(r"^epoch \d+ of at most 200"))).not_to_have_count(0)

    stop.click()
    table = page.locator("[data-testid=stTable]")
    expect(table).to_contain_text("validation mse (best epoch)", timeout=60_000)
    for model in ("LSTM (vanilla, 32 units)", "GRU (32 units)", "RNN (32 units)"):
        expect(table).to_contain_text(model)
    expect(table).to_contain_text("stopped")
    expect(page.get_by_role("button", name="Download checkpoint (.npz)")).not_to_have_count(0)
    page.get_by_role("button", name="Open on Explore").first.click()
    wait_for_explore(page)
    expect(page.get_by_role("radio", name="Uploaded model")).to_be_checked()
    expect(page.get_by_text(re.compile(r"Using LSTM \(vanilla, 32 units\) trained on adding from the Train page"))) \
        .to_be_visible()
    expect(page.locator("[data-testid=stException]")).to_have_count(0)
    page.close()
