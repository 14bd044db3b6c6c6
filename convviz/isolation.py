"""Training in a worker process, so that a notebook's kernel does not grow with every model.

TensorFlow keeps what a training builds (traced functions, their kernels, the input pipeline's
buffers) for the life of the process: a kernel that trains a few models in turn grows by a few
hundred megabytes per model and never gives it back. :func:`convviz.train` therefore runs the
epochs of a ``class``-profile training in a fresh Python process (``python -m
convviz.isolation JOB``) and loads the trained weights back into the caller's model; the
worker's memory goes back to the system when it exits.

What crosses the process boundary, all through files:

- the model, saved as ``.keras`` in ``<run folder>/.job/`` (a :class:`~convviz.models.compress.Distiller`
  as its student and teacher, rebuilt in the worker);
- the images and labels, written once per content as ``.npy`` under the system's temporary
  folder and memory-mapped by the worker (each file under a temporary name, then renamed);
  images that ``load_cifar10`` returned, already maps of such files, are linked, not copied;
- the training itself goes through the run folder as always (checkpoint every epoch), and
  progress comes back as JSON lines on the worker's standard output, which the caller shows
  in place as it would its own.

The worker stops within a second or two when the process that started it dies (a killed
kernel): what it had finished is in the run folder, and the next call resumes from there.
Interrupting the cell stops the worker the same way. A model the worker cannot rebuild (a
custom layer Keras cannot deserialize) is trained in the calling process instead, with a note. ``CONVVIZ_ISOLATE=0`` (or ``1``) overrides
the choice; ``train(..., isolate=False)`` trains in the calling process.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

ENV_VAR = "CONVVIZ_ISOLATE"
RELAY_ENV = "CONVVIZ_RELAY"  # set in the worker: progress goes to stdout as JSON lines
MARK = "\x1econvviz "  # prefix of those lines (anything else the worker prints is passed on)
_DATA_NAMES = ("x_train", "y_train", "x_test", "y_test")


def wanted(isolate, profile) -> bool:
    """Whether a training runs in a worker: ``isolate`` if given, else ``CONVVIZ_ISOLATE``,
    else only in the ``class`` profile (the one meant for laptops and Binder's 2 GB)."""
    if isolate is None:
        env = os.environ.get(ENV_VAR, "").strip().lower()
        if env in ("1", "true", "yes"):
            return True
        if env in ("0", "false", "no"):
            return False
        if env:
            raise ValueError(f"environment variable {ENV_VAR} must be 0 or 1; got {env!r}")
        return profile.name == "class"
    if not isinstance(isolate, bool):
        raise ValueError(f"isolate must be True, False or None; got {isolate!r}")
    return isolate


# --------------------------------------------------------------------------- caller side


def _data_dir(arrays) -> Path:
    """The arrays as .npy files in a folder named by their content (written once).

    An array that is already a map of a whole ``.npy`` file (``load_cifar10``'s images) is
    linked, not copied: the worker then maps the very pages the caller maps, and the digest
    names that file instead of reading the array through."""
    from .data import content_folder, mapped_file, save_once

    digest = hashlib.blake2b(digest_size=12)
    files = [mapped_file(a) for a in arrays]
    for a, f in zip(arrays, files):
        digest.update(f"{a.dtype}{a.shape}".encode())
        digest.update(f"file:{f}".encode() if f else np.ascontiguousarray(a).data)
    folder = content_folder(digest.digest(), "job")
    for n, a, f in zip(_DATA_NAMES, arrays, files):
        link = folder / f"{n}.npy"
        if f is None:
            save_once(folder, n, a)
        elif not link.exists():
            tmp = folder / f".{n}.{os.getpid()}.tmp.npy"
            tmp.unlink(missing_ok=True)
            os.symlink(f, tmp)
            os.replace(tmp, link)
    return folder


def _save_model(model, job: Path) -> dict:
    from .models.compress import Distiller

    if isinstance(model, Distiller):
        model.get_student().save(job / "student.keras")
        model.get_teacher().save(job / "teacher.keras")
        return {"kind": "distiller", "temperature": model.temperature, "alpha": model.alpha}
    model.save(job / "model.keras")
    return {"kind": "model"}


class WorkerCannotLoad(RuntimeError):
    """The worker could not rebuild the model (a layer Keras cannot deserialize there)."""


def _saved(model, job: Path) -> dict:
    try:
        return _save_model(model, job)
    except Exception as err:  # noqa: BLE001 - any failure to save means: train here instead
        raise WorkerCannotLoad(f"it cannot be saved to a file: {err}") from err


def train_in_worker(model, arrays, *, profile, name: str, run_dir: Path, epochs: int,
                    batch_size: int, resume: bool, seed: int, display) -> dict:
    """Run the training in a worker; return the summary it wrote (``result.json``).

    ``display`` is the caller's :class:`convviz.training._Display`: the worker's progress is
    shown through it. Raises RuntimeError with the end of the worker's log if it fails.
    """
    import dataclasses

    job = run_dir / ".job"
    shutil.rmtree(job, ignore_errors=True)
    job.mkdir(parents=True)
    spec = {
        "model": _saved(model, job), "data": str(_data_dir(arrays)),
        "profile": dataclasses.asdict(profile), "name": name, "run_dir": str(run_dir),
        "epochs": epochs, "batch_size": batch_size, "resume": resume, "seed": seed,
        "parent": os.getpid(),
    }
    (job / "job.json").write_text(json.dumps(spec, indent=1))
    env = {**os.environ, RELAY_ENV: "1", ENV_VAR: "0", "PYTHONUNBUFFERED": "1"}
    log_path = job / "worker.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "convviz.isolation", str(job / "job.json")],
                                stdout=subprocess.PIPE, stderr=log, env=env, text=True,
                                cwd=os.getcwd())
        loaded = False
        try:
            for line in proc.stdout:
                if not line.startswith(MARK):
                    print(line, end="")
                    continue
                msg = json.loads(line[len(MARK):])
                loaded = loaded or msg.get("loaded", False)
                if "text" in msg:
                    display.text(msg["text"], force=msg.get("force", False))
                if "curve" in msg:
                    display.curve(msg["curve"], name)
            rc = proc.wait()
        except BaseException:  # KeyboardInterrupt from the notebook's stop button, mostly
            _stop(proc)
            raise
    if rc != 0:
        tail = log_path.read_text(errors="replace").strip().splitlines()[-15:]
        if not loaded:
            raise WorkerCannotLoad(tail[-1] if tail else f"exit code {rc}")
        raise RuntimeError(f"training {name!r} failed in its worker process (exit code {rc}); "
                           f"the end of its log ({log_path}):\n" + "\n".join(tail))
    summary = json.loads((run_dir / "result.json").read_text())
    shutil.rmtree(job, ignore_errors=True)
    return summary


