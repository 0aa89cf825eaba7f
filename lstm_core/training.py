"""Train any cell of the core on a task, the way the seed notes advise.

Adam with gradient-norm clipping, dropout on inputs and outputs, the forget-gate bias set at the start
(1 by default, Jozefowicz et al. 2015; or chrono, Tallec & Ollivier 2018), a validation split with early
stopping on the task's metric, padding + masking for variable lengths, and per-feature normalisation
fitted on the training split only. After every epoch a report goes to `on_epoch` (losses, metric,
elapsed time and, if asked, the gates' statistics), which can stop training; `stop` can stop it between
any two batches. Either way the best epoch's weights are kept. Nothing here prints: the command line
(cli.py) formats the reports, and the app's training workers (app/training_jobs.py) send them on.
"""

from __future__ import annotations

import copy
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from .bridge import checkpoint_of, from_torch, sequence_model
from .cells import SequenceModel, make_cell
from .checkpoint import Checkpoint
from .errors import LabError
from .gate_stats import GateStats, gate_stats, gates_of
from .metrics import latency_per_step, masked_loss
from .normalise import Normalisation, fit_normalisation
from .registry import CELLS
from .scores import better, evaluate
from .tasks import TASKS, TaskData, longest_dependency, make_task
from .train_config import CHRONO, KIND_DEFAULT, NORMALISE_CHOICES, TASK_PRESETS, TrainConfig  # noqa: F401


@dataclass(frozen=True)
class EpochReport:
    epoch: int
    train_loss: float
    val_loss: float
    val_metric: float
    metric: str
    seconds: float  # since training started
    best: bool  # the best validation metric so far
    gates: GateStats | None = None  # the gates over the first `gate_probe` validation sequences, if asked

    @property
    def gap(self) -> float:
        """Overfitting gap: validation loss minus training loss."""
        return self.val_loss - self.train_loss

    def record(self) -> dict:
        """The report as a checkpoint's history keeps it (plain numbers; the gates' statistics are not kept)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "gates"}


@dataclass(frozen=True)
class TrainingResult:
    checkpoint: Checkpoint
    history: list  # EpochReport per epoch
    metrics: dict  # final figures on the held-out data (best epoch's weights)
    stop_reason: str  # "early stopping" | "time budget" | "max epochs" | "stopped"
    seconds: float


def _tensors(data: TaskData, norm: Normalisation | None, idx):
    x = data.x[idx]
    if norm is not None:
        x = np.where(np.arange(x.shape[1])[None, :, None] < data.lengths[idx][:, None, None],
                     norm.apply(x), 0.0).astype(np.float32)
    y = torch.from_numpy(np.ascontiguousarray(data.y[idx]))
    return (torch.from_numpy(np.ascontiguousarray(x)), y, torch.from_numpy(data.lengths[idx]),
            torch.from_numpy(data.loss_mask[idx]))


def _fit_norm(kind: str, data: TaskData, idx) -> Normalisation | None:
    if kind == "none":
        return None
    norm = fit_normalisation(data.x[idx], data.lengths[idx], kind="zscore" if kind == "auto" else kind,
                             feature_names=data.feature_names)
    if kind == "auto":  # leave one-hot and 0/1 marker channels as they are
        real = data.x[idx][np.arange(data.x.shape[1])[None, :] < data.lengths[idx][:, None]]  # (steps, F)
        binary = np.all((real == 0) | (real == 1), axis=0)
        if binary.all():
            return None
        norm = dataclasses.replace(norm, shift=np.where(binary, 0, norm.shift).astype(np.float32),
                                   scale=np.where(binary, 1, norm.scale).astype(np.float32))
    return norm


def chrono_bias(hidden_size: int, t_max: int, seed: int = 0) -> torch.Tensor:
    """Chrono initialisation's forget-gate biases (Tallec & Ollivier 2018): b_f = log u, u ~ U[1, T_max - 1]
    per unit, so each unit starts out keeping its memory for a time drawn between 1 and T_max - 1 steps
    (1 / (1 - sigmoid(b_f)) = 1 + u). Drawn from its own generator: the weights' init is unchanged."""
    if isinstance(t_max, bool) or not isinstance(t_max, int) or t_max < 2:
        raise LabError(f"chrono's T_max must be a whole number >= 2; got {t_max!r}")
    g = torch.Generator().manual_seed(seed)
    return torch.log(torch.empty(hidden_size).uniform_(1.0, float(t_max - 1), generator=g))  # (H,)


