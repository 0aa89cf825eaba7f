"""Uploads in Chromium: a valid CSV becomes the explored sequence; a bad file gets a specific message
while the previous sequence stays on screen."""

import re

from playwright.sync_api import expect


def test_upload_a_csv_then_a_bad_file(page, tmp_path):
    good = tmp_path / "mine.csv"
    good.write_text("time,level\n" + "\n".join(f"2024-01-01 00:{m:02d}:00,{(m % 7) / 7:.3f}" for m in range(40)))
    bad = tmp_path / "broken.csv"
    bad.write_text("a,b\n1,2\n3\n4,5\n")
    page.get_by_text("Upload a file", exact=True).click()
    uploader = page.locator("[data-testid=stFileUploaderDropzoneInput]").first
    uploader.set_input_files(str(good))
    expect(page.get_by_text("Your file mine.csv, sequence 0: what")).to_be_visible(timeout=30_000)
    expect(page.locator(".lstmlab-trace[data-steps='40']")).to_have_count(1)
    expect(page.locator("svg title").first).to_have_text(re.compile(r"at step t = 0$"))
    page.get_by_role("button", name="Forward ▶").click()
    expect(page.locator("svg title").first).to_have_text(re.compile(r"at step t = 1$"))
    uploader.set_input_files(str(bad))
    expect(page.get_by_text("broken.csv: row 3: expected 2 fields")).to_be_visible(timeout=30_000)
    # the previous sequence is still the one on screen
    expect(page.get_by_text("Your file mine.csv, sequence 0: what")).to_be_visible()
    expect(page.locator(".lstmlab-trace[data-ready='1']")).to_have_count(1)


def test_one_click_sample_shows_its_checks(page):
    page.get_by_text("Sample file", exact=True).click()
    expect(page.get_by_text(re.compile(r"Your file sine\.csv"))).to_be_visible(timeout=30_000)
    page.get_by_text(re.compile(r"^Your data: sine\.csv")).click()
    expect(page.get_by_text("header detected")).to_be_visible()
