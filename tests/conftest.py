"""Shared test settings: torch on one thread, hypothesis profiles and small helpers."""

import os
import sys

# Before anything imports torch (subprocesses inherit it too): the models here are tiny, so a second intra-op
# thread buys nothing, and on a busy 2-core machine it makes small training runs 10-50x slower.
os.environ.setdefault("OMP_NUM_THREADS", "1")

from hypothesis import HealthCheck, settings  # noqa: E402 - after the thread setting, on purpose

if "torch" in sys.modules:  # already imported (by a plugin): the environment variable came too late
    sys.modules["torch"].set_num_threads(1)

settings.register_profile("default", deadline=None, max_examples=40,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", deadline=None, max_examples=400,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
