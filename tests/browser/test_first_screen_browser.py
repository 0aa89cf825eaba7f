"""The first screen tells the story at 1280x720 with the sidebar open: the answers, the sentence on memory,
the main model's memory panel and the RNN's h_t are all inside the first viewport, for every task."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

import lstm_core
from tests.browser.harness import wait_for_explore

WIDTH, HEIGHT = 1280, 720


@pytest.fixture
def small(browser, server):
    p = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
    yield p
    p.close()


def _open(page, server, query: str):
    url = server[0] if isinstance(server, tuple) else server
    page.goto(f"{url}/?{query}")
    wait_for_explore(page)
    expect(page.locator(".st-key-story")).to_contain_text("Nudge")


def _bottom(page, selector: str) -> float:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return box["y"] + box["height"]


@pytest.mark.parametrize("task", list(lstm_core.TASKS))
def test_answers_sentence_and_both_memory_panels_are_in_the_first_viewport(small, server, task):
    _open(small, server, f"task={task}")
    story = small.locator(".st-key-story")
    expect(story).to_contain_text("Right answer")
    expect(story).to_contain_text("LSTM")
    expect(story).to_contain_text("vanilla RNN")
    assert small.evaluate("document.querySelector('.st-key-story').getBoundingClientRect().top") >= 0
    assert _bottom(small, ".st-key-story") <= HEIGHT
    canvas = small.locator(".lstmlab-trace canvas.overlay").bounding_box()
    panels = json.loads(small.locator(".lstmlab-trace").get_attribute("data-panels"))
    for key in ("c", "rnn_h"):  # the LSTM's cell state and the RNN's hidden state, whole
        x, y, w, h = panels[key]
        assert canvas["y"] + y + h <= HEIGHT, (task, key, canvas["y"] + y + h)


def test_the_sentence_changes_with_the_input(small, server):
    _open(small, server, "task=adding")
    first = small.locator(".st-key-story").inner_text()
    _open(small, server, "task=adding&example_seed=5")
    assert small.locator(".st-key-story").inner_text() != first


def test_text_is_drawn_as_characters_and_follows_the_step(small, server):
    _open(small, server, "task=charlm")
    text = small.locator(".lstmlab-text-body")
    expect(text.locator("span")).to_have_count(100)
    expect(small.locator(".lstmlab-text")).to_have_attribute("data-step", "0")
    text.locator("span").nth(7).click()  # a click on a character moves the step there
    expect(small.locator(".lstmlab-trace")).to_have_attribute("data-step", "7")
    expect(small.locator(".lstmlab-text")).to_have_attribute("data-step", "7")
    expect(small.locator(".lstmlab-text-now")).to_have_count(1)
    expect(small.locator(".lstmlab-answers")).to_contain_text("guesses next")