def _stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# --------------------------------------------------------------------------- worker side


def relay(**msg):
    """Send one progress message to the caller (worker side)."""
    print(MARK + json.dumps(msg), flush=True)


def _watch_parent(parent: int):
    def watch():
        while True:
            if os.getppid() != parent:
                os._exit(3)  # the kernel is gone; what is finished is in the run folder
            time.sleep(1.0)

    threading.Thread(target=watch, daemon=True, name="convviz-watch-parent").start()


def _load_model(job: Path, spec: dict):
    import keras

    from .models import teaching  # noqa: F401 - registers convviz's custom layers

    if spec["kind"] == "distiller":
        from .models.compress import Distiller

        student = keras.saving.load_model(job / "student.keras", compile=False, safe_mode=False)
        teacher = keras.saving.load_model(job / "teacher.keras", compile=False, safe_mode=False)
        return Distiller(student, teacher, temperature=spec["temperature"], alpha=spec["alpha"])
    # safe_mode=False: the file was written a moment ago by the caller (Lambda layers load too)
    return keras.saving.load_model(job / "model.keras", compile=False, safe_mode=False)


def _mapped_data(folder: Path):
    x_train, y_train, x_test, y_test = (np.load(folder / f"{n}.npy", mmap_mode="r") for n in _DATA_NAMES)
    return (x_train, y_train), (x_test, y_test)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    job_file = Path(argv[0])
    spec = json.loads(job_file.read_text())
    _watch_parent(int(spec["parent"]))

    from .backend import load_keras
    from .profiles import Profile
    from .training import train

    load_keras()
    model = _load_model(job_file.parent, spec["model"])
    relay(loaded=True)
    # The arrays are memory-mapped and not named here: train() drops its references once its
    # datasets hold copies, and the mapping goes with them.
    train(model, _mapped_data(Path(spec["data"])), profile=Profile(**spec["profile"]),
          name=spec["name"], run_dir=spec["run_dir"], epochs=spec["epochs"],
          batch_size=spec["batch_size"], resume=spec["resume"], seed=spec["seed"],
          live_plot=True, verbose=False, isolate=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
