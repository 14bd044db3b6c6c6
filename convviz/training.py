"""``convviz.train``: the one way the notebooks train a Keras model on CIFAR-10.

- Input pipeline: ``tf.data`` over the uint8 arrays (scaling to floats happens
  inside the model), random crop with 4-pixel padding and horizontal flip done
  per batch in the graph, prefetching, a fixed number of input threads (tf.data's
  autotuner off: it left a core idle in about half of the epochs). No Python runs per batch.
- Budget from the run profile (:mod:`convviz.profiles`): epochs, batch size,
  learning rate (linear warm-up, then cosine decay), weight decay.
- Progress: a progress line and a learning curve that update in place in a
  notebook (plain text on a terminal).
- After every epoch the weights, the optimizer state and the history are written
  to the run folder, each to a temporary name and then renamed. Calling the same
  training again (same run folder, same model and profile) resumes from the last
  finished epoch and says so.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from .profiles import Profile, get_profile

NUM_CLASSES = 10
IMAGE_SHAPE = (32, 32, 3)
RUNS_ENV = "CONVVIZ_RUNS"


@dataclasses.dataclass
class TrainResult:
    """What :func:`train` returns."""

    name: str
    history: dict  # metric -> list per epoch (loss, accuracy, test_loss, test_accuracy, lr, epoch_time)
    test_accuracy: float
    test_loss: float
    wall_time: float  # seconds of training over all sessions of this run
    images_per_second: float  # training throughput (forward + backward), this session's epochs
    epochs: int
    resumed_from: int  # epochs already finished when this call started (0 = fresh)
    run_dir: str
    profile: str
    model: object = dataclasses.field(repr=False, default=None)

    def summary(self) -> str:
        return (f"{self.name}: test accuracy {self.test_accuracy:.1%} after {self.epochs} epochs, "
                f"{self.wall_time:.0f} s, {self.images_per_second:,.0f} images/s")


def default_runs_dir() -> Path:
    """``$CONVVIZ_RUNS`` or ``./runs``."""
    return Path(os.environ.get(RUNS_ENV, "runs"))


def load_run(name: str, profile: str | Profile | None = None, runs_dir=None) -> dict | None:
    """The figures of a finished run called ``name`` in ``profile``'s run folder, without
    building or loading its model; ``None`` when there is no finished run of that name.

    Returns ``result.json``'s fields (``test_accuracy``, ``wall_time``, ``epochs``, ...) and
    ``history``. ``runs_dir`` defaults to ``$CONVVIZ_RUNS`` or ``./runs``, as for :func:`train`.
    Notebook 02 uses it to set notebook 00's baseline beside its own runs without training it
    again. Reads JSON only: no TensorFlow.
    """
    if not isinstance(name, str) or not name or name != Path(name).name:
        raise ValueError(f"name must be a run name (a folder name, no path); got {name!r}")
    prof = get_profile(profile)
    run_dir = Path(runs_dir if runs_dir is not None else default_runs_dir()) / prof.name / name
    try:
        result = json.loads((run_dir / "result.json").read_text())
        history = json.loads((run_dir / "history.json").read_text())
    except (OSError, ValueError):
        return None
    if (result.get("profile") != prof.name or result.get("epochs") != prof.epochs
            or len(history.get("test_accuracy", ())) < prof.epochs):
        return None  # another profile, or a run of this one from before its budget changed
    return {**result, "history": history}


# --------------------------------------------------------------------------- validation


def _check_xy(x, y, name_x: str, name_y: str):
    x = np.asarray(x)
    y = np.asarray(y)
    if x.ndim != 4 or tuple(x.shape[1:]) != IMAGE_SHAPE:
        raise ValueError(f"{name_x} must have shape (N, 32, 32, 3); got {x.shape}")
    if x.dtype != np.uint8:
        raise ValueError(f"{name_x} must be uint8 images (scaling happens inside the model); "
                         f"got dtype {x.dtype}")
    y = y.reshape(-1) if y.ndim == 2 and y.shape[1] == 1 else y
    if y.ndim != 1 or len(y) != len(x):
        raise ValueError(f"{name_y} must be a vector of {len(x)} integer labels; got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"{name_y} must hold integer class labels; got dtype {y.dtype}")
    if len(y) and (y.min() < 0 or y.max() >= NUM_CLASSES):
        raise ValueError(f"{name_y} must be in 0..{NUM_CLASSES - 1}; got values "
                         f"{int(y.min())}..{int(y.max())}")
    if len(x) == 0:
        raise ValueError(f"{name_x} is empty")
    return x, y.astype(np.int32)


def _unpack_data(data, profile: Profile, seed: int):
    if data is None:
        from .data import load_cifar10

        sizes = None if profile.train_size is None else (profile.train_size, profile.test_size)
        data = load_cifar10(subset=sizes, seed=seed)
    if hasattr(data, "x_train"):
        parts = (data.x_train, data.y_train, data.x_test, data.y_test)
    else:
        try:
            (xa, ya), (xb, yb) = data[0], data[1]
        except (TypeError, ValueError, IndexError):
            raise ValueError("data must be the result of convviz.data.load_cifar10() or "
                             "((x_train, y_train), (x_test, y_test))") from None
        parts = (xa, ya, xb, yb)
    x_train, y_train = _check_xy(parts[0], parts[1], "x_train", "y_train")
    x_test, y_test = _check_xy(parts[2], parts[3], "x_test", "y_test")
    return x_train, y_train, x_test, y_test


# --------------------------------------------------------------------------- pipeline


def augment_batch(images, pad: int = 4):
    """Random crop with ``pad`` pixels of zero padding and a horizontal flip, per image of a uint8 batch.

    The flip is folded into the crop: a flipped image reads its crop's columns right to left,
    so the whole augmentation is two gathers (rows, then columns) on the padded batch.
    """
    import tensorflow as tf

    b = tf.shape(images)[0]
    oy = tf.random.uniform([b], 0, 2 * pad + 1, dtype=tf.int32)
    ox = tf.random.uniform([b], 0, 2 * pad + 1, dtype=tf.int32)
    flip = tf.random.uniform([b]) < 0.5
    return crop_flip(images, oy, ox, flip, pad)


def crop_flip(images, oy, ox, flip, pad: int = 4):
    """The crops (row offset ``oy``, column offset ``ox`` into the zero-padded image) and flips
    of :func:`augment_batch`, given its draws.

    Not XLA-compiled: under ``tf.function(jit_compile=True)`` the input pipeline ran at 2.1x the
    images per CPU second, but that is under 1 % of a training's CPU, and loading XLA added
    about 40 MB to every training process (benchmarks/REPORT.md, the training path).
    """
    import tensorflow as tf

    h, w = IMAGE_SHAPE[0], IMAGE_SHAPE[1]
    padded = tf.pad(images, [[0, 0], [pad, pad], [pad, pad], [0, 0]])
    rows = oy[:, None] + tf.range(h)[None, :]
    cols = ox[:, None] + tf.where(flip[:, None], tf.range(w - 1, -1, -1)[None, :],
                                  tf.range(w)[None, :])
    out = tf.gather(padded, rows, axis=1, batch_dims=1)
    return tf.gather(out, cols, axis=2, batch_dims=1)


def augment_batch_numpy(images: np.ndarray, rng: np.random.Generator, pad: int = 4) -> np.ndarray:
    """:func:`augment_batch` in numpy, for Keras backends other than TensorFlow."""
    b, h, w = len(images), IMAGE_SHAPE[0], IMAGE_SHAPE[1]
    padded = np.pad(images, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    rows = rng.integers(0, 2 * pad + 1, b)[:, None] + np.arange(h)
    cols = rng.integers(0, 2 * pad + 1, b)[:, None] + np.arange(w)
    out = padded[np.arange(b)[:, None, None], rows[:, :, None], cols[:, None, :]]
    flip = rng.random(b) < 0.5
    out[flip] = out[flip, :, ::-1]
    return out


def _array_batches(x, y, batch_size: int, training: bool, augment: bool, seed: int | None):
    """Batches from in-memory arrays as a ``keras.utils.PyDataset`` (JAX and PyTorch backends)."""
    import keras

    class ArrayBatches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__(workers=4 if training else 1, use_multiprocessing=False)
            self.rng = np.random.default_rng(seed)
            self.order = self.rng.permutation(len(x)) if training else np.arange(len(x))
            full = training and len(x) >= batch_size
            self.n = len(x) // batch_size if full else -(-len(x) // batch_size)

        def __len__(self):
            return self.n

        def __getitem__(self, i):
            idx = np.sort(self.order[i * batch_size:(i + 1) * batch_size])
            xb = x[idx]
            if training and augment:
                xb = augment_batch_numpy(xb, np.random.default_rng(self.rng.integers(1 << 31)))
            return xb, y[idx]

        def on_epoch_end(self):
            if training:
                self.order = self.rng.permutation(len(x))

    return ArrayBatches()


def make_dataset(x, y, batch_size: int, training: bool, augment: bool = True, seed: int | None = None):
    """A ``tf.data.Dataset`` of (uint8 images, int labels) batches (a ``PyDataset`` on other backends)."""
    import keras

    if keras.backend.backend() != "tensorflow":
        return _array_batches(x, y, batch_size, training, augment, seed)
    import tensorflow as tf

    # Shuffle and batch indices, then gather each batch from the arrays held once as tensors
    # (as Keras does for numpy inputs): no shuffle buffer holding a second copy of the images,
    # and one vectorised crop + flip per batch.
    images, labels = tf.convert_to_tensor(x), tf.convert_to_tensor(y)
    ds = tf.data.Dataset.range(len(x))
    if training:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=training and len(x) >= batch_size)

    def grab(idx):
        xb = tf.gather(images, idx)
        if training and augment:
            xb = augment_batch(xb)
        return xb, tf.gather(labels, idx)

    # Fixed parallelism, and tf.data's autotuner off: with it on, about half of the epochs on a
    # 2-core machine ran the training step on one core (the process at ~1.1 CPUs instead of
    # ~1.8, 1.7x slower by the clock at the same CPU time per image; benchmarks/README.md,
    # "Why the wall clock halved"). Keras' own pipeline for numpy inputs keeps it on.
    ds = ds.map(grab, num_parallel_calls=_input_threads()).prefetch(PREFETCH_BATCHES)
    options = tf.data.Options()
    options.autotune.enabled = False
    return ds.with_options(options)


PREFETCH_BATCHES = 2  # batches made ahead of the training step
MAX_INPUT_THREADS = 4  # one thread gathers and augments ~90k images/s, far above any model here


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity where the OS says, else all)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _input_threads() -> int:
    """How many batches the input pipeline prepares at once: the usable cores, at most 4."""
    return max(1, min(MAX_INPUT_THREADS, usable_cores()))


def lr_schedule(profile: Profile, steps_per_epoch: int, epochs: int):
    """Linear warm-up to ``profile.learning_rate`` then cosine decay to zero, per step."""
    import keras

    total = max(1, steps_per_epoch * epochs)
    warmup = int(round(profile.warmup_epochs * steps_per_epoch))
    warmup = min(warmup, total - 1)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0 if warmup else profile.learning_rate,
        decay_steps=total - warmup,
        warmup_target=profile.learning_rate if warmup else None,
        warmup_steps=warmup,
    )


# --------------------------------------------------------------------------- run folder


def _fingerprint(model, profile: Profile, epochs: int, batch_size: int, n_train: int, n_test: int) -> str:
    # Layer types and weight shapes, not names: Keras numbers names per session (conv2d_3, ...).
    arch = json.dumps([[type(l).__name__, [list(w.shape) for w in l.weights]] for l in model.layers])
    blob = json.dumps({"arch": arch, "params": int(model.count_params()),
                       "profile": dataclasses.asdict(profile), "epochs": epochs,
                       "batch_size": batch_size, "n_train": n_train, "n_test": n_test},
                      sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _atomic_write_text(path: Path, text: str):
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _save_checkpoint(run_dir: Path, model, state: dict, history: dict):
    """Weights (with the optimizer's state: step count, moments), history, then state.json.

    state.json, written last, is what says an epoch is finished, and it names the weights
    file of that epoch: a kill between the writes leaves the previous state pointing at the
    previous weights, still on disk (older weights are deleted only after the new state is in).
    """
    weights = f"model-{state['epochs_done']}.weights.h5"  # Keras insists on the suffix
    tmp_w = run_dir / ".tmp.weights.h5"
    model.save_weights(tmp_w)
    os.replace(tmp_w, run_dir / weights)
    _atomic_write_text(run_dir / "history.json", json.dumps(history, indent=1))
    _atomic_write_text(run_dir / "state.json", json.dumps({**state, "weights": weights}, indent=1))
    for old in run_dir.glob("model*.weights.h5"):
        if old.name != weights:
            old.unlink()


def _load_checkpoint(run_dir: Path, model, state: dict) -> dict:
    """Load the weights ``state`` names into ``model``; return the history of its epochs
    (history.json may hold one epoch more, written just before a kill)."""
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    model.load_weights(run_dir / state.get("weights", "model.weights.h5"))  # older run folders
    history = json.loads((run_dir / "history.json").read_text())
    return {key: values[:int(state["epochs_done"])] for key, values in history.items()}


# --------------------------------------------------------------------------- progress


class _Display:
    """Text and a figure that update in place in a notebook, or lines on a terminal."""

    def __init__(self, live_plot: bool):
        from . import isolation

        self.relay = os.environ.get(isolation.RELAY_ENV) == "1"  # in a training worker
        try:
            from IPython import get_ipython

            self.notebook = get_ipython() is not None and "IPKernelApp" in get_ipython().config
        except ImportError:
            self.notebook = False
        self.live_plot = live_plot
        self._text = self._plot = None
        self._last_line = 0.0

    def text(self, line: str, force: bool = False):
        if self.relay:
            from .isolation import relay

            relay(text=line, force=force)
        elif self.notebook:
            from IPython.display import display, Markdown

            if self._text is None:
                self._text = display(Markdown(line), display_id=True)
            else:
                self._text.update(Markdown(line))
        elif force or time.monotonic() - self._last_line > 10:
            print(line, flush=True)
            self._last_line = time.monotonic()

    def curve(self, history: dict, title: str):
        if self.relay and history.get("loss"):
            from .isolation import relay

            relay(curve=history)
            return
        if not (self.notebook and self.live_plot) or not history.get("loss"):
            return
        from IPython.display import display

        from .plots.training import learning_curves

        fig = learning_curves({title: history})
        if self._plot is None:
            self._plot = display(fig, display_id=True)
        else:
            self._plot.update(fig)


def _progress_callback(display: _Display, name: str, epochs: int, steps: int, batch_size: int):
    import keras

    class Progress(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch, self.t0, self.seen = epoch, time.perf_counter(), 0

        def on_train_batch_end(self, batch, logs=None):
            every = max(1, steps // 20)
            if (batch + 1) % every and batch + 1 != steps:
                return
            done = (batch + 1) / steps
            bar = "█" * int(20 * done) + "░" * (20 - int(20 * done))
            rate = (batch + 1) * batch_size / max(time.perf_counter() - self.t0, 1e-9)
            logs = logs or {}
            display.text(f"`{name}` epoch {self.epoch + 1}/{epochs} `{bar}` {done:4.0%} · "
                         f"loss {logs.get('loss', float('nan')):.3f} · "
                         f"accuracy {logs.get('accuracy', float('nan')):.3f} · {rate:,.0f} images/s")

    return Progress()


# --------------------------------------------------------------------------- train


def environment() -> dict:
    """Keras, its backend and the devices it trains on, for the run's records."""
    from .backend import load_keras

    keras = load_keras()  # quietly: TensorFlow's start-up lines go to fd 2

    backend = keras.backend.backend()
    info = {"keras": keras.__version__, "backend": backend, "machine": platform.machine(),
            "cpus": os.cpu_count()}
    if backend == "tensorflow":
        import tensorflow as tf

        info["backend_version"] = tf.__version__
        gpus = tf.config.list_physical_devices("GPU")
        info["gpus"] = [tf.config.experimental.get_device_details(g).get("device_name", g.name)
                        for g in gpus]
    elif backend == "jax":
        import jax

        info["backend_version"] = jax.__version__
        info["gpus"] = [d.device_kind for d in jax.devices() if d.platform == "gpu"]
    elif backend == "torch":
        import torch

        info["backend_version"] = torch.__version__
        info["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return info



def compile_for_training(model, profile: Profile, steps_per_epoch: int, epochs: int, **options):
    """Compile ``model`` the way :func:`train` does: SGD with Nesterov momentum 0.9 and
    decoupled weight decay on the profile's schedule, cross-entropy on logits (or
    probabilities, for a softmax output), accuracy.
    ``options`` go to ``model.compile`` (the benchmarks compare ``jit_compile`` settings).

    Why SGD: on the class budget (3 epochs) it got the CIFAR-10 MobileNet to 66.0 % where
    AdamW (peak 3e-3) got 54.5 %, measured on this project's 2-core machine."""
    import keras

    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=lr_schedule(profile, steps_per_epoch, epochs),
                                       momentum=0.9, nesterov=True,
                                       weight_decay=profile.weight_decay),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=not _outputs_probabilities(model)),
        metrics=["accuracy"],
        **options,
    )


