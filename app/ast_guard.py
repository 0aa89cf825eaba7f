"""One `ast.parse` at a time in the server: a guard against a CPython 3.11/3.12 race.

CPython before 3.13 counts the depth of the AST it is turning into Python objects (`ast.parse`) in a counter
shared by all threads. The conversion allocates, an allocation can run the garbage collector and with it Python
code, and another thread may then parse too: the counter ends off and the parse fails with
"SystemError: AST constructor recursion depth mismatch" (python/cpython#106905 and its follow-ups). In this
server two threads parse at once when numba compiles the trace loops in the background (its lowering parses each
function's source, `numba.misc.firstlinefinder`) while Streamlit compiles a page script for a visit (its "magic",
`ast.parse` again): the page then fails with that error (seen in CI, on a fresh install's first compile).

`install()` wraps `ast.parse` in a lock, once per process; both callers look the function up on the module at each
call, so both go through it. Parsing is milliseconds and rare (a page script once per server, a numba function once
per compile), so the lock costs nothing measurable. Python 3.13 and later keep the counter per call: nothing is
installed there.
"""

from __future__ import annotations

import ast
import functools
import sys
import threading

_LOCK = threading.RLock()  # re-entrant: a finalizer run by the GC inside a parse may parse too


def install() -> bool:
    """Serialise `ast.parse` in this process (before 3.13); True if the guard is in place after the call."""
    if sys.version_info >= (3, 13):
        return False
    if getattr(ast.parse, "_lstmlab_guarded", False):
        return True
    parse = ast.parse

    @functools.wraps(parse)
    def guarded(*args, **kwargs):
        with _LOCK:
            return parse(*args, **kwargs)

    guarded._lstmlab_guarded = True
    ast.parse = guarded
    return True
