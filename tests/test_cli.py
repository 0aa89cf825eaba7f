"""`python -m lstm_core trace`: the saved arrays are torch's numbers; bad input is one line on stderr."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from lstm_core import SequenceModel, make_cell
from lstm_core.bridge import checkpoint_of
from lstm_core.models import save_model

ROOT = Path(__file__).resolve().parents[1]


def run(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "lstm_core", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def test_trace_of_a_random_model_on_a_csv_matches_torch(tmp_path):
    x = np.random.default_rng(0).standard_normal((40, 3)).astype(np.float32)
    (tmp_path / "seq.csv").write_text("a,b,c\n" + "\n".join(",".join(f"{v:.6f}" for v in row) for row in x))
    proc = run("trace", "--model", "lstm:random:H=8:seed=3", "--input", tmp_path / "seq.csv", "--out",
               tmp_path / "t.npz")
    assert proc.returncode == 0, proc.stderr
    with np.load(tmp_path / "t.npz", allow_pickle=False) as z:
        assert {"f", "i", "g", "c", "o", "h", "pre_f", "pre_i", "pre_g", "pre_o", "x"} <= set(z.files)
        h = z["h"]
    reference = torch.nn.LSTM(3, 8, batch_first=True)
    reference.load_state_dict(make_cell("lstm", 3, 8, seed=3).state_dict())  # the spec's weights
    with torch.no_grad():
        expected = reference(torch.from_numpy(np.round(x, 6)))[0].numpy()
    np.testing.assert_allclose(h, expected, atol=1e-5)


@pytest.mark.parametrize("fmt", ["npy", "json"])
def test_trace_reads_other_formats_and_gru_specs(tmp_path, fmt):
    x = np.linspace(-1, 1, 24, dtype=np.float32).reshape(12, 2)
    path = tmp_path / f"seq.{fmt}"
    if fmt == "npy":
        np.save(path, x)
    else:
        path.write_text(str(x.tolist()))
    proc = run("trace", "--model", "gru:random:H=4:seed=0", "--input", path, "--out", tmp_path / "t.npz")
    assert proc.returncode == 0, proc.stderr
    with np.load(tmp_path / "t.npz") as z:
        assert z["h"].shape == (12, 4) and {"r", "z", "n"} <= set(z.files)


def test_trace_of_a_checkpoint_uses_its_normalisation(tmp_path):
    from lstm_core import Normalisation

    cell = make_cell("rnn", 1, 3, seed=1)
    ck = checkpoint_of(SequenceModel(cell), normalisation=Normalisation("zscore", [10.0], [2.0]))
    save_model(ck, tmp_path / "m.pt")
    np.save(tmp_path / "x.npy", np.array([10.0, 12.0, 8.0], np.float32))
    proc = run("trace", "--model", tmp_path / "m.pt", "--input", tmp_path / "x.npy", "--out", tmp_path / "t.npz")
    assert proc.returncode == 0, proc.stderr
    with np.load(tmp_path / "t.npz") as z:
        np.testing.assert_allclose(z["x"][:, 0], [0.0, 1.0, -1.0])  # (x - 10) / 2


@pytest.mark.parametrize("args, message", [
    (["--model", "lstm:random:H=8", "--input", "missing.csv"], "error: input file 'missing.csv' does not exist"),
    (["--model", "lstm:H=8", "--input", "{csv}"], "error: model file 'lstm:H=8' does not exist"),
    (["--model", "lstm:random:H=x", "--input", "{csv}"], "H and seed must be whole numbers"),
    (["--model", "lstm:random:H=4", "--input", "{bad}"], "bad.csv: row 3"),
    (["--model", "{model}", "--input", "{csv}"], "the model expects 1 input feature; the file gives 2"),
])
def test_bad_input_exits_2_with_one_line_and_no_traceback(tmp_path, args, message):
    (tmp_path / "ok.csv").write_text("a,b\n1,2\n3,4\n")
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n3,oops\n")
    save_model(checkpoint_of(SequenceModel(make_cell("lstm", 1, 2))), tmp_path / "m.pt")
    subs = {"{csv}": tmp_path / "ok.csv", "{bad}": tmp_path / "bad.csv", "{model}": tmp_path / "m.pt"}
    proc = run("trace", *[subs.get(a, a) for a in args], "--out", tmp_path / "t.npz", timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "t.npz").exists()


def test_help_lists_both_commands():
    proc = run("--help", timeout=60)
    assert proc.returncode == 0 and "trace" in proc.stdout and "train" in proc.stdout
    proc = run("trace", "--help", timeout=60)
    assert proc.returncode == 0 and "KIND:random:H=SIZE:seed=N" in proc.stdout
