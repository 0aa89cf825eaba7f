"""Imported once by the training forkserver (app/training_jobs.py), never by a page: what every training job
needs is then ready in each process forked from it, and a job starts in milliseconds."""

import torch._dynamo  # noqa: F401 - torch.optim.Adam imports it on first use: 1.5 s here

import lstm_core.training  # noqa: F401 - torch, the cells, the tasks
from app import training_jobs  # noqa: F401 - the job's own code
from lstm_core import loops

loops.prepare(("lstm", "gru", "rnn"))  # the gates' statistics trace with the compiled loops, no background compile
