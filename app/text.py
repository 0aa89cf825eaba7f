"""User strings on the page: the one place they are made safe to show.

Streamlit renders the body of st.markdown, st.caption, st.info, st.warning and st.error (and widget
labels) as Markdown, with its own extensions (`:red[...]`, `$math$`, `:material/icon:`). A file name,
column name, sequence id, model field or URL value shown there could load an image or restyle the page.
`plain(s)` escapes every ASCII punctuation character with a backslash (CommonMark shows an escaped
character literally), so the text reads exactly as the user wrote it and nothing in it is markup.
Messages built by the app use `say(template, *user_strings)`: the app's own words stay Markdown, the
user's strings go through `plain`.
"""

from __future__ import annotations

import re

_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character
_MAX = 300  # characters of one user string shown; the rest is cut with an ellipsis


def plain(s: object, limit: int = _MAX) -> str:
    """`s` as Markdown that shows its characters literally (and at most `limit` of them)."""
    text = str(s)
    if len(text) > limit:
        text = text[:limit] + "…"
    text = text.replace("\r", " ").replace("\n", " ")
    return _PUNCT.sub(r"\\\1", text)


def say(template: str, *strings: object) -> str:
    """The app's Markdown `template` with each `{}` filled by a user string made plain."""
    return template.format(*(plain(s) for s in strings))
