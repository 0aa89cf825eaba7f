"""`python -m lstm_core trace`: the saved arrays are torch's numbers; bad input is one line on stderr.

The commands run in-process through `lstm_core.cli.main` (what `python -m lstm_core` calls); one test runs the
real `python -m lstm_core` in a subprocess, end to end (marked slow: the new interpreter imports torch).
"""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from lstm_core import SequenceModel, make_cell
from lstm_core.bridge import checkpoint_of
from lstm_core.cli import main
from lstm_core.models import save_model

ROOT = Path(__file__).resolve().parents[1]


def run(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "lstm_core", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def cli(*args) -> int:
    """`python -m lstm_core ARGS`, in this process: the exit code."""
    return main([str(a) for a in args])


@pytest.mark.slow
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
def test_trace_reads_other_formats_and_gru_specs(tmp_path, capsys, fmt):
    x = np.linspace(-1, 1, 24, dtype=np.float32).reshape(12, 2)
    path = tmp_path / f"seq.{fmt}"
    if fmt == "npy":
        np.save(path, x)
    else:
        path.write_text(str(x.tolist()))
    assert cli("trace", "--model", "gru:random:H=4:seed=0", "--input", path, "--out", tmp_path / "t.npz") == 0, \
        capsys.readouterr().err
    assert capsys.readouterr().out.startswith("traced ")
    with np.load(tmp_path / "t.npz") as z:
        assert z["h"].shape == (12, 4) and {"r", "z", "n"} <= set(z.files)
        h = z["h"]
    reference = torch.nn.GRU(2, 4, batch_first=True)  # torch's own GRU with the spec's weights
    reference.load_state_dict(make_cell("gru", 2, 4, seed=0).state_dict())
    with torch.no_grad():
        expected = reference(torch.from_numpy(x)[None])[0][0].numpy()
    np.testing.assert_allclose(h, expected, rtol=0, atol=1e-5)


def test_trace_of_a_checkpoint_uses_its_normalisation(tmp_path, capsys):
    from lstm_core import Normalisation

    cell = make_cell("rnn", 1, 3, seed=1)
    ck = checkpoint_of(SequenceModel(cell), normalisation=Normalisation("zscore", [10.0], [2.0]))
    save_model(ck, tmp_path / "m.pt")
    np.save(tmp_path / "x.npy", np.array([10.0, 12.0, 8.0], np.float32))
    assert cli("trace", "--model", tmp_path / "m.pt", "--input", tmp_path / "x.npy", "--out",
               tmp_path / "t.npz") == 0, capsys.readouterr().err
    with np.load(tmp_path / "t.npz") as z:
        np.testing.assert_allclose(z["x"][:, 0], [0.0, 1.0, -1.0])  # (x - 10) / 2
        h = z["h"]
    reference = torch.nn.RNN(1, 3)  # torch's own RNN with the saved weights, on the normalised input
    reference.load_state_dict(cell.state_dict())
    with torch.no_grad():
        expected = reference(torch.tensor([[0.0], [1.0], [-1.0]]))[0].numpy()
    np.testing.assert_allclose(h, expected, rtol=0, atol=1e-5)


@pytest.mark.parametrize("args, message", [
    (["--model", "lstm:random:H=8", "--input", "missing.csv"], "error: input file 'missing.csv' does not exist"),
    (["--model", "lstm:H=8", "--input", "{csv}"], "error: model file 'lstm:H=8' does not exist"),
    (["--model", "lstm:random:H=x", "--input", "{csv}"], "H and seed must be whole numbers"),
    (["--model", "lstm:random:H=4", "--input", "{bad}"], "bad.csv: row 3"),
    (["--model", "{model}", "--input", "{csv}"], "the model expects 1 input feature; the file gives 2"),
])
def test_bad_input_exits_2_with_one_line_and_no_traceback(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)  # relative names are looked up here
    (tmp_path / "ok.csv").write_text("a,b\n1,2\n3,4\n")
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n3,oops\n")
    save_model(checkpoint_of(SequenceModel(make_cell("lstm", 1, 2))), tmp_path / "m.pt")
    subs = {"{csv}": tmp_path / "ok.csv", "{bad}": tmp_path / "bad.csv", "{model}": tmp_path / "m.pt"}
    code = cli("trace", *[subs.get(a, a) for a in args], "--out", tmp_path / "t.npz")
    out, err = capsys.readouterr()
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], err
    assert "Traceback" not in err and out == ""
    assert not (tmp_path / "t.npz").exists()


def test_help_lists_both_commands(capsys):
    with pytest.raises(SystemExit) as e:
        cli("--help")
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "trace" in out and "train" in out
    with pytest.raises(SystemExit) as e:
        cli("trace", "--help")
    assert e.value.code == 0
    assert "KIND:random:H=SIZE:seed=N" in capsys.readouterr().out


def test_memory_writes_the_pages_numbers_checked_against_torch(tmp_path, capsys):
    import json

    x = np.random.default_rng(3).standard_normal((40, 2)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    assert main(["memory", "--model", "lstm:random:H=5:seed=2", "--input", str(tmp_path / "x.npy"), "--step", "10",
                 "--out", str(tmp_path / "m.json")]) == 0
    out = json.loads((tmp_path / "m.json").read_text())
    m = make_cell("lstm", 2, 5, seed=2)  # the same random model, in torch
    zeroed = x.copy()
    zeroed[10] = 0.0
    with torch.no_grad():
        h0, h1 = (m(torch.from_numpy(v)[None])[0][0].numpy().astype(np.float64) for v in (x, zeroed))
    np.testing.assert_allclose(out["retention"]["h"], np.linalg.norm(h1 - h0, axis=1)[10:], atol=1e-5)
    c = np.array(out["clamp"]["c"])  # f = 1 and i = 0 from step 10: the cell state is frozen exactly
    assert np.array_equal(c[10:], np.repeat(c[9:10], 30, axis=0))
    assert len(out["gradient"]["norm"]) == 40 and len(out["gradient"]["cell_path"]) == 40
    assert set(out["saturation"]) == {"f", "i", "o"}
    assert "retention, gradient, saturation, trajectory, forget_time, clamp" in capsys.readouterr().out
    assert main(["memory", "--model", "lstm:random:H=5:seed=2", "--input", str(tmp_path / "x.npy"), "--step", "40",
                 "--out", str(tmp_path / "m.json")]) == 2
    assert "--step must be between 0 and 39; got 40" in capsys.readouterr().err