def _rows(kind, block: str, H: int) -> slice:
    """A gate block's rows in the stacked weights and biases (LSTM i, f, g, o: f is H..2H)."""
    k = kind.blocks.index(block)
    return slice(k * H, (k + 1) * H)


def build_model(cfg: TrainConfig, data: TaskData) -> SequenceModel:
    kind = CELLS[cfg.model]
    cell = make_cell(cfg.model, data.x.shape[2], cfg.hidden_size,
                     variant=cfg.variant if len(kind.variants) > 1 else "vanilla",
                     nonlinearity=cfg.nonlinearity if len(kind.nonlinearities) > 1 else "tanh", seed=cfg.seed)
    if kind.forget_gate is not None and cfg.forget_bias is not None:
        H = cfg.hidden_size
        rows = _rows(kind, kind.forget_gate, H)
        with torch.no_grad():  # torch adds bias_ih and bias_hh: the bias lives in bias_ih, bias_hh starts at 0
            if cfg.forget_bias == CHRONO:
                b = chrono_bias(H, cfg.chrono_max or longest_dependency(data), cfg.seed)
                cell.bias_ih_l0[rows] = b
                if kind.input_gate is not None:  # b_i = -b_f: write little while the memory is long
                    cell.bias_ih_l0[_rows(kind, kind.input_gate, H)] = -b
                    cell.bias_hh_l0[_rows(kind, kind.input_gate, H)] = 0.0
            else:
                cell.bias_ih_l0[rows] = cfg.forget_bias
            cell.bias_hh_l0[rows] = 0.0
    return SequenceModel(cell, n_outputs=data.n_outputs, readout=data.readout, dropout=cfg.dropout)


def batch_loss(model: SequenceModel, x, y, lengths, mask, loss: str) -> torch.Tensor:
    """The masked loss of one padded batch: exactly the loss of its sequences taken one by one."""
    out = model(x, lengths)
    return masked_loss(out, y, loss, None if model.readout == "final" else mask)


def predict(model: SequenceModel, x, lengths, batch_size: int = 512) -> np.ndarray:
    model.eval()
    with torch.no_grad():
        outs = [model(x[i : i + batch_size], lengths[i : i + batch_size]) for i in range(0, len(x), batch_size)]
    return torch.cat(outs).numpy()


