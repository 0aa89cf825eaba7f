"""Checkpoints round-trip exactly; hostile or malformed files are refused without running anything."""

import io
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from lstm_core import LabError, Normalisation, SequenceModel, load_model, make_cell, random_model, sequence_model, trace
from lstm_core.bridge import checkpoint_of
from lstm_core.models import model_bytes, save_model


class RunsCodeOnLoad:
    """Unpickling this calls open(marker, 'w'), i.e. creates a file: proof that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _checkpoint():
    cell = make_cell("lstm", 2, 4, variant="peephole", seed=3)
    model = SequenceModel(cell, n_outputs=3, readout="per_step", dropout=0.1)
    norm = Normalisation("zscore", np.array([0.5, -1.0]), np.array([2.0, 0.25]), ("a", "b"))
    return checkpoint_of(model, task={"name": "adding", "metric": "mse"}, normalisation=norm,
                                 history=[{"epoch": 1, "val_loss": 0.5}], metrics={"val_loss": 0.5}, seed=3,
                                 config={"hidden_size": 4})


@pytest.mark.parametrize("suffix", [".pt", ".npz"])
def test_checkpoint_round_trips_exactly(tmp_path, suffix):
    ck = _checkpoint()
    save_model(ck, tmp_path / f"m{suffix}")
    back = load_model(tmp_path / f"m{suffix}")
    assert (back.kind, back.variant, back.input_size, back.hidden_size) == ("lstm", "peephole", 2, 4)
    for k, v in sequence_model(ck).state_dict().items():
        assert torch.equal(sequence_model(back).state_dict()[k], v), k
    assert sequence_model(back).readout == "per_step" and sequence_model(back).dropout == 0.1
    assert back.task == ck.task and back.history == ck.history and back.metrics == ck.metrics
    assert back.seed == 3 and back.config == {"hidden_size": 4}
    np.testing.assert_array_equal(back.normalisation.shift, [0.5, -1.0])
    assert back.normalisation.feature_names == ("a", "b")
    assert set(back.versions) >= {"torch", "lstm_core", "numpy"}
    x = np.random.default_rng(0).standard_normal((10, 2))
    np.testing.assert_array_equal(trace(back, x)["c"], trace(ck, x)["c"])


def test_checkpoint_from_bytes_is_the_same_as_from_a_file():
    ck = _checkpoint()
    back = load_model(model_bytes(ck), name="upload.pt")
    assert back.source == "upload.pt"
    for k, v in sequence_model(ck).state_dict().items():
        assert torch.equal(sequence_model(back).state_dict()[k], v), k
    assert {k: v for k, v in back.meta().items() if k != "source"} == \
        {k: v for k, v in ck.meta().items() if k != "source"}


@pytest.mark.parametrize("how", ["torch.save", "raw pickle", "inside a state_dict"])
def test_a_pickle_that_would_run_code_is_refused_and_the_code_does_not_run(tmp_path, how):
    marker = tmp_path / "pwned"
    evil = RunsCodeOnLoad(marker)
    buf = io.BytesIO()
    if how == "torch.save":
        torch.save(evil, buf)
    elif how == "raw pickle":
        pickle.dump(evil, buf)
    else:
        sd = make_cell("lstm", 1, 2).state_dict()
        sd["extra"] = evil
        torch.save(sd, buf)
    path = tmp_path / "evil.pt"
    path.write_bytes(buf.getvalue())
    with pytest.raises(LabError, match=r"refused evil\.pt: (loading it would construct (io|builtins)\.open|not a "
                                       r"weights-only PyTorch file)"):
        load_model(path)
    assert not marker.exists()


def test_a_whole_pickled_torch_lstm_loads_without_custom_code(tmp_path):
    torch.manual_seed(0)
    m = torch.nn.LSTM(3, 5, batch_first=False)
    torch.save(m, tmp_path / "whole.pt")
    ck = load_model(tmp_path / "whole.pt")
    assert (ck.kind, ck.input_size, ck.hidden_size) == ("lstm", 3, 5)
    x = torch.randn(7, 3)
    with torch.no_grad():
        np.testing.assert_allclose(trace(ck, x)["h"], m(x)[0].numpy(), atol=1e-5)


def test_a_custom_module_class_is_refused_with_advice(tmp_path):
    torch.save(_Custom(), tmp_path / "custom.pt")
    with pytest.raises(LabError, match=r"would construct (tests\.)?test_models\._Custom.*Save only the weights "
                                       r"instead: "
                                       r"torch\.save\(model\.state_dict\(\), path\)"):
        load_model(tmp_path / "custom.pt")


class _Custom(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = torch.nn.GRU(2, 3)


@pytest.mark.parametrize("cls, kind", [(torch.nn.LSTM, "lstm"), (torch.nn.GRU, "gru"), (torch.nn.RNN, "rnn")])
def test_a_prefixed_state_dict_with_a_head_loads_and_keeps_the_head(cls, kind):
    torch.manual_seed(1)
    rnn, fc = cls(2, 6, batch_first=True), torch.nn.Linear(6, 3)
    sd = {**{f"encoder.{k}": v for k, v in rnn.state_dict().items()},
          **{f"fc.{k}": v for k, v in fc.state_dict().items()}}
    buf = io.BytesIO()
    torch.save(sd, buf)
    ck = load_model(buf.getvalue(), name="mine.pt")
    assert ck.kind == kind and sequence_model(ck).head.out_features == 3
    assert any("readout head 'fc'" in n for n in ck.notes)
    x = torch.randn(1, 9, 2)
    with torch.no_grad():
        theirs = fc(rnn(x)[0])
        np.testing.assert_allclose(sequence_model(ck)(x).numpy(), theirs.numpy(), atol=1e-6)
        np.testing.assert_allclose(trace(ck, x[0].numpy())["h"], rnn(x)[0][0].numpy(), atol=1e-5)  # our numpy core


@pytest.mark.parametrize("make, message", [
    (lambda: torch.nn.LSTM(2, 3, num_layers=2).state_dict(), "a stacked network"),
    (lambda: torch.nn.GRU(2, 3, bidirectional=True).state_dict(), "a bidirectional network"),
    (lambda: {"weight": torch.zeros(3, 3)}, r"no recurrent layer found \(no '\*weight_ih_l0' weights\)"),
    (lambda: {"weight_ih_l0": torch.zeros(10, 2), "weight_hh_l0": torch.zeros(10, 5)},
     r"weight shapes \(10, 2\) and \(10, 5\) fit no LSTM"),
    (lambda: {"a": 1, "b": "text"}, "no weight tensors found"),
    (lambda: [1, 2, 3], "holds a list, not a model"),
    (lambda: {**torch.nn.RNN(1, 2).state_dict(), "weight_ih_l0": torch.full((2, 1), float("nan"))},
     "holds NaN or Inf values"),
    (lambda: {"a.weight_ih_l0": torch.zeros(4, 1), "a.weight_hh_l0": torch.zeros(4, 1),
              "b.weight_ih_l0": torch.zeros(4, 1), "b.weight_hh_l0": torch.zeros(4, 1)}, "2 recurrent layers"),
])
def test_unusable_contents_get_a_specific_message(make, message):
    buf = io.BytesIO()
    torch.save(make(), buf)
    with pytest.raises(LabError, match=message):
        load_model(buf.getvalue(), name="f.pt")


@pytest.mark.parametrize("raw, message", [
    (b"", "the file is empty"),
    (b"definitely not a model", "not a model file; expected a checkpoint of this app"),
    (b"\x93NUMPY" + b"\x00" * 40, "a NumPy array"),
    (b"PK\x03\x04" + b"\x00" * 40, "a zip file that is neither a checkpoint of this app nor a PyTorch file"),
    (b"\x80\x02garbage", "refused f.pt: not a weights-only PyTorch file"),
])
def test_malformed_files_are_refused(raw, message):
    with pytest.raises(LabError, match=message):
        load_model(raw, name="f.pt")


def test_damaged_checkpoints_and_size_limit(tmp_path):
    ck = _checkpoint()
    sd = {f"cell.{k}": torch.from_numpy(v) for k, v in ck.network.state_dict().items() if k != "weight_hh_l0"}
    torch.save({**ck.meta(), "state_dict": sd}, tmp_path / "damaged.pt")
    with pytest.raises(LabError, match=r"damaged\.pt: a damaged checkpoint \(missing weight 'weight_hh_l0'\)"):
        load_model(tmp_path / "damaged.pt")
    arrays = ck.arrays()
    arrays["head.weight"] = arrays["head.weight"][:, :2]
    np.savez(tmp_path / "damaged.npz", meta=np.array(__import__("json").dumps(ck.meta())), **arrays)
    with pytest.raises(LabError, match=r"damaged\.npz: a damaged checkpoint \(the readout head has the wrong shape"):
        load_model(tmp_path / "damaged.npz")
    np.savez(tmp_path / "other.npz", meta=np.array("{}"), x=np.zeros(2))
    with pytest.raises(LabError, match="not a checkpoint of this app"):
        load_model(tmp_path / "other.npz")
    with pytest.raises(LabError, match=r"over the 0 MB limit"):
        load_model(model_bytes(_checkpoint()), max_bytes=100)
    with pytest.raises(LabError, match="does not exist"):
        load_model(tmp_path / "missing.pt")


def test_random_model_spec():
    ck = random_model("gru:random:H=5:seed=2", 3)
    assert (ck.kind, ck.input_size, ck.hidden_size, ck.seed) == ("gru", 3, 5, 2)
    assert torch.equal(sequence_model(ck).cell.weight_hh_l0, make_cell("gru", 3, 5, seed=2).weight_hh_l0)
    assert random_model("lstm:random:H=4:seed=1:variant=cifg", 1).variant == "cifg"
    with pytest.raises(LabError, match="must look like KIND:random:H=SIZE:seed=N"):
        random_model("lstm:H=4", 1)
    with pytest.raises(LabError, match="'depth=2' is not one of"):
        random_model("lstm:random:H=4:depth=2", 1)
    with pytest.raises(LabError, match="unknown cell 'cnn'"):
        random_model("cnn:random:H=4", 1)


def test_an_npz_checkpoint_loads_and_traces_without_torch(tmp_path):
    """The app's first screen relies on this: shipped models load and trace with numpy alone."""
    _checkpoint().save(tmp_path / "m.npz")
    code = ("import sys, numpy as np, lstm_core; ck = lstm_core.load_model(sys.argv[1]); "
            "tr = lstm_core.trace(ck, np.ones((5, 2), np.float32)); s = lstm_core.step_at(ck, tr, 4); "
            "v = lstm_core.checkpoint.versions(); assert 'torch' not in v and {'lstm_core', 'numpy'} <= set(v); "
            "assert 'torch' not in sys.modules, 'torch was imported'; print(float(tr['h'][4, 0]), float(s['h'][0]))")
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path / "m.npz")], capture_output=True, text=True,
                          timeout=120, cwd=Path(__file__).resolve().parents[1])
    assert proc.returncode == 0, proc.stderr
    h_trace, h_step = map(float, proc.stdout.split())
    from tests.test_cells import reference_variant  # written from the definitions, independently of lstm_core

    expected = reference_variant(sequence_model(_checkpoint()).cell, torch.ones(1, 5, 2), "peephole")["h"][0, 4, 0]
    assert h_trace == pytest.approx(float(expected), abs=1e-6) and h_step == pytest.approx(h_trace, abs=1e-5)
