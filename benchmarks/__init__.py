"""convviz's benchmarks: scripts that print speed and memory figures, and one command that
gathers them into ``benchmarks/REPORT.md`` (and ``benchmarks/report.json``).

    python -m benchmarks                                   # every section (notebooks: quick and class)
    python -m benchmarks --only training,separable         # some sections; the others keep their last results
    python -m benchmarks --only notebooks --profiles class # the long one, on its own

Sections (one module each; each also runs on its own, ``python -m benchmarks.<module>``):

    training   training_speed.py   images/s of every teaching model, convviz's pipeline / plain model.fit,
                                   inference latency at batch 1 and 256
    pipeline   training_speed.py   what each part of the training path costs (callback, augmentation,
                                   steps_per_execution), relative to plain model.fit
    xla        training_speed.py   model.compile(jit_compile=False / True / "auto") on this machine
    separable  separable_speed.py  standard vs depthwise separable convolution: mult-add ratio vs time ratio
    accuracy   time_to_accuracy.py time to 50/70/80% test accuracy from the experiment records
    analysis   analysis_speed.py   cost table and receptive fields of keras.applications models
    widgets    widget_latency.py   control-change-to-redrawn latency of every widget
    notebooks  notebooks_cost.py   wall time and peak kernel memory of every notebook, per profile

Timings on a shared machine are noisy: every comparison is a ratio measured within one run,
interleaved (A, B, A, B), so that a busy neighbour slows both sides. Benchmarks print; tests
never assert on times.
"""
from __future__ import annotations

import datetime
import os
import platform
import statistics
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

from convviz.experiments import cpu_name  # noqa: E402  (one CPU probe for records and report)
from convviz.training import usable_cores  # noqa: E402


def quiet_tensorflow():
    """Keep TensorFlow's C++ start-up chatter out of the figures."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def load_average() -> list[float]:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return []


def machine() -> dict:
    """What the figures were measured on (no TensorFlow import; versions are added by sections)."""
    info = {"cpu": cpu_name(), "cores": os.cpu_count(), "usable_cores": usable_cores(),
            "platform": platform.platform(), "python": platform.python_version()}
    try:
        import psutil

        info["memory_gb"] = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:
        pass
    return info


def software() -> dict:
    """Keras and TensorFlow versions (imports them)."""
    quiet_tensorflow()
    import keras
    import tensorflow as tf

    return {"keras": keras.__version__, "tensorflow": tf.__version__,
            "backend": keras.backend.backend(),
            "gpus": len(tf.config.list_physical_devices("GPU"))}


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


class Timer:
    """``with Timer() as t: ...`` then ``t.seconds`` (wall clock) and ``t.cpu`` (CPU seconds of
    this process, all threads: on a busy machine it leaves out the time spent waiting for a core)."""

    def __enter__(self):
        self.start, self.start_cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
        self.cpu = time.process_time() - self.start_cpu


def median(values):
    return statistics.median(values) if values else float("nan")


def spread(ratios) -> str:
    """``min..max`` of per-round ratios, for the report."""
    return f"{min(ratios):.2f}..{max(ratios):.2f}" if ratios else "-"
