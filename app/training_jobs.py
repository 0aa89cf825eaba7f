"""Training jobs for the Train page: every model trains in a process of its own, never on a page's script thread.

Why processes: a training step holds Python's GIL between torch's kernels, so a training thread would slow
every session's script runs (and every student's steps on Explore) on this server process. A process has its
own interpreter and runs on its own core.

How it works
- One `Pool` per server process (`pool()`), shared by all sessions. At most `workers` jobs run at once
  (LSTMLAB_TRAIN_WORKERS, default os.cpu_count()); the others wait in one first-come queue, and each knows
  its place in it (`JobView.position`). At most MAX_QUEUED wait; a session has one set of at most MAX_JOBS jobs
  at a time (starting a new set stops and forgets its old one, and the new set queues at the back).
- The per-session budget: a job's time budget is capped by the server (LSTMLAB_TRAIN_MAX_SECONDS, 600 s), the
  child ends itself when it is spent, and the pump stops a job that runs OVERRUN_SECONDS past it. Jobs run at
  nice LSTMLAB_TRAIN_NICE (10): a core the server's sessions also want goes to the sessions; LSTMLAB_TRAIN_IDLE=1
  adds Linux's SCHED_IDLE policy (off by default: see IDLE).
- A job is a process from the "forkserver" context: one helper process, started once, has imported torch
  and lstm_core's training code (FORKSERVER_PRELOAD), and forks a fresh child for each job, so a job starts
  in milliseconds instead of the second and a half a new interpreter needs to import torch; and unlike a
  plain fork of the server, the child inherits none of the server's threads or locks. LSTMLAB_TRAIN_START=spawn
  starts each job in a new interpreter instead.
- The child (`work`) runs `lstm_core.training.train` with torch on one thread. Its on_epoch sends each
  report (losses, metric, elapsed time, the gates' statistics) through a one-way pipe; `stop` is the job's
  Event, which Stop sets; at the end it sends the result: metrics and the best epoch's weights as a
  checkpoint's .npz bytes. A pipe per job rather than a shared multiprocessing.Queue: a child ended by force
  cannot leave a shared lock taken, and nothing has to be flushed by a feeder thread before a child exits.
- A pump thread in the server reads every pipe, notices processes that have ended, starts queued jobs as
  places free up, and stops the jobs of sessions that have gone quiet.
- Session end: Streamlit has no hook for it, so the page's polling fragment, and a small keep-alive
  fragment on every page while a session has jobs (app/train_view.py), call `touch(session)`; a job whose
  session has not been heard from for HEARTBEAT_SECONDS (LSTMLAB_TRAIN_HEARTBEAT_S, 15 s) is stopped, like
  Stop. A child that does not end within STOP_GRACE_SECONDS of a stop is terminated, and a child whose
  server has gone away stops by itself.

Nothing here imports Streamlit: the child imports this module to find `work`.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import multiprocessing
import os
import threading
import time
from dataclasses import dataclass, field
from multiprocessing import spawn
from multiprocessing.connection import wait

from lstm_core.models import load_model

log = logging.getLogger(__name__)

WORKERS = int(os.environ.get("LSTMLAB_TRAIN_WORKERS", "0")) or (os.cpu_count() or 1)
HEARTBEAT_SECONDS = float(os.environ.get("LSTMLAB_TRAIN_HEARTBEAT_S", "15"))
START_METHOD = os.environ.get("LSTMLAB_TRAIN_START", "forkserver")
# Training is batch work and a step on Explore is someone waiting: by default a job runs at nice 10, so on a core
# the server also wants the server wins (on an idle core the job runs at full speed all the same). 0 turns it off.
NICE = int(os.environ.get("LSTMLAB_TRAIN_NICE", "10"))
# Under SCHED_IDLE (Linux) a job runs only when no ordinary process wants a core. Measured with the class load test
# (README, "While students train"): on a crowded machine it kept the steps' p95 nearer the idle one than nice 10
# alone, on a quiet one it made it worse and training slower (the kernel counts a core running only SCHED_IDLE
# work as idle, so a session's thread is woken there beside the job rather than on the truly idle core). So it
# is opt-in (LSTMLAB_TRAIN_IDLE=1); where the policy is missing (macOS, Windows) or refused, nice alone applies.
IDLE = os.environ.get("LSTMLAB_TRAIN_IDLE", "0") == "1"
# The server's own cap on a job's time budget, whatever a page asks (the Train page offers up to 600 s): with one
# set of at most MAX_JOBS jobs per session at a time, a session can hold a place in the pool for at most this long
# before the next in the queue gets it (a new set goes to the back of the queue).
MAX_SECONDS = float(os.environ.get("LSTMLAB_TRAIN_MAX_SECONDS", "600"))
MAX_JOBS = 3  # per session at a time: the Train page's three model slots
OVERRUN_SECONDS = 30.0  # a job still running this long after its budget (its epoch's evaluation included) is stopped
MAX_QUEUED = 100  # jobs waiting at once, over all sessions
STOP_GRACE_SECONDS = 30.0  # after a stop, how long a child may take to send its result before it is terminated
KEEP_SECONDS = 600.0  # a quiet session's finished jobs (results, checkpoints) are forgotten after this
GATE_PROBE = 64  # validation sequences the gates' statistics are measured on, each epoch
MAX_FRAMES = 120  # gate-statistics frames kept per job (the saturation animation); older ones are thinned out
# Imported by the forkserver before it forks any job (app/training_preload.py says what and why). A module it
# cannot import (the server started from another folder, so `app` is not on its path) is skipped by Python, and
# each job then imports what it needs itself: slower to start, the same results.
FORKSERVER_PRELOAD = ["torch._dynamo", "app.training_preload"]
ACTIVE = ("queued", "starting", "running", "stopping")
RUNNING = ("starting", "running", "stopping")  # the ones that hold a place in the pool


def _without_main(get_preparation_data):
    """multiprocessing.spawn.get_preparation_data, minus the main module for our jobs' processes.

    A child started by "forkserver" or "spawn" first imports the parent's __main__ again (so that functions
    defined there can be unpickled). In a Streamlit server __main__ is the app script Streamlit ran last, so
    every job would run the whole app (in "bare mode") before training. A job needs nothing from __main__ (its
    target is this module's `work`), so for processes named "lstmlab-train-..." the main module is left out."""
    def prepare(name):
        data = get_preparation_data(name)
        if str(name).startswith(PROCESS_PREFIX):
            data.pop("init_main_from_path", None)
            data.pop("init_main_from_name", None)
        return data

    prepare.lstmlab = True
    return prepare


PROCESS_PREFIX = "lstmlab-train-"
if not getattr(spawn.get_preparation_data, "lstmlab", False):  # once, however often this module is reloaded
    spawn.get_preparation_data = _without_main(spawn.get_preparation_data)


class QueueFull(RuntimeError):
    """The server's queue is full: the page says so and asks to try again later."""


class TooManyJobs(ValueError):
    """More than MAX_JOBS jobs in one set (the page never sends more)."""


# ---------------------------------------------------------------------------------------------------------
# The child


def yield_cpu(nice: int, idle: bool) -> str:
    """Lower this process's CPU priority: nice `nice`, then SCHED_IDLE if `idle` and the system has it; returns the
    policy in force ("idle", "nice" or "normal")."""
    if nice:
        os.nice(nice)  # first, so that it stays in force if SCHED_IDLE is refused
    if idle and hasattr(os, "SCHED_IDLE"):
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
            return "idle"
        except OSError:  # a sandbox's seccomp filter, say: nice alone, logged once per job
            log.warning("SCHED_IDLE refused; the training job runs at nice %d", nice)
    return "nice" if nice else "normal"


def work(config: dict, conn, stop_event, gate_probe: int = GATE_PROBE, nice: int = 0, idle: bool = False) -> None:
    """A job's process: train one model, sending ("epoch", record, gates) per epoch, then ("done", result) or
    ("error", message)."""
    parent = os.getppid()
    try:
        yield_cpu(nice, idle)
        import torch

        torch.set_num_threads(1)  # one core per job: the pool's size is what spreads jobs over the cores
        from lstm_core import loops
        from lstm_core.errors import LabError
        from lstm_core.training import TrainConfig, train

        loops.prepare()  # done already if the forkserver preloaded it; else before the clock starts

        def stop() -> bool:  # Stop pressed, the session gone, or the server gone (this process orphaned)
            return stop_event.is_set() or os.getppid() != parent

        def on_epoch(report) -> None:
            conn.send(("epoch", report.record(), report.gates))

        try:
            res = train(TrainConfig.from_dict(config), on_epoch, stop=stop, gate_probe=gate_probe)
        except LabError as e:
            conn.send(("error", str(e)))
            return
        conn.send(("done", {"metrics": res.metrics, "stop_reason": res.stop_reason, "seconds": res.seconds,
                            "checkpoint": res.checkpoint.to_bytes()}))
    except (BrokenPipeError, EOFError, KeyboardInterrupt):
        pass  # the server is gone or ended this job: nobody is listening
    except Exception as e:  # noqa: BLE001 - a bug: said in one line on the page, not lost with the process
        with contextlib.suppress(OSError):
            conn.send(("error", f"internal error: {type(e).__name__}: {e}"))
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------------------------
# The server's side


@dataclass
class Job:
    id: str
    session: str
    label: str  # "LSTM (vanilla, 32 units)"
    config: dict  # TrainConfig as a dict (validated before it was submitted)
    submitted: float  # time.monotonic()
    state: str = "queued"  # queued | starting | running | stopping | done | failed | cancelled (stopped while queued)
    started: float | None = None
    finished: float | None = None
    epochs: list = field(default_factory=list)  # EpochReport.record() dicts, plus "forget": the mean forget gate
    frames: list = field(default_factory=list)  # (epoch, GateStats), thinned to MAX_FRAMES
    result: dict | None = None  # metrics, stop_reason, seconds, checkpoint (.npz bytes)
    error: str | None = None
    stop_asked: float | None = None
    stop_why: str = ""
    process: object = None
    conn: object = None
    event: object = None


@dataclass(frozen=True)
class JobView:
    """A job as the page reads it: a copy, safe to keep while the pump thread goes on."""

    id: str
    label: str
    config: dict
    state: str
    position: int | None  # 1 = next to start; None once it runs
    elapsed: float  # seconds since it started (0 while queued)
    epochs: tuple
    frames: tuple
    result: dict | None
    error: str | None
    stop_why: str

    @property
    def active(self) -> bool:
        return self.state in ACTIVE


class Pool:
    """Runs at most `workers` training processes at once; see the module's docstring."""

    def __init__(self, workers: int = WORKERS, heartbeat: float = HEARTBEAT_SECONDS, start_method: str = START_METHOD,
                 nice: int = NICE, idle: bool = IDLE, gate_probe: int = GATE_PROBE, max_seconds: float = MAX_SECONDS):
        self.workers, self.heartbeat, self.nice, self.idle = max(1, workers), heartbeat, nice, idle
        self.gate_probe = gate_probe
        self.max_seconds = max_seconds
        self.ctx = multiprocessing.get_context(start_method)
        self.lock = threading.Lock()
        self.jobs: dict[str, Job] = {}  # in submission order
        self.seen: dict[str, float] = {}  # session -> last touch (time.monotonic())
        self.ids = itertools.count(1)
        self.closed = False
        self.wake_r, self.wake_w = multiprocessing.Pipe(duplex=False)  # wakes the pump for a new job or a stop
        self.thread = threading.Thread(target=self._pump, name="lstmlab-training-pump", daemon=True)
        self.thread.start()

    # -- what the page calls (each takes the lock briefly; none waits for a process)

    def submit(self, session: str, jobs: list[tuple[str, dict]]) -> list[str]:
        """Queue (label, config) jobs for `session`, replacing its earlier ones (stopped if still active). Each
        config's time budget is cut to the server's cap (`max_seconds`); what the job's page shows is the config
        kept here, so it says the budget the job really has."""
        if len(jobs) > MAX_JOBS:
            raise TooManyJobs(f"at most {MAX_JOBS} models train at once per session, not {len(jobs)}")
        jobs = [(label, {**config, "max_seconds": min(float(config.get("max_seconds", self.max_seconds)),
                                                        self.max_seconds)}) for label, config in jobs]
        now = time.monotonic()
        with self.lock:
            waiting = sum(j.state == "queued" and j.session != session for j in self.jobs.values())
            if waiting + len(jobs) > MAX_QUEUED:
                raise QueueFull(f"{waiting} trainings are waiting on this server already")
            for job in [j for j in self.jobs.values() if j.session == session]:
                self._stop(job, "replaced by a new training")
                if job.state not in ACTIVE:
                    del self.jobs[job.id]
                else:
                    job.session = f"{session}/old"  # ends in the background, then is forgotten
            self.seen[session] = now
            ids = []
            for label, config in jobs:
                job = Job(f"j{next(self.ids)}", session, label, dict(config), now)
                self.jobs[job.id] = job
                ids.append(job.id)
        self._wake()
        return ids

    def stop(self, session: str, why: str = "Stop pressed") -> None:
        """Stop the session's jobs: a queued one never starts, a running one ends after its current batch and
        sends its best weights."""
        with self.lock:
            for job in self.jobs.values():
                if job.session == session:
                    self._stop(job, why)
        self._wake()

    def touch(self, session: str) -> None:
        """The session is alive (its page polled)."""
        self.seen[session] = time.monotonic()

    def has_active(self, session: str) -> bool:
        with self.lock:
            return any(j.session == session and j.state in ACTIVE for j in self.jobs.values())

    def views(self, session: str) -> list[JobView]:
        now = time.monotonic()
        with self.lock:
            queued = [j.id for j in self.jobs.values() if j.state == "queued"]
            return [JobView(j.id, j.label, j.config, j.state,
                            queued.index(j.id) + 1 if j.id in queued else None,
                            ((j.finished or now) - j.started) if j.started else 0.0, tuple(j.epochs), tuple(j.frames),
                            j.result, j.error, j.stop_why)
                    for j in self.jobs.values() if j.session == session]

    def counts(self) -> dict:
        with self.lock:
            states = [j.state for j in self.jobs.values()]
        return {s: states.count(s) for s in ("queued", *RUNNING, "done", "failed", "cancelled")}

    def close(self) -> None:
        """Stop everything and end the pump (tests; the server's exit ends daemon processes by itself)."""
        with self.lock:
            self.closed = True
            for job in self.jobs.values():
                self._stop(job, "server closing")
        self._wake()
        self.thread.join(timeout=STOP_GRACE_SECONDS + 10)

    # -- the pump thread

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self.wake_w.send(None)

    def _stop(self, job: Job, why: str) -> None:  # under the lock
        if job.state == "queued":
            job.state, job.finished, job.stop_why = "cancelled", time.monotonic(), why
        elif job.state in ("starting", "running"):  # a starting job's Event exists before its process starts
            job.state, job.stop_asked, job.stop_why = "stopping", time.monotonic(), why
            job.event.set()

    def _start(self, job: Job) -> None:
        """Start a job's process (outside the lock: the first start may wait for the forkserver)."""
        recv, send = self.ctx.Pipe(duplex=False)
        process = self.ctx.Process(target=work, name=f"{PROCESS_PREFIX}{job.id}", daemon=True,
                                   args=(job.config, send, job.event, self.gate_probe, self.nice, self.idle))
        try:
            process.start()
        finally:
            send.close()  # the child holds the sending end; EOF here means it has gone
        with self.lock:
            job.process, job.conn, job.started = process, recv, time.monotonic()
            if job.state == "starting":
                job.state = "running"

    def _receive(self, job: Job, msg) -> None:  # under the lock
        kind = msg[0]
        if kind == "epoch":
            job.epochs.append({**msg[1], "forget": None if msg[2] is None else msg[2].forget})
            if msg[2] is not None:
                job.frames.append((msg[1]["epoch"], msg[2]))
                if len(job.frames) > MAX_FRAMES:  # keep the first, every other one, and the newest
                    job.frames = job.frames[:1] + job.frames[1:-1][1::2] + job.frames[-1:]
        elif kind == "done":  # the checkpoint, read once here (numpy only), is what the page shows and opens
            try:
                job.result = {**msg[1], "checkpoint_object": load_model(msg[1]["checkpoint"], name="the Train page")}
            except Exception as e:  # noqa: BLE001 - a bug (training wrote what loading refuses): said on the page
                job.error = f"internal error: the trained checkpoint does not load: {type(e).__name__}: {e}"
        elif kind == "error":
            job.error = msg[1]

    def _finish(self, job: Job) -> None:  # under the lock: the process has ended
        with contextlib.suppress(OSError, EOFError):
            while job.conn.poll():
                self._receive(job, job.conn.recv())
        job.conn.close()
        job.process.join(timeout=1)
        code = job.process.exitcode
        job.finished = time.monotonic()
        if job.result is not None:
            job.state = "done"
        else:
            job.state = "failed"
            if job.error is None:
                job.error = (f"the training was ended before it sent its result ({job.stop_why})" if job.stop_asked
                             else f"the training process ended unexpectedly (exit code {code})")
        job.process = job.conn = job.event = None

    def _pump(self) -> None:
        if self.ctx.get_start_method() == "forkserver":
            self.ctx.set_forkserver_preload(FORKSERVER_PRELOAD)
            try:  # start the forkserver now (it imports torch), so the first job does not wait for it
                from multiprocessing import forkserver

                forkserver.ensure_running()
            except Exception:  # noqa: BLE001 - the first job will try again and report what fails
                log.exception("could not start the training forkserver")
        while True:
            try:
                if self._pump_once():
                    return
            except Exception:  # noqa: BLE001 - a bug here must not stop every training on the server
                log.exception("training pump")
                time.sleep(0.25)

    def _pump_once(self) -> bool:
        """One round: read what the children sent, finish ended jobs, stop quiet sessions' jobs, start queued
        ones. True when the pool is closed and nothing runs."""
        with self.lock:
            running = [j for j in self.jobs.values() if j.process is not None]
            if self.closed and not running and not any(j.state == "starting" for j in self.jobs.values()):
                return True
            waits = {self.wake_r: None}
            for j in running:
                waits[j.conn] = j
                waits[j.process.sentinel] = j
            busy = any(j.state in ACTIVE for j in self.jobs.values())
        ready = wait(list(waits), timeout=0.25 if busy else 5.0)  # idle: the wake pipe says when a job arrives
        with self.lock:
            for r in ready:
                job = waits[r]
                if job is None:
                    with contextlib.suppress(OSError, EOFError):
                        while self.wake_r.poll():
                            self.wake_r.recv()
                elif r is job.conn and job.conn is not None:
                    try:
                        self._receive(job, job.conn.recv())
                    except (EOFError, OSError):
                        pass  # the child closed its end: its sentinel says when it has gone
            to_start = self._housekeeping()
        for job in to_start:
            try:
                self._start(job)
            except Exception as e:  # noqa: BLE001 - said on the page
                with self.lock:
                    job.state, job.finished = "failed", time.monotonic()
                    job.error = f"could not start: {type(e).__name__}: {e}"
        return False

    def _housekeeping(self) -> list[Job]:  # under the lock; returns the jobs to start now
        now = time.monotonic()
        for job in list(self.jobs.values()):
            quiet = now - self.seen.get(job.session.split("/")[0], job.submitted)
            if job.state in ("queued", "starting", "running") and quiet > self.heartbeat:
                self._stop(job, "the page was closed")
            if (job.state == "running" and job.started is not None
                    and now - job.started > job.config["max_seconds"] + OVERRUN_SECONDS):
                self._stop(job, "past its time budget")  # the child checks its budget itself; this is the backstop
            if job.state == "stopping" and job.process is not None and now - job.stop_asked > STOP_GRACE_SECONDS:
                if job.process.is_alive():
                    job.process.terminate()
                if now - job.stop_asked > STOP_GRACE_SECONDS + 5 and job.process.is_alive():
                    job.process.kill()
            if job.process is not None and job.process.exitcode is not None:
                self._finish(job)
            if job.state not in ACTIVE and (quiet > KEEP_SECONDS or job.session.endswith("/old")):
                del self.jobs[job.id]
        for session in [s for s, t in self.seen.items() if now - t > KEEP_SECONDS]:
            del self.seen[session]
        running = sum(j.state in RUNNING for j in self.jobs.values())
        to_start = []
        for job in [j for j in self.jobs.values() if j.state == "queued"]:
            if running >= self.workers or self.closed:
                break
            job.state, job.event = "starting", self.ctx.Event()
            to_start.append(job)
            running += 1
        return to_start


_POOL: list[Pool] = []
_POOL_LOCK = threading.Lock()


def existing() -> Pool | None:
    """The server's pool if a Train page has made it (other pages never start one)."""
    return _POOL[0] if _POOL else None


def pool() -> Pool:
    """The server's pool (made on first use)."""
    with _POOL_LOCK:
        if not _POOL:
            _POOL.append(Pool())
        return _POOL[0]
