"""The cell registry (lstm_core/registry.py) and the package's shape: one record per kind, imports that run
one way, torch only where torch is needed.

The toy kind below is what adding a cell kind takes: a record, its step function (with its equations as
text), its loop, and (for the app's step view) a diagram. Nothing else in lstm_core or app changes.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import lstm_core
from app import figures, step_view
from lstm_core import loop_codes, registry
from lstm_core.registry import CellKind, Quantity
from lstm_core.step import Params, Step

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "lstm_core"
LEAK = 0.9  # the toy kind's state keeps 90% of itself each step


# --- a toy kind: a leaky average of a tanh unit, h_t = 0.9 h_{t-1} + 0.1 tanh(W x_t + U h_{t-1} + b)

def leaky_step(p: Params, x_t, prev: dict, variant: str = "vanilla", nonlinearity: str = "tanh") -> Step:
    pre_u = x_t @ p.weight_ih.T + prev["h"] @ p.weight_hh.T + p.bias_ih + p.bias_hh
    u = np.tanh(pre_u)
    return Step({"pre_u": pre_u, "u": u, "h": LEAK * prev["h"] + (1 - LEAK) * u})


def leaky_run(net, x: np.ndarray) -> dict:
    """The whole sequence, (B, T, F) -> {name: (B, T, H)}: here simply the step in a loop."""
    B, T, _ = x.shape
    H = net.hidden_size
    out = {k: np.zeros((B, T, H), np.float32) for k in ("pre_u", "u", "h")}
    h = np.zeros((B, H), np.float32)
    for t in range(T):
        s = leaky_step(net.params, x[:, t], {"h": h})
        for k in out:
            out[k][:, t] = s[k]
        h = s["h"]
    return out


def leaky_equations(v: dict, variant: str = "vanilla", nonlinearity: str = "tanh") -> list[dict]:
    return [{"eq": "u_{t} = tanh(W x_{t} + U h_{t−1} + b)", "num": [f"= {v['u']:.3f}"]},
            {"eq": "h_{t} = 0.9 h_{t−1} + 0.1 u_{t}", "num": [f"= {v['h']:.3f}"]}]


LEAKY = CellKind(
    name="leaky", label="Leaky", title="leaky average", blocks=("u",), states=("h",),
    quantities=(Quantity("u", "u_t", "u_t", "update", "what the state moves towards", "diverging", (-1.0, 1.0),
                         "value (−1…1)"),
                Quantity("h", "h_t", "h_t", "hidden state", "a slow average of u", "diverging", (-1.0, 1.0),
                         "value (−1…1)")),
    step=leaky_step, run=leaky_run, equations=leaky_equations, latex=(r"h_t = 0.9 h_{t-1} + 0.1 u_t",),
    torch_class=None, diagram=None)


@pytest.fixture
def leaky():
    registry.register(LEAKY)
    yield LEAKY
    registry.unregister("leaky")


def test_a_new_kind_is_one_record_and_every_part_of_the_core_and_app_reads_it(leaky):
    rng = np.random.default_rng(0)
    H, F, T = 3, 2, 40
    params = Params(*(rng.standard_normal(s).astype(np.float32) for s in ((H, F), (H, H), (H,), (H,))))
    net = lstm_core.Network("leaky", params)
    x = rng.standard_normal((T, F)).astype(np.float32)
    tr = lstm_core.trace(net, x)
    assert tr.quantities == ("u", "h") and set(tr) == {"u", "h", "pre_u"}

    h, by_hand = np.zeros(H), []  # the recursion written out, in float64
    for t in range(T):
        u = np.tanh(params.weight_ih @ x[t] + params.weight_hh @ h + params.bias_ih + params.bias_hh)
        h = 0.9 * h + 0.1 * u
        by_hand.append(h)
    np.testing.assert_allclose(tr["h"], np.array(by_hand), atol=1e-5)

    s = lstm_core.step_at(net, tr, 17)
    np.testing.assert_allclose(s["h"], tr["h"][17], atol=1e-6)
    np.testing.assert_array_equal(s["h_prev"], tr["h"][16])
    eqs = step_view.equations(net, s, 1)
    assert eqs[1]["num"] == [f"= {float(tr['h'][17, 1]):.3f}"]
    assert figures.quantity_panel(tr, "u").title.endswith("u_t  update")
    assert set(figures.diagram_ranges(tr)) == {"u", "h", "h_prev"}
    with pytest.raises(lstm_core.LabError, match="has no torch class"):
        lstm_core.make_cell("leaky", F, H)


def test_a_kind_is_checked_when_it_registers():
    with pytest.raises(lstm_core.LabError, match="exists already"):
        registry.register(registry.LSTM)
    bad = CellKind(**{**LEAKY.__dict__, "name": "stateless", "states": ("c",)})
    with pytest.raises(lstm_core.LabError, match="records 'h'"):
        registry.register(bad)


def test_the_weights_a_network_needs_come_from_the_record():
    for kind in lstm_core.CELLS.values():
        G = len(kind.blocks)
        p = Params(np.zeros((G * 4, 3), np.float32), np.zeros((G * 4, 4), np.float32), np.zeros(G * 4, np.float32),
                   np.zeros(G * 4, np.float32))
        assert lstm_core.Network(kind.name, p).hidden_size == 4
        wrong = Params(np.zeros((G * 4 + 1, 3), np.float32), p.weight_hh, p.bias_ih, p.bias_hh)
        with pytest.raises(lstm_core.LabError, match=rf"needs \({G * 4}, 3\)"):
            lstm_core.Network(kind.name, wrong)


def test_variants_and_nonlinearities_belong_to_their_kind():
    assert set(lstm_core.CELLS["lstm"].variants) == set(lstm_core.VARIANTS)
    assert set(lstm_core.CELLS["lstm"].variants) == set(loop_codes.VARIANT_CODES)  # each has a code
    with pytest.raises(lstm_core.LabError, match="applies to LSTM cells only; a GRU has none"):
        lstm_core.CELLS["gru"].variant("nfg")
    with pytest.raises(lstm_core.LabError, match="unknown LSTM variant 'nfgg'"):
        lstm_core.CELLS["lstm"].variant("nfgg")
    assert lstm_core.CELLS["rnn"].check_nonlinearity("relu") == "relu"
    removed = {v.name: v.fixes for v in lstm_core.CELLS["lstm"].variants.values() if v.fixes}
    assert removed == {"cifg": "i", "nfg": "f", "nig": "i", "nog": "o"}


# --- the package's shape

def _modules() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        names.append(".".join(parts))
    return names


TORCH_MODULES = {"lstm_core.bridge", "lstm_core.cells", "lstm_core.torch_files", "lstm_core.training",
                 "lstm_core.metrics", "lstm_core.pretrain"}


@pytest.mark.slow
def test_only_the_torch_side_imports_torch_each_module_in_a_fresh_interpreter():
    code = "import importlib, sys; importlib.import_module(sys.argv[1]); print('torch' in sys.modules)"
    procs = {m: subprocess.Popen([sys.executable, "-c", code, m], cwd=ROOT, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for m in _modules() if not m.endswith("__main__")}
    loads_torch = set()
    for m, p in procs.items():
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, f"{m}: {err}"
        if out.strip() == "True":
            loads_torch.add(m)
    assert loads_torch == TORCH_MODULES


def test_the_issue_check_runs_as_written():
    code = ("import lstm_core.step, lstm_core.network, lstm_core.tracing, sys; "
            "assert 'torch' not in sys.modules")
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True).returncode == 0


def _imports(path: Path, module: str):
    """(imported module, inside a function?, the source line) for each import of an lstm_core module."""
    tree = ast.parse(path.read_text())
    lines = path.read_text().splitlines()
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    inside = set()
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            inside |= {id(n) for n in ast.walk(fn)}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            target = f"{base}.{node.module}" if node.module else base
            targets = [target] if node.module else [f"{base}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names if a.name.startswith("lstm_core")]
        else:
            continue
        for t in targets:
            if t.startswith("lstm_core"):
                yield t, id(node) in inside, lines[node.lineno - 1]


def test_imports_run_one_way_and_a_late_import_is_only_for_start_up_time():
    known = set(_modules())
    graph = {}
    for m in known:
        base = PACKAGE.parent / m.replace(".", "/")
        path = base / "__init__.py" if base.is_dir() else base.with_suffix(".py")
        edges = set()
        for target, late, line in _imports(path, m):
            if target not in known:  # `from . import __version__` and the like: a name, not a module
                continue
            if late:
                assert "start-up time" in line, f"{m} imports {target} inside a function without saying why: {line}"
            if target != m:
                edges.add(target)
        graph[m] = edges
    # the package's __init__ only names modules (lazily, by string); every other edge must form no cycle
    graph.pop("lstm_core", None)
    seen, done = set(), set()

    def visit(m, path):
        assert m not in seen or m in done, f"import cycle: {' -> '.join(path + [m])}"
        if m in done:
            return
        seen.add(m)
        for t in graph.get(m, ()):
            if t != "lstm_core":
                visit(t, path + [m])
        done.add(m)

    for m in graph:
        visit(m, [])
