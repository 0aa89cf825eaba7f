"""The Train page's worker protocol (app/training_jobs.py) without a browser: a job starts in its own process,
reports every epoch, stops on request or when its session goes quiet, and always hands back its best weights;
the pool runs at most `workers` jobs and queues the rest in order.

Every wait polls the pool with a deadline (no sleep decides anything); the deadlines are generous because the
machine may be busy. The trainings are tiny (adding, T = 12, 256 sequences, 8 units).
"""

from __future__ import annotations

import dataclasses
import os
import time
import types
from multiprocessing import spawn

import pytest

from app import training_jobs
from app.training_jobs import Pool
from lstm_core import TrainConfig, load_model

DEADLINE = 120.0  # seconds: a bound for a broken protocol, not a speed requirement
TINY = dict(task="adding", length=12, n_train=256, n_val=64, hidden_size=8, batch_size=32)


def config(**kw) -> dict:
    return dataclasses.asdict(TrainConfig(**{**TINY, **kw}))


def until(pool: Pool, session: str, done, what: str):
    """Poll the session's jobs (touching it, as the page does) until done(views) holds; returns the views."""
    end = time.monotonic() + DEADLINE
    while True:
        pool.touch(session)
        views = pool.views(session)
        if done(views):
            return views
        assert time.monotonic() < end, f"{what}: not within {DEADLINE:.0f} s; jobs: {views}"
        time.sleep(0.05)  # a polling period, as the page's fragment has; the condition decides


@pytest.fixture(scope="module")
def pool():
    p = Pool(workers=2, heartbeat=60.0)
    yield p
    p.close()


def test_jobs_never_import_the_servers_main_script():
    # In a Streamlit server __main__ is the app script: a job must not run it again before training.
    ours = spawn.get_preparation_data(f"{training_jobs.PROCESS_PREFIX}j1")
    theirs = spawn.get_preparation_data("someone-else")
    assert "init_main_from_path" not in ours and "init_main_from_name" not in ours
    assert ours["sys_path"] == theirs["sys_path"]  # the rest is as multiprocessing prepares it


def test_gate_frames_are_thinned_but_keep_the_first_and_the_newest():
    job = training_jobs.Job("j", "s", "LSTM", config(), 0.0)
    for e in range(1, 301):
        training_jobs.Pool._receive(None, job, ("epoch", {"epoch": e}, types.SimpleNamespace(forget=0.5)))
    assert len(job.epochs) == 300  # every epoch's numbers are kept
    kept = [e for e, _ in job.frames]
    assert kept[0] == 1 and kept[-1] == 300 and len(kept) <= training_jobs.MAX_FRAMES
    assert kept == sorted(kept)


def test_a_job_trains_in_another_process_reports_each_epoch_and_returns_its_checkpoint(pool):
    session = "s-start"
    pool.submit(session, [("LSTM", config(max_epochs=4, max_seconds=60))])
    views = until(pool, session, lambda vs: not vs[0].active, "the job ends")
    job = views[0]
    assert job.state == "done" and job.error is None
    assert [r["epoch"] for r in job.epochs] == [1, 2, 3, 4]  # (reported while it runs: the next test)
    assert all(r["forget"] is not None and 0 < r["forget"] < 1 for r in job.epochs)  # the LSTM's mean f
    assert [e for e, _ in job.frames] == [1, 2, 3, 4] and job.frames[-1][1].gates == ("f", "i", "o")
    res = job.result
    assert res["stop_reason"] == "max epochs" and res["metrics"]["epochs"] == 4
    ck = load_model(res["checkpoint"], name="job")  # the bytes are an .npz checkpoint
    assert [h["val_loss"] for h in ck.history] == [r["val_loss"] for r in job.epochs]
    assert res["checkpoint_object"].metrics["val_metric"] == ck.metrics["val_metric"]


