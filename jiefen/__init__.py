"""Jiefen (解纷): petition and dispute resolution platform."""

import os

# One BLAS/OpenMP thread per process unless the environment says otherwise (set before numpy is loaded).
# Web and worker processes run many small matrix products (classification, similar-case search) side by side;
# with a thread pool per process, threads spin waiting for busy cores, and on a loaded 2-core host a batch
# search took 4.2 s instead of 0.06 s. Training jobs may raise these.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

# The Celery app is loaded with Django, so ``shared_task`` binds to it (and to its eager mode when no
# broker is configured).
from jiefen.celery import app as celery_app  # noqa: E402

__all__ = ["celery_app"]
