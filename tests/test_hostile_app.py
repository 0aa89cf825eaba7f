"""A hostile corpus against the Explore page (AppTest): tampered links, path traversal, script- and
markdown-bearing strings in every place a user's string is shown. Nothing raises, nothing outside
assets/ is read, every string is shown as text, and each refused value leaves a notice.

The browser half (tests/browser/test_hostile_browser.py) checks that nothing runs in Chromium.
"""

import re
from pathlib import Path

import numpy as np
import pytest

from app import state as S
from app.data import SAMPLE_FILES
from app.text import plain
from lstm_core.readers import ReadOptions, read_sequences

from .test_app import bridge, fresh, goto, heading, message, step_view, unescape

SCRIPTS = ['<img src=x onerror="window.__pwned=1">', "</text></svg><iframe srcdoc='<script>parent.__pwned=1</script>'>",
           "![](http://127.0.0.1:9/pixel.png)", "<style>*{background:red}</style>", ":red[alarm] $x^2$ **bold**",
           "[click](javascript:alert(1))"]
TRAVERSALS = ["../../requirements.txt", "/etc/passwd", "..%2F..%2Frequirements.txt", "sine.csv/../../README.md",
              "C:\\Windows\\win.ini"]


def texts(at) -> list[str]:
    """Every Markdown body the page renders (titles, captions, alerts, expander labels)."""
    out = [m.value for m in at.markdown] + [c.value for c in at.caption]
    out += [a.value for kind in (at.info, at.warning, at.error, at.success) for a in kind]
    out += [e.label for e in at.expander]
    return out


def assert_never_raw(at, hostile: str):
    """The hostile string never reaches Markdown as it is: wherever it is shown, it is escaped (app.text)."""
    for t in texts(at):
        assert hostile not in t, t[:200]


def shown_plainly(at, hostile: str) -> bool:
    """The hostile string appears on the page, escaped, exactly as written."""
    return any(plain(hostile) in t for t in texts(at))


@pytest.mark.parametrize("value", ["-5", "999999999999", "abc", "1.5", "", "<script>alert(1)</script>",
                                   "![](http://127.0.0.1:9/x.png)", "true"])
def test_every_url_key_with_a_bad_value_falls_back_with_a_notice(value):
    from urllib.parse import quote

    at = fresh("&".join(f"{key}={quote(value)}" for key in S.URL_KEYS))
    assert not at.exception
    notices = [unescape(w.value) for w in at.warning]
    if re.search(r"[<>\[\]!]", value):
        assert_never_raw(at, value)
    for key in S.URL_KEYS:  # every key refuses every one of these values, but the few a key's type allows:
        default = S.SCHEMA[key].default  # "true" for a switch, "-5" and "1.5" for a number with a fraction
        if (isinstance(default, bool) and value == "true") or (isinstance(default, float) and value in ("-5", "1.5")):
            assert at.session_state[key] == (True if isinstance(default, bool) else float(value)), key
            continue
        assert any(f"for {key!r}" in n and "using" in n for n in notices), (key, notices)
        assert (at.session_state[key] == S.SCHEMA[key].default_in(at.session_state)
                or key in ("step", "unit", "nudge_step")), key


def test_unknown_url_keys_and_huge_values_leave_a_notice_and_the_default_page():
    at = fresh("nonsense=1&task=copy&example_length=400000&step=-5&hidden=100000")
    assert not at.exception
    notices = " ".join(unescape(w.value) for w in at.warning)
    assert "'nonsense' is not one this page knows" in notices
    assert "example_length" in notices and "above 100,000" in notices
    assert "'step'" in notices and "below 0" in notices and "'hidden'" in notices
    assert at.session_state["task"] == "copy" and at.session_state["example_length"] == 0
    assert step_view(at)["t"] == 0