def test_stop_ends_a_running_job_and_keeps_its_best_epoch(pool):
    session = "s-stop"
    (jid,) = pool.submit(session, [("GRU", config(model="gru", max_epochs=100_000, max_seconds=600,
                                                  patience=100_000))])
    views = until(pool, session, lambda vs: len(vs[0].epochs) >= 3, "three epochs")
    assert views[0].active  # the epochs are reported while the job runs, not only at its end
    with pool.lock:
        child = pool.jobs[jid].process.pid
    assert pool.nice == training_jobs.NICE > 0  # the default: training yields a contended core to the sessions
    assert os.getpriority(os.PRIO_PROCESS, child) == min(19, os.getpriority(os.PRIO_PROCESS, 0) + pool.nice)
    if hasattr(os, "SCHED_IDLE") and not pool.idle:  # SCHED_IDLE is opt-in (LSTMLAB_TRAIN_IDLE=1)
        assert os.sched_getscheduler(child) == os.SCHED_OTHER
    pool.stop(session)
    job = until(pool, session, lambda vs: not vs[0].active, "the stopped job ends")[0]
    assert job.state == "done" and job.stop_why == "Stop pressed"
    assert job.result["stop_reason"] == "stopped"
    best = min(r["val_metric"] for r in job.epochs)  # mse: lower is better
    assert job.result["metrics"]["val_metric"] == pytest.approx(best)
    assert len(job.result["checkpoint_object"].history) == len(job.epochs)


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="SCHED_IDLE is Linux's")
def test_a_pool_asked_for_sched_idle_runs_its_jobs_under_it():
    idle = Pool(workers=1, heartbeat=60.0, idle=True)
    try:
        session = "s-idle"
        (jid,) = idle.submit(session, [("LSTM", config(max_epochs=100_000, max_seconds=600, patience=100_000))])
        until(idle, session, lambda vs: vs[0].epochs, "the job runs")
        with idle.lock:
            child = idle.jobs[jid].process.pid
        assert os.sched_getscheduler(child) == os.SCHED_IDLE
        assert os.getpriority(os.PRIO_PROCESS, child) == min(19, os.getpriority(os.PRIO_PROCESS, 0) + idle.nice)
    finally:
        idle.close()


class Recorder:
    """Stands in for os.nice and os.sched_setscheduler, so that the test process's own priority never changes."""

    def __init__(self, refuse: bool = False):
        self.calls, self.refuse = [], refuse

    def nice(self, n):
        self.calls.append(("nice", n))

    def sched_setscheduler(self, pid, policy, param):
        self.calls.append(("sched", pid, policy, param.sched_priority))
        if self.refuse:
            raise PermissionError("operation not permitted")


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="SCHED_IDLE is Linux's")
@pytest.mark.parametrize("refuse", [False, True])
def test_a_job_asks_for_sched_idle_and_keeps_its_nice_if_refused(monkeypatch, refuse):
    fake = Recorder(refuse)
    monkeypatch.setattr(os, "nice", fake.nice)
    monkeypatch.setattr(os, "sched_setscheduler", fake.sched_setscheduler)
    assert training_jobs.yield_cpu(10, True) == ("nice" if refuse else "idle")
    assert fake.calls == [("nice", 10), ("sched", 0, os.SCHED_IDLE, 0)]  # nice first: it stands if idle is refused


def test_without_sched_idle_a_job_runs_at_its_nice(monkeypatch):
    fake = Recorder()
    monkeypatch.setattr(os, "nice", fake.nice)
    monkeypatch.setattr(os, "sched_setscheduler", fake.sched_setscheduler, raising=False)
    monkeypatch.delattr(os, "SCHED_IDLE", raising=False)  # as on macOS and Windows
    assert training_jobs.yield_cpu(10, True) == "nice"
    assert fake.calls == [("nice", 10)]
    fake.calls.clear()
    assert training_jobs.yield_cpu(0, False) == "normal" and fake.calls == []  # both turned off: nothing asked


def test_the_pool_runs_at_most_its_size_and_queues_the_rest_in_order():
    small = Pool(workers=1, heartbeat=60.0)
    try:
        session = "s-queue"
        ids = small.submit(session, [(f"job {k}", config(max_epochs=100_000, max_seconds=600, patience=100_000))
                                     for k in range(3)])
        views = until(small, session, lambda vs: vs[0].state == "running" and vs[0].epochs, "the first job runs")
        assert [v.state for v in views] == ["running", "queued", "queued"]
        assert [v.position for v in views] == [None, 1, 2]
        small.stop(session)  # the running one ends with its weights; the queued ones never start
        views = until(small, session, lambda vs: not any(v.active for v in vs), "all end")
        assert [v.id for v in views] == ids
        assert [v.state for v in views] == ["done", "cancelled", "cancelled"]
        assert views[0].result is not None and views[1].result is None
    finally:
        small.close()


def test_a_queued_job_starts_when_a_place_frees_up():
    small = Pool(workers=1, heartbeat=60.0)
    try:
        session = "s-next"
        small.submit(session, [("first", config(max_epochs=2)), ("second", config(max_epochs=2))])
        views = until(small, session, lambda vs: not any(v.active for v in vs), "both end")
        assert [v.state for v in views] == ["done", "done"]
        assert views[1].epochs and views[1].result["metrics"]["epochs"] == 2
    finally:
        small.close()


