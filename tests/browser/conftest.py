"""Browser tests: the real app in Debian's Chromium, driven by Playwright (see harness.py)."""

import os
from pathlib import Path

import pytest

from .harness import CHROMIUM, app_server, launch, wait_for_explore


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(__file__).parent in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("LSTMLAB_REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)")
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium to run the browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = launch(pw)
        yield b
        b.close()


@pytest.fixture(scope="session")
def server():
    with app_server() as (url, _):
        yield url


@pytest.fixture(scope="session")
def slow_server():
    """The app on a server that takes 150 ms longer for every step (a busy class server)."""
    with app_server(env={"LSTMLAB_SLOW_STEP_MS": "150"}) as (url, _):
        yield url


@pytest.fixture
def page(browser, server):
    p = browser.new_page(viewport={"width": 1600, "height": 1000}, accept_downloads=True)
    p.goto(server + "/")
    wait_for_explore(p)
    yield p
    p.close()