@pytest.mark.parametrize("name", TRAVERSALS)
def test_sample_file_names_outside_the_allow_list_open_nothing(name, monkeypatch):
    opened = []
    real = type(SAMPLE_FILES["sine.csv"]).read_bytes
    monkeypatch.setattr(type(SAMPLE_FILES["sine.csv"]), "read_bytes", lambda p: opened.append(str(p)) or real(p))
    at = fresh(f"sequence_source=sample&sample_file={name}")
    assert not at.exception
    assert any("sample_file" in unescape(w.value) for w in at.warning)
    assert at.session_state["sample_file"] == "sine.csv"
    assets = SAMPLE_FILES["sine.csv"].parents[1].resolve()
    assert all(Path(p).resolve().is_relative_to(assets) for p in opened), opened  # samples and shipped models
    assert "your file sine.csv" in heading(at)


def test_the_sample_allow_list_holds_only_files_in_assets():
    root = SAMPLE_FILES["sine.csv"].parent.resolve()
    assert all(p.resolve().parent == root for p in SAMPLE_FILES.values())
    assert "make_samples.py" not in SAMPLE_FILES and "README.md" not in SAMPLE_FILES


def _hostile_upload(at, data: bytes, name: str):
    """What a successful upload leaves in session state (AppTest has no file uploader)."""
    at.session_state[S.UPLOADED_SEQUENCES] = read_sequences(data, name=name, options=ReadOptions())
    at.session_state["sequence_source"] = "upload"
    return at.run()


@pytest.mark.parametrize("hostile", SCRIPTS)
def test_file_names_column_names_and_sequence_ids_are_shown_as_text(hostile):
    rows = "\n".join(f"{hostile if k < 30 else 'second'},{k / 10:.2f},{(k * 7 % 5) / 5:.2f}" for k in range(60))
    csv = f'sequence_id,"{hostile.replace(chr(34), chr(34) * 2)}",b\n{rows}\n'.encode()
    at = _hostile_upload(fresh(), csv, f"{hostile}.csv".replace("/", "_"))
    assert not at.exception
    assert_never_raw(at, hostile)
    assert shown_plainly(at, hostile)  # the sequence id, in the caption
    header, _ = message(at)
    x_panel = next(p for p in header["panels"] if p["key"] == "x")
    assert hostile in x_panel["row_names"]  # handed to the component as data; it writes text, never markup


def test_one_hot_column_names_reach_the_diagram_only_as_data():
    names = [f"{s}{k}" for k, s in enumerate(SCRIPTS)]
    eye = np.eye(len(names), dtype=int)
    rows = "\n".join(",".join(map(str, eye[k % len(names)])) for k in range(24))
    header_row = ",".join('"' + n.replace('"', '""') + '"' for n in names)
    at = _hostile_upload(fresh(), f"{header_row}\n{rows}\n".encode(), "onehot.csv")
    assert not at.exception
    for t in range(len(names)):
        goto(at, t)
        view = step_view(at)
        assert view["diagrams"][0]["text"]["x"] == names[t]  # the raw string, for textContent
    for name in names:
        assert_never_raw(at, name)


def test_model_metadata_strings_are_shown_as_text(tmp_path):
    import lstm_core

    ck = lstm_core.load_model(Path(__file__).resolve().parents[1] / "assets" / "models" / "adding-lstm.npz")
    hostile = SCRIPTS[0]
    ck.task = {**ck.task, "description": hostile, "feature_names": [hostile, "marker"]}
    ck.source = f"{hostile}.npz"
    at = fresh()
    at.session_state[S.UPLOADED_MODEL] = ck
    at.session_state["model_source"] = "uploaded"
    at.run()
    assert not at.exception
    assert_never_raw(at, hostile)
    assert any(plain(hostile) in c.value for c in at.sidebar.caption)


def test_the_trace_view_message_carries_a_sanitised_id():
    at = fresh()
    header, _ = message(at)
    assert re.fullmatch(r"[0-9a-f]{12}", header["id"])
    assert bridge(at)["step"] == 0