def test_a_session_that_stops_polling_has_its_job_stopped_with_its_weights_kept():
    quiet = Pool(workers=2, heartbeat=1.0)  # the page polls twice a second; 1 s of silence means it has gone
    try:
        session = "s-gone"
        quiet.submit(session, [("LSTM", config(max_epochs=100_000, max_seconds=600, patience=100_000))])
        until(quiet, session, lambda vs: len(vs[0].epochs) >= 2, "two epochs")
        end = time.monotonic() + DEADLINE
        while quiet.views(session)[0].active:  # no touch from here on: the session has ended
            assert time.monotonic() < end, "the job of a quiet session was not stopped"
            time.sleep(0.05)
        job = quiet.views(session)[0]
        assert job.state == "done" and job.stop_why == "the page was closed"
        assert job.result["stop_reason"] == "stopped" and job.result["checkpoint_object"] is not None
    finally:
        quiet.close()


def test_a_refused_setting_fails_the_job_with_the_message(pool):
    session = "s-bad"
    bad = {**config(), "hidden_size": 0}  # the page validates first; the worker checks again
    pool.submit(session, [("bad", bad)])
    job = until(pool, session, lambda vs: not vs[0].active, "the job fails")[0]
    assert job.state == "failed" and "hidden_size must be a whole number >= 1" in job.error


def test_a_new_set_of_jobs_replaces_the_sessions_old_one(pool):
    session = "s-again"
    pool.submit(session, [("old", config(max_epochs=100_000, max_seconds=600, patience=100_000))])
    until(pool, session, lambda vs: vs[0].epochs, "the old job runs")
    pool.submit(session, [("new", config(max_epochs=1))])
    views = until(pool, session, lambda vs: not any(v.active for v in vs), "the new job ends")
    assert [v.label for v in views] == ["new"]  # the old one was stopped and is no longer shown
    until(pool, session, lambda vs: pool.counts()["stopping"] + pool.counts()["running"] == 0, "the old one ends")


def test_the_server_caps_a_jobs_time_budget_whatever_the_page_asks():
    capped = Pool(workers=1, heartbeat=60.0, max_seconds=2.0)
    try:
        session = "s-cap"
        capped.submit(session, [("greedy", config(max_epochs=100_000, max_seconds=600, patience=100_000))])
        assert capped.views(session)[0].config["max_seconds"] == 2.0  # what the page shows as the budget
        job = until(capped, session, lambda vs: not vs[0].active, "the capped job ends")[0]
        assert job.state == "done" and job.result["stop_reason"] == "time budget"
        capped.submit(session, [("modest", config(max_seconds=1.5))])
        assert capped.views(session)[0].config["max_seconds"] == 1.5  # a smaller budget is kept as asked
        capped.stop(session)
    finally:
        capped.close()


def test_a_session_gets_at_most_three_jobs_at_a_time(pool):
    with pytest.raises(training_jobs.TooManyJobs, match="at most 3 models"):
        pool.submit("s-greedy", [(f"m{k}", config()) for k in range(4)])
    assert pool.views("s-greedy") == []  # nothing was queued


def test_the_pump_stops_a_job_running_past_its_budget():
    # The child ends itself when its budget is spent; if it does not (an epoch far longer than the budget, a bug),
    # the server stops it. A job as the pump sees it, started long ago; nothing else in this pool runs.
    p = Pool(workers=1, heartbeat=1e9, max_seconds=5.0)
    try:
        with p.lock:
            job = training_jobs.Job("j-late", "s-late", "late", config(max_seconds=5.0), time.monotonic(),
                                    state="running", event=p.ctx.Event())
            job.started = time.monotonic() - (5.0 + training_jobs.OVERRUN_SECONDS + 1)
            p.jobs[job.id] = job
            on_time = training_jobs.Job("j-fine", "s-fine", "fine", config(max_seconds=5.0), time.monotonic(),
                                        state="running", event=p.ctx.Event())
            on_time.started = time.monotonic() - 5.0  # at its budget, inside the overrun allowance
            p.jobs[on_time.id] = on_time
            p.touch("s-late")
            p.touch("s-fine")
            p._housekeeping()
            assert job.state == "stopping" and job.stop_why == "past its time budget" and job.event.is_set()
            assert on_time.state == "running" and not on_time.event.is_set()
            p.jobs.clear()
    finally:
        p.close()


def test_worker_count_and_heartbeat_come_from_the_environment():
    assert training_jobs.WORKERS == (int(os.environ.get("LSTMLAB_TRAIN_WORKERS", "0")) or os.cpu_count())
    assert training_jobs.HEARTBEAT_SECONDS == float(os.environ.get("LSTMLAB_TRAIN_HEARTBEAT_S", "15"))
    assert training_jobs.MAX_SECONDS == float(os.environ.get("LSTMLAB_TRAIN_MAX_SECONDS", "600"))
    assert training_jobs.NICE == int(os.environ.get("LSTMLAB_TRAIN_NICE", "10"))
    assert training_jobs.IDLE == (os.environ.get("LSTMLAB_TRAIN_IDLE", "0") == "1")