def _validate_args(epochs, batch_size, name):
    if epochs is not None and (not isinstance(epochs, (int, np.integer)) or epochs < 1):
        raise ValueError(f"epochs must be a positive integer; got {epochs!r}")
    if batch_size is not None and (not isinstance(batch_size, (int, np.integer)) or batch_size < 1):
        raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}")
    if name is not None and (not isinstance(name, str) or not name or "/" in name or name.startswith(".")):
        raise ValueError(f"name must be a non-empty folder name without '/'; got {name!r}")


def _finished(state_file: Path, fingerprint: str, epochs: int, resume: bool) -> bool:
    """Whether the run folder already holds this training, complete."""
    if not (resume and state_file.exists()):
        return False
    state = json.loads(state_file.read_text())
    return state.get("fingerprint") == fingerprint and int(state.get("epochs_done", 0)) >= epochs


def _outputs_probabilities(model) -> bool:
    import keras

    act = getattr(model.layers[-1], "activation", None)
    return act is keras.activations.softmax


def train(model, data=None, *, profile: str | Profile | None = None, name: str | None = None,
          run_dir: str | os.PathLike | None = None, epochs: int | None = None,
          batch_size: int | None = None, resume: bool = True, live_plot: bool = True,
          seed: int = 0, verbose: bool = True, isolate: bool | None = None) -> TrainResult:
    """Train ``model`` on CIFAR-10 and evaluate it on the test split.

    Parameters
    ----------
    model : keras.Model taking uint8 ``(32, 32, 3)`` images and returning 10 logits (or softmax
        probabilities). It is compiled here (SGD with Nesterov momentum, the profile's schedule).
    data : the result of :func:`convviz.data.load_cifar10`, or ``((x_train, y_train), (x_test, y_test))``;
        by default loaded at the profile's size.
    profile : ``"quick"``, ``"class"`` or ``"full"`` (``CONVVIZ_PROFILE`` overrides), or a :class:`Profile`.
    name : run name; the run folder is ``run_dir or $CONVVIZ_RUNS/<profile>/<name>``. Default: ``model.name``.
    epochs, batch_size : override the profile's.
    resume : continue from the last finished epoch of the same run when one is found.
    isolate : train in a worker process and load the trained weights back into ``model``, so
        that the calling process (a notebook's kernel) does not keep what TensorFlow builds for
        each training (:mod:`convviz.isolation`). Default: ``CONVVIZ_ISOLATE``, else only in
        the ``class`` profile.
    """
    from .backend import load_keras

    keras = load_keras()
    from . import isolation

    _validate_args(epochs, batch_size, name)
    prof = get_profile(profile)
    isolate = isolation.wanted(isolate, prof)
    if not isinstance(model, keras.Model):
        raise ValueError(f"model must be a keras.Model; got {type(model).__name__}")
    if tuple(model.input_shape[1:]) != IMAGE_SHAPE:
        raise ValueError(f"model must take (32, 32, 3) inputs; its input shape is {model.input_shape}")
    if model.output_shape[-1] != NUM_CLASSES:
        raise ValueError(f"model must output {NUM_CLASSES} classes; its output shape is {model.output_shape}")
    x_train, y_train, x_test, y_test = _unpack_data(data, prof, seed)
    epochs = int(epochs or prof.epochs)
    batch_size = int(batch_size or prof.batch_size)
    name = name or model.name
    run_dir = Path(run_dir) if run_dir is not None else default_runs_dir() / prof.name / name
    run_dir.mkdir(parents=True, exist_ok=True)

    keras.utils.set_random_seed(seed)
    steps = max(1, len(x_train) // batch_size)
    compile_for_training(model, prof, steps, epochs)

    display = _Display(live_plot)
    fingerprint = _fingerprint(model, prof, epochs, batch_size, len(x_train), len(x_test))
    history: dict = {}
    start_epoch, prior_time = 0, 0.0
    state_file = run_dir / "state.json"
    if isolate and not _finished(state_file, fingerprint, epochs, resume):
        try:
            summary = isolation.train_in_worker(
                model, (x_train, y_train, x_test, y_test), profile=prof, name=name, run_dir=run_dir,
                epochs=epochs, batch_size=batch_size, resume=resume, seed=seed, display=display)
        except isolation.WorkerCannotLoad as err:
            display.text(f"`{name}`: a worker process could not rebuild this model ({err}); "
                         f"training it in this process instead.", force=True)
            display = _Display(live_plot)
        else:
            history = _load_checkpoint(run_dir, model, json.loads(state_file.read_text()))
            return TrainResult(**summary, history=history, model=model)
    if state_file.exists():
        state = json.loads(state_file.read_text())
        if not resume:
            display.text(f"`{name}`: starting over (resume=False); the earlier run in "
                         f"{run_dir.name}/ is replaced.", force=True)
        elif state.get("fingerprint") != fingerprint:
            display.text(f"`{name}`: the run folder holds a different model or budget; "
                         f"starting a fresh run.", force=True)
        else:
            history = _load_checkpoint(run_dir, model, state)
            start_epoch, prior_time = int(state["epochs_done"]), float(state["wall_time"])
            msg = (f"`{name}`: resuming from epoch {start_epoch} of {epochs} "
                   f"(found a checkpoint in the run folder)")
            if start_epoch >= epochs:
                msg = f"`{name}`: already trained for {epochs} epochs; loaded the saved weights"
            display.text(msg, force=True)
            if verbose and display.notebook:
                print(msg.replace("`", ""))

    train_ds = make_dataset(x_train, y_train, batch_size, training=True, augment=prof.augment, seed=seed)
    test_ds = make_dataset(x_test, y_test, 500, training=False)
    n_train, n_test = len(x_train), len(x_test)
    # The datasets hold their own copies now; let go of ours (in a worker these are memory-mapped
    # files, whose pages would otherwise stay mapped for the whole run).
    del data, x_train, y_train, x_test, y_test
    session_time, session_images = 0.0, 0
    progress = _progress_callback(display, name, epochs, steps, batch_size)

    for epoch in range(start_epoch, epochs):
        t0 = time.perf_counter()
        h = model.fit(train_ds, epochs=epoch + 1, initial_epoch=epoch, verbose=0, shuffle=False,
                      callbacks=[progress])
        train_time = time.perf_counter() - t0
        test_loss, test_acc = model.evaluate(test_ds, verbose=0)
        session_time += train_time
        session_images += steps * batch_size
        lr = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
        for key, value in (("loss", h.history["loss"][-1]), ("accuracy", h.history["accuracy"][-1]),
                           ("test_loss", test_loss), ("test_accuracy", test_acc),
                           ("lr", lr), ("epoch_time", train_time)):
            history.setdefault(key, []).append(float(value))
        state = {"fingerprint": fingerprint, "epochs_done": epoch + 1, "epochs": epochs,
                 "wall_time": prior_time + session_time, "profile": prof.name, "name": name,
                 "batch_size": batch_size, "n_train": n_train, "n_test": n_test,
                 "params": int(model.count_params()), **environment()}
        _save_checkpoint(run_dir, model, state, history)
        display.text(f"`{name}` epoch {epoch + 1}/{epochs}: loss {history['loss'][-1]:.3f} · "
                     f"test accuracy {test_acc:.1%} · {train_time:.0f} s", force=True)
        display.curve(history, name)

    if not history:
        raise RuntimeError(f"no epochs were trained and no history was found in {run_dir}")
    if start_epoch >= epochs:
        test_loss, test_acc = history["test_loss"][-1], history["test_accuracy"][-1]
    ips = session_images / session_time if session_time else (
        n_train * epochs / max(prior_time, 1e-9))
    result = TrainResult(name=name, history=history, test_accuracy=float(test_acc),
                         test_loss=float(test_loss), wall_time=prior_time + session_time,
                         images_per_second=float(ips), epochs=epochs, resumed_from=start_epoch,
                         run_dir=str(run_dir), profile=prof.name, model=model)
    # Not dataclasses.asdict: it would deep-copy the Keras model.
    summary = {f.name: getattr(result, f.name) for f in dataclasses.fields(result)
               if f.name not in ("model", "history")}
    _atomic_write_text(run_dir / "result.json", json.dumps(summary, indent=1))
    display.text(result.summary(), force=True)
    display.curve(history, name)
    return result
