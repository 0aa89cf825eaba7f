"""LSTM Gate Lab: `streamlit run app/streamlit_app.py`. Explore is the default page."""

import os
import sys
from pathlib import Path

# One BLAS thread in the server, set before numpy is first imported (the first run of this script imports it).
# OpenBLAS's second thread, woken by each trace's input projection (tiny matrices), busy-waits for more work
# afterwards and takes CPU the other sessions' steps and a training job need (measured: about 10% of the wall time
# of the Memory page's gradient flow). An explicit OPENBLAS_NUM_THREADS is kept.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# No transparent huge pages for numpy's large arrays (a trace of 100,000 steps is 256 MB). numpy asks Linux for
# them, and with Debian's default (defrag "madvise") the kernel compacts memory at the first touch of each 2 MB
# page to find one: measured here, a kept 100,000-step LSTM trace took 1.0 s, 0.7 s of it in the kernel, against
# 0.25 s with ordinary pages; a server's memory, full of caches and sessions, is where that compaction stalls.
os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a checkout without installing the package
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from app import ast_guard, components, train_view  # noqa: E402
from app import state as S  # noqa: E402
from lstm_core import loops  # noqa: E402

ast_guard.install()  # numba compiles in background threads while Streamlit parses page scripts (app/ast_guard.py)
st.set_page_config(page_title="LSTM Gate Lab", page_icon="🧠", layout="wide")
# Our one stylesheet (a constant: no user string is ever part of it). Streamlit's default top padding is
# ~6rem (the toolbar needs 3.75rem); the first screen needs that room for the answers and the memory panels.
st.html("<style>[data-testid='stMainBlockContainer'] {padding-top: 3.75rem;} .st-key-lstmlab_runtime {display: none;}"
        "</style>")
components.load_runtime()
S.init()  # every page has the session-state schema (and the link's values) before it draws
# The page scripts live in app/screens/, not app/pages/: Streamlit treats a pages/ folder beside the entry
# script as its older automatic navigation, and a link straight to /memory would then run that page alone,
# without this file's S.init() (found by opening /memory in a fresh browser).
explore = st.Page(str(ROOT / "app" / "screens" / "explore.py"), title="Explore", url_path="explore", default=True,
                  icon=":material/timeline:")
pages = [
    explore,
    st.Page(str(ROOT / "app" / "screens" / "memory.py"), title="Memory", url_path="memory", icon=":material/memory:"),
    st.Page(str(ROOT / "app" / "screens" / "lesson.py"), title="Lesson", url_path="lesson", icon=":material/school:"),
    st.Page(str(ROOT / "app" / "screens" / "train.py"), title="Train", url_path="train",
            icon=":material/model_training:"),
]
# numba (the compiled trace loops) loads once the first page is on screen, not while it is drawn: Explore starts it
# when its trace view has drawn (sections.py), the other pages after their run. Small traces meanwhile run the loops'
# numpy twins, with the same numbers (lstm_core/loops.py).
loops.defer_warm_up()
page = st.navigation(pages)
if page.url_path != "train":
    train_view.keep_alive(page.url_path)  # a session's trainings go on while it looks at another page
page.run()
if page is not explore:
    loops.warm_up_in_background()
