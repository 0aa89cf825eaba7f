"""Tracing a numpy model while another thread imports torch for the first time (step.py takes a tensor's own methods).

While torch is being imported, sys.modules["torch"] is a half-initialised module without `Tensor`;
code that read torch from there failed with "partially initialized module 'torch' has no attribute
'Tensor'". Each test runs in a fresh interpreter, so torch really is imported for the first time.
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]

RACE = r"""
import json, sys, threading
import numpy as np
import lstm_core
from lstm_core.checkpoint import versions

models = [lstm_core.load_model(f"assets/models/adding-{kind}.npz") for kind in ("lstm", "gru", "rnn")]
x = np.random.default_rng(0).random((60, 2), dtype=np.float32)
traces = [lstm_core.trace(m, x) for m in models]  # compiled loops loaded before the race starts
assert "torch" not in sys.modules, "torch was imported before the race"

WORKERS = 3
barrier = threading.Barrier(WORKERS + 1)
imported = threading.Event()
errors, during = [], [0] * WORKERS


def importer():
    barrier.wait()
    try:
        import torch  # noqa: F401
    except BaseException as e:
        errors.append(f"import: {type(e).__name__}: {e}")
    finally:
        imported.set()


def worker(k):
    barrier.wait()
    try:
        t = 0
        while not imported.is_set():  # every call below runs while torch is (being) imported
            if k == WORKERS - 1:  # the last worker saves checkpoints: versions() never looks at torch
                versions()
            else:
                m, tr = models[t % 3], traces[t % 3]
                step = lstm_core.step_at(m, tr, t % 60)
                if not np.allclose(step["h"], tr["h"][t % 60], atol=1e-5):
                    errors.append(f"worker {k}: step {t % 60} of {m.kind} does not match its trace")
                lstm_core.trace(m, x[:5])
            during[k] += 1
            t += 1
    except BaseException as e:
        errors.append(f"worker {k}: {type(e).__name__}: {e}")


threads = [threading.Thread(target=importer)] + [threading.Thread(target=worker, args=(k,)) for k in range(WORKERS)]
for th in threads:
    th.start()
for th in threads:
    th.join()
print(json.dumps({"errors": errors, "during": during, "torch": "torch" in versions()}))
"""

HALF = r"""
import json, sys, types
import numpy as np
import lstm_core

ck = lstm_core.load_model("assets/models/adding-lstm.npz")
x = np.ones((4, 2), np.float32)
half = types.ModuleType("torch")  # what sys.modules holds while torch/__init__.py is still running
sys.modules["torch"] = half
tr = lstm_core.trace(ck, x)
s = lstm_core.step_at(ck, tr, 3)
from lstm_core import step
print(json.dumps({"h": float(s["h"][0]), "trace_h": float(tr["h"][3, 0]),
                  "sigmoid": float(step.sigmoid(np.float32(0.0))), "tanh": step.tanh(np.zeros(2)).tolist()}))
"""


def _run(code: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.slow  # a fresh interpreter imports torch while three threads trace: 8-17 s
def test_step_at_and_trace_run_while_another_thread_imports_torch():
    out = _run(RACE)
    assert out["errors"] == []
    assert all(n > 0 for n in out["during"]), out["during"]  # every worker really raced the import
    assert not out["torch"]  # a numpy checkpoint's versions never name torch (bridge.checkpoint_of adds it)


def test_numpy_inputs_never_look_at_a_half_initialised_torch():
    out = _run(HALF)
    assert out["h"] == pytest.approx(out["trace_h"], abs=1e-5)
    assert out["sigmoid"] == 0.5 and out["tanh"] == [0.0, 0.0]


def test_tensors_still_take_the_torch_path():
    import torch

    from lstm_core import step

    z = torch.tensor([0.0, 1.0], dtype=torch.float64, requires_grad=True)
    out = step.sigmoid(z)
    assert isinstance(out, torch.Tensor) and out.requires_grad
    assert step.relu(torch.nn.Parameter(torch.tensor([-1.0, 2.0]))).tolist() == [0.0, 2.0]
    assert step._is_numpy(np.zeros(2)) and step._is_numpy(3.0) and not step._is_numpy(z)
