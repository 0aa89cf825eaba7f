"""app/ast_guard.py: two threads parsing at once no longer fail (CPython < 3.13 shares ast.parse's depth counter)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Two threads parse a page script over and over, with cyclic garbage whose collection runs Python code in the middle
# of a parse (what lets the other thread in); without the guard this fails within a second here.
RACE = r"""
import ast, sys, threading
sys.path.insert(0, {root!r})
if {guard}:
    from app import ast_guard
    assert ast_guard.install() and ast_guard.install()  # idempotent
src = open({script!r}).read()
errors = []

class Junk:
    def __del__(self):
        sum(range(50))

def work():
    for _ in range(300):
        junk = [Junk() for _ in range(50)]
        for j in junk:
            j.self = j
        del junk
        try:
            ast.parse(src)
        except SystemError as e:
            errors.append(str(e))
            return

sys.setswitchinterval(1e-6)
threads = [threading.Thread(target=work) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(errors[:1])
"""


@pytest.mark.skipif(sys.version_info >= (3, 13), reason="Python 3.13 keeps the depth per call; no guard needed")
def test_two_threads_parsing_at_once_never_fail_with_the_guard():
    code = RACE.format(root=str(ROOT), guard=True, script=str(ROOT / "app" / "screens" / "memory.py"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"


def test_the_app_installs_the_guard_before_its_pages_run():
    code = ("import ast, sys; from streamlit.testing.v1 import AppTest\n"
            f"at = AppTest.from_file({str(ROOT / 'app' / 'streamlit_app.py')!r}, default_timeout=120)\n"
            "at.run(); assert not at.exception, at.exception\n"
            "print(getattr(ast.parse, '_lstmlab_guarded', False))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == str(sys.version_info < (3, 13))