def train(cfg: TrainConfig, on_epoch: Callable[[EpochReport], bool | None] | None = None, *,
          stop: Callable[[], bool] | None = None, gate_probe: int = 0) -> TrainingResult:
    """Train `cfg.model` on `cfg.task`; on_epoch(report) may return True to stop after that epoch.

    stop() is asked before every batch (e.g. a threading or multiprocessing Event's is_set): when it says
    True, the epoch under way ends there and is evaluated and reported, as when the time budget runs out,
    and training ends ("stopped"). gate_probe > 0 adds to each report the gates' statistics
    (saturation.gate_stats) on the first gate_probe validation sequences; it changes no weights.
    The result holds the best epoch's weights in every case."""
    t0 = time.perf_counter()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        n = cfg.n_train + cfg.n_val
        data = make_task(cfg.task, n, cfg.length, cfg.seed, **cfg.task_params)
        order = np.random.default_rng(cfg.seed).permutation(n)
        tr_idx, va_idx = np.sort(order[: cfg.n_train]), np.sort(order[cfg.n_train :])
        norm = _fit_norm(cfg.normalise, data, tr_idx)
        xt, yt, lt, mt = _tensors(data, norm, tr_idx)
        xv, yv, lv, mv = _tensors(data, norm, va_idx)
        model = build_model(cfg, data)
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
        gen = torch.Generator().manual_seed(cfg.seed)
        history, best_state, best_metric, bad, reason = [], None, None, 0, "max epochs"
        probe = min(gate_probe, cfg.n_val) if gates_of(cfg.model) else 0
        for epoch in range(1, cfg.max_epochs + 1):
            model.train()
            perm = torch.randperm(cfg.n_train, generator=gen)
            total, count, out_of_time, stopped = 0.0, 0, False, False
            for i in range(0, cfg.n_train, cfg.batch_size):
                if time.perf_counter() - t0 > cfg.max_seconds:
                    out_of_time = True
                    break
                if stop is not None and stop():
                    stopped = True
                    break
                b = perm[i : i + cfg.batch_size]
                loss = batch_loss(model, xt[b], yt[b], lt[b], mt[b], data.loss)
                opt.zero_grad()
                loss.backward()
                if cfg.clip:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
                opt.step()
                total, count = total + loss.item() * len(b), count + len(b)
            if count == 0:
                reason = "stopped" if stopped else "time budget"
                break
            ev = evaluate(predict(model, xv, lv), yv.numpy(), data.loss, data.metric,
                          None if data.readout == "final" else mv.numpy())
            is_best = best_metric is None or better(data.metric, ev["metric"], best_metric)
            if is_best:
                best_metric, best_state, bad = ev["metric"], copy.deepcopy(model.state_dict()), 0
            else:
                bad += 1
            gates = gate_stats(from_torch(model.cell), xv[:probe].numpy(), lv[:probe].numpy()) if probe else None
            report = EpochReport(epoch, total / count, ev["loss"], ev["metric"], data.metric,
                                 time.perf_counter() - t0, is_best, gates)
            history.append(report)
            if (on_epoch is not None and on_epoch(report)) or stopped:
                reason = "stopped"
                break
            if out_of_time:
                reason = "time budget"
                break
            if bad >= cfg.patience:
                reason = "early stopping"
                break
        if best_state is not None:
            model.load_state_dict(best_state)
        model.eval()
        final = evaluate(predict(model, xv, lv), yv.numpy(), data.loss, data.metric,
                         None if data.readout == "final" else mv.numpy())
        train_ev = evaluate(predict(model, xt, lt), yt.numpy(), data.loss, data.metric,
                            None if data.readout == "final" else mt.numpy())
    seconds = time.perf_counter() - t0
    metrics = {"metric": data.metric, "val_metric": final["metric"], "val_loss": final["loss"],
               "train_loss": train_ev["loss"], "gap": final["loss"] - train_ev["loss"], "baseline": data.baseline,
               "epochs": len(history), "seconds": seconds, "stop_reason": reason,
               "latency_us_per_step": latency_per_step(model, data.x.shape[2])}
    for k in ("horizon_rmse", "accuracy", "f1", "perplexity", "rmse", "mse"):
        if k in final and k != data.metric:
            metrics[k] = final[k]
    task_info = {"name": data.task, "title": TASKS[data.task].title, "params": data.params,
                 "description": data.description, "metric": data.metric, "loss": data.loss,
                 "readout": data.readout, "n_outputs": data.n_outputs, "baseline": data.baseline,
                 "feature_names": list(data.feature_names), "output_names": list(data.output_names)}
    ckpt = checkpoint_of(model, task=task_info, normalisation=norm,
                         vocab=tuple(data.feature_names) if data.task == "charlm" else None,
                         history=[r.record() for r in history], metrics=metrics, seed=cfg.seed,
                         config=dataclasses.asdict(cfg), source="trained")
    return TrainingResult(ckpt, history, metrics, reason, seconds)


def held_out_metrics(ck: Checkpoint, n: int = 1000, seed: int = 10_000) -> dict:
    """The checkpoint's task metrics on freshly generated data it has never seen (another seed)."""
    if not ck.task:
        raise LabError("this model has no task to evaluate on (it was not trained here)")
    params = {k: v for k, v in ck.task["params"].items() if k not in ("n", "length", "seed")}
    data = make_task(ck.task["name"], n, ck.task["params"].get("length"), seed, **params)
    idx = np.arange(n)
    x, y, lengths, mask = _tensors(data, ck.normalisation, idx)
    ev = evaluate(predict(sequence_model(ck), x, lengths), y.numpy(), data.loss, data.metric,
                  None if data.readout == "final" else mask.numpy())
    return {"metric": data.metric, "value": ev["metric"], "loss": ev["loss"], "baseline": data.baseline, "n": n,
            "seed": seed, **({"horizon_rmse": ev["horizon_rmse"]} if "horizon_rmse" in ev else {})}
