"""Hostile strings in Chromium: a running script would set window.__pwned (or load an image, or turn the
page red); none of that happens, and each string is shown as the text it is."""

import re

import numpy as np
from playwright.sync_api import expect

from .harness import wait_for_explore

PWN = 'window.__pwned=1'
IMG = f'<img src=x onerror="{PWN}">'
FRAME = "</text></svg><iframe srcdoc='<script>parent.__pwned=1</script>'></iframe>"
STYLE = "<style>*{background:red !important}</style>"
REMOTE = "![](http://127.0.0.1:9/pixel.png)"


def nothing_ran(page):
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator("iframe[srcdoc]").count() == 0
    assert page.locator("img[src='x'], img[src*='127.0.0.1:9']").count() == 0
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background != "rgb(255, 0, 0)"


def upload(page, path):
    page.get_by_text("Upload a file", exact=True).click()
    page.locator("[data-testid=stFileUploaderDropzoneInput]").first.set_input_files(str(path))


def test_one_hot_column_names_reach_the_cell_diagram_as_text(page, tmp_path):
    names = ["a", IMG, FRAME, STYLE, REMOTE]
    eye = np.eye(len(names), dtype=int)
    header = ",".join('"' + n.replace('"', '""') + '"' for n in names)
    f = tmp_path / "onehot.csv"
    f.write_text(header + "\n" + "\n".join(",".join(map(str, eye[k % 5])) for k in range(20)) + "\n")
    upload(page, f)
    expect(page.get_by_text(re.compile(r"Your file onehot\.csv"))).to_be_visible(timeout=30_000)
    for t, name in enumerate(names):
        if t:
            page.evaluate("document.activeElement && document.activeElement.blur()")
            page.keyboard.press("ArrowRight")
        expect(page.locator(".lstmlab-step")).to_have_attribute("data-step", str(t), timeout=20_000)
        diagram = page.locator(".lstmlab-diagram svg").first
        expect(diagram).to_contain_text(name)  # the character of the step, written as text
        nothing_ran(page)


def test_sequence_ids_and_file_names_are_text(page, tmp_path):
    name = "<img src=x onerror=window.__pwned=1>"  # Chromium sends a file name's '"' as %22
    f = tmp_path / f"{name}.csv"
    rows = [f"{REMOTE},{k / 10:.1f}" for k in range(15)] + [f"{STYLE},{k / 10:.1f}" for k in range(12)]
    f.write_text("sequence_id,x\n" + "\n".join(rows) + "\n")
    upload(page, f)
    expect(page.get_by_text(f"Your file {name}.csv, sequence {REMOTE}: what")).to_be_visible(timeout=30_000)
    expect(page.locator(".lstmlab-trace")).to_have_attribute("data-steps", "15")
    expect(page.get_by_text(f"Showing {name}.csv: 2 sequence(s), 1 feature(s).")).to_be_visible()
    nothing_ran(page)


def test_markup_in_the_link_is_shown_as_text(browser, server):
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.goto(server + "/?task=" + IMG.replace(" ", "%20").replace('"', "%22") + "&sample_file=../../README.md"
              + "&step=-5&" + "x%3Cscript%3E=1")
    wait_for_explore(page)
    expect(page.get_by_text(re.compile(r"for 'task' is not one of"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"'\.\./\.\./README\.md' for 'sample_file'"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"'-5' for 'step' is below 0"))).to_be_visible()
    nothing_ran(page)
    expect(page.locator(".lstmlab-step")).to_have_attribute("data-step", "0")
    page.close()
