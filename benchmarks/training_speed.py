"""Training and inference speed of the teaching models, and what convviz's training path adds.

Three measurements, all on CIFAR-10-shaped uint8 batches at the class profile's batch size:

- ``training``: for every model of ``convviz.models.teaching.TEACHING_MODELS`` (default
  arguments), training images per second (forward + backward) through convviz's path
  (``make_dataset`` with augmentation, the progress callback, the compile ``train`` uses)
  and through a plain ``model.fit`` on in-memory numpy uint8 arrays (no augmentation, same
  model, same compile, same batch size), interleaved A B, B A on the same model so that a
  busy neighbour slows both. The ratio convviz / plain of images per wall-clock second is the
  verdict (target: >= 1.0), the same ratio by CPU time the work per image beside it. Then
  inference latency at batch 1 and 256
  (``predict_on_batch``, median of repeats after warm-up).
- ``pipeline``: the parts of convviz's path, one at a time, for a couple of models, each
  relative to the plain ``model.fit`` measured in the same rounds: the progress callback,
  the augmentation, ``steps_per_execution``, tf.data's autotuner, the previous pipeline; and
  the input pipeline alone, without a model.
- ``xla``: ``model.compile(jit_compile=False / True / "auto")`` for a couple of models: time
  of the first epoch call (tracing and compiling) and training images per second.

Each timed call is one ``model.fit`` epoch over ``steps x batch`` images, as ``train`` calls
``fit`` once per epoch; the number of steps is chosen from a short calibration so that one
call takes about ``--seconds`` of CPU time (``--steps`` fixes it instead). Throughput is
counted per wall-clock second and per CPU second of the process (all threads). With
tf.data's autotuner on (Keras' own pipeline for numpy inputs; convviz's before 2026-11-30)
about half the calls on a 2-core machine keep one core idle and run 1.7x slower by the clock
at the same CPU time per image; the cores each call kept busy are recorded to show it.

    python -m benchmarks.training_speed [training|pipeline|xla] [--models baseline,mobilenet]
                                        [--seconds 1.5] [--rounds 3] [--steps N] [--jit train]
"""
from __future__ import annotations

import argparse
import contextlib
import io
import math
import sys

import numpy as np

from benchmarks import Timer, median, quiet_tensorflow, spread

PROFILE = "class"  # batch size and compile settings of the profile the notebooks default to
CLASS_TRAIN_IMAGES = 50_000  # the class profile trains on the whole official training split
PIPELINE_MODELS = ("baseline", "mobilenet")
XLA_MODELS = ("baseline", "mobilenet")
JIT_CHOICES = ("train", "false", "true", "auto")


# --------------------------------------------------------------------------- the objects train() uses


def profile():
    from convviz.profiles import PROFILES

    return PROFILES[PROFILE]


def compile_like_train(model, prof, steps_per_epoch: int, epochs: int, jit="train",
                       steps_per_execution: int = 1) -> str:
    """Compile ``model`` with ``convviz.training.compile_for_training``; returns how (for the report).

    ``jit="train"`` keeps train's choice (Keras' default ``"auto"``: XLA only when a GPU is
    present); the other values force ``jit_compile``.
    """
    from convviz import training

    options = {}
    if jit != "train":
        options["jit_compile"] = {"false": False, "true": True, "auto": "auto"}[jit]
    if steps_per_execution != 1:
        options["steps_per_execution"] = steps_per_execution
    training.compile_for_training(model, prof, steps_per_epoch, epochs, **options)
    return "convviz.training.compile_for_training"


def progress_callback(name: str, steps: int, batch_size: int):
    """train()'s progress callback, on a terminal display (None if convviz changed it)."""
    from convviz import training

    try:
        display = training._Display(live_plot=False)
        return training._progress_callback(display, name, 1, steps, batch_size)
    except (AttributeError, TypeError):
        return None


def cifar_arrays(n: int, seed: int = 0):
    """``n`` CIFAR-10 training images (uint8) and int32 labels, repeated if the copy is smaller.

    Random images of the same shape when no copy is found (speed does not depend on pixels).
    """
    from convviz.data import load_cifar10

    try:
        data = load_cifar10(download=False)
        x, y, source = data.x_train, data.y_train, data.source
    except Exception as err:  # noqa: BLE001 - any failure: fall back to noise, and say so
        rng = np.random.default_rng(seed)
        x = rng.integers(0, 256, (max(n, 1000), 32, 32, 3), dtype=np.uint8)
        y = rng.integers(0, 10, len(x))
        source = f"random uint8 images (no CIFAR-10 copy: {type(err).__name__})"
    idx = np.resize(np.random.default_rng(seed).permutation(len(x)), n)
    return np.ascontiguousarray(x[idx]), y[idx].astype(np.int32), source


# --------------------------------------------------------------------------- one timed epoch


def fit_convviz(model, ds, callback=None) -> Timer:
    """One ``model.fit`` epoch over convviz's dataset, as ``train`` calls it (wall and CPU time)."""
    with contextlib.redirect_stdout(io.StringIO()), Timer() as t:
        model.fit(ds, epochs=1, verbose=0, shuffle=False,
                  callbacks=[callback] if callback is not None else [])
    return t


def fit_plain(model, x, y, batch_size: int) -> Timer:
    """One plain ``model.fit`` epoch on in-memory uint8 arrays (wall and CPU time)."""
    with Timer() as t:
        model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0, shuffle=True)
    return t


def rates(timers, images_per_call: int) -> dict:
    """Images per wall-clock second and per CPU second over a list of timed calls."""
    wall, cpu = sum(t.seconds for t in timers), sum(t.cpu for t in timers)
    return {"wall": images_per_call * len(timers) / wall, "cpu": images_per_call * len(timers) / cpu}


def compare(a_timers, b_timers) -> dict:
    """A against B, interleaved: throughput ratios A/B by the wall clock (what a reader waits
    for; the verdict) and by CPU time (the work per image), each over all rounds together,
    with the per-round ratios, and how many cores each side kept busy (CPU s / wall s)."""
    cpu_rounds = [b.cpu / a.cpu for a, b in zip(a_timers, b_timers)]
    wall_rounds = [b.seconds / a.seconds for a, b in zip(a_timers, b_timers)]
    return {"ratio": round(sum(b.cpu for b in b_timers) / sum(a.cpu for a in a_timers), 3),
            "round_ratios": [round(r, 3) for r in cpu_rounds],
            "wall_ratio": round(sum(b.seconds for b in b_timers) / sum(a.seconds for a in a_timers), 3),
            "wall_round_ratios": [round(r, 3) for r in wall_rounds],
            "cores_busy": [round(t.cpu / t.seconds, 2) for t in a_timers],
            "reference_cores_busy": [round(t.cpu / t.seconds, 2) for t in b_timers]}


def verdict(ratio: float, rounds: list[float], target: float = 1.0) -> str:
    """'pass' at or above target; 'noise' when below but some round reached it; else 'FAIL'."""
    if ratio >= target:
        return "pass"
    return "noise" if rounds and max(rounds) >= target else "FAIL"


def convviz_dataset(x, y, batch_size: int, augment: bool = True, seed: int = 0):
    from convviz.training import make_dataset

    return make_dataset(x, y, batch_size, training=True, augment=augment, seed=seed)


def previous_augment_batch(images, pad: int = 4):
    """The augmentation convviz used before 2026-11-30, kept to measure the change: crop with two
    gathers, then a flip chosen per image with ``tf.where`` over the whole batch (today the flip
    is folded into the crop's column gather: the same draws, the same output)."""
    import tensorflow as tf

    from convviz.training import IMAGE_SHAPE

    b = tf.shape(images)[0]
    h, w = IMAGE_SHAPE[0], IMAGE_SHAPE[1]
    padded = tf.pad(images, [[0, 0], [pad, pad], [pad, pad], [0, 0]])
    oy = tf.random.uniform([b], 0, 2 * pad + 1, dtype=tf.int32)
    ox = tf.random.uniform([b], 0, 2 * pad + 1, dtype=tf.int32)
    rows = oy[:, None] + tf.range(h)[None, :]
    cols = ox[:, None] + tf.range(w)[None, :]
    out = tf.gather(padded, rows, axis=1, batch_dims=1)
    out = tf.gather(out, cols, axis=2, batch_dims=1)
    flip = tf.random.uniform([b]) < 0.5
    return tf.where(flip[:, None, None, None], tf.reverse(out, axis=[2]), out)


def previous_dataset(x, y, batch_size: int, seed: int = 0):
    """convviz's training pipeline before 2026-11-30: every image an element of a shuffle
    buffer as long as the data (a second copy of the images), then batch, then
    :func:`previous_augment_batch`."""
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((x, y))
    ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=len(x) >= batch_size)
    ds = ds.map(lambda a, b: (previous_augment_batch(a), b), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def _index_pipeline(x, y, batch_size: int, seed: int, augment, autotune: bool):
    """``make_dataset``'s shape (shuffled index batches, each gathered and given ``augment``)
    with the autotuner on (AUTOTUNE map and prefetch) or off (today's threads and prefetch)."""
    import tensorflow as tf

    from convviz import training

    images, labels = tf.convert_to_tensor(x), tf.convert_to_tensor(y)
    ds = tf.data.Dataset.range(len(x)).shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=len(x) >= batch_size)
    ds = ds.map(lambda i: (augment(tf.gather(images, i)), tf.gather(labels, i)),
                num_parallel_calls=tf.data.AUTOTUNE if autotune else training._input_threads())
    if autotune:
        return ds.prefetch(tf.data.AUTOTUNE)
    options = tf.data.Options()
    options.autotune.enabled = False
    return ds.prefetch(training.PREFETCH_BATCHES).with_options(options)


def autotuned_dataset(x, y, batch_size: int, seed: int = 0):
    """Today's training pipeline as it was before tf.data's autotuner was turned off
    (2026-11-30): ``num_parallel_calls=AUTOTUNE``, ``prefetch(AUTOTUNE)``, the autotuner on, as
    in Keras' own pipeline for numpy inputs. Everything else as ``make_dataset``."""
    from convviz.training import augment_batch

    return _index_pipeline(x, y, batch_size, seed, augment_batch, autotune=True)


def xla_dataset(x, y, batch_size: int, seed: int = 0, pad: int = 4):
    """Today's training pipeline with the crop and flip XLA-compiled (the random draws as
    ordinary ops, ``convviz.training.crop_flip`` under ``tf.function(jit_compile=True)``: the
    same output for the same draws). Measured, not adopted: about 40 MB more per process."""
    import tensorflow as tf

    from convviz.training import crop_flip

    compiled = tf.function(crop_flip, jit_compile=True)

    def augment(xb):
        b = tf.shape(xb)[0]
        oy = tf.random.uniform([b], 0, 2 * pad + 1, dtype=tf.int32)
        ox = tf.random.uniform([b], 0, 2 * pad + 1, dtype=tf.int32)
        flip = tf.random.uniform([b]) < 0.5
        return compiled(xb, oy, ox, flip, pad)

    return _index_pipeline(x, y, batch_size, seed, augment, autotune=False)


def slow_calls(cores_busy: list[float], below: float = 1.4) -> int:
    """Calls that kept fewer than ``below`` cores busy: on this 2-core machine a training call
    either keeps ~1.8 cores busy or, when tf.data's autotuner idles one, ~1.1."""
    return sum(c < below for c in cores_busy)


def choose_steps(step_seconds: float, seconds: float, fixed: int | None, least: int = 3,
                 most: int = 300) -> int:
    if fixed:
        return fixed
    return int(min(most, max(least, math.ceil(seconds / max(step_seconds, 1e-6)))))


def inference_latency(model, x, batch: int, repeats: int) -> tuple[float, float]:
    """Median wall and CPU seconds of ``predict_on_batch`` on ``batch`` images, after warm-up."""
    xb = x[:batch]
    for _ in range(2):
        model.predict_on_batch(xb)
    walls, cpus = [], []
    for _ in range(repeats):
        with Timer() as t:
            model.predict_on_batch(xb)
        walls.append(t.seconds)
        cpus.append(t.cpu)
    return median(walls), median(cpus)


# --------------------------------------------------------------------------- training section


def measure_model(name: str, seconds: float, rounds: int, steps: int | None, jit: str,
                  x_all, y_all, latency: bool = True, log=print) -> dict:
    """convviz's path (A) vs plain model.fit (B) on one compiled model, A B then B A, then latency."""
    import keras

    from convviz.models.teaching import TEACHING_MODELS

    prof = profile()
    bs = prof.batch_size
    keras.utils.set_random_seed(0)
    model = TEACHING_MODELS[name]()
    how = compile_like_train(model, prof, steps_per_epoch=len(x_all) // bs, epochs=prof.epochs,
                             jit=jit)
    # Warm-up: trace both paths; a short plain epoch chooses the step count (by CPU time).
    xw, yw = x_all[:3 * bs], y_all[:3 * bs]
    first = fit_convviz(model, convviz_dataset(xw, yw, bs), progress_callback(name, 3, bs))
    fit_plain(model, xw, yw, bs)
    n_steps = choose_steps(fit_plain(model, xw, yw, bs).cpu / 3, seconds, steps)
    x, y = x_all[:n_steps * bs], y_all[:n_steps * bs]
    ds = convviz_dataset(x, y, bs)  # made once, as train makes it once; fit iterates it per epoch
    callback = progress_callback(name, n_steps, bs)
    a, b = [], []
    for r in range(rounds):  # A B, then B A: whichever goes second in a pair gains nothing
        if r % 2:
            b.append(fit_plain(model, x, y, bs))
        a.append(fit_convviz(model, ds, callback))
        if not r % 2:
            b.append(fit_plain(model, x, y, bs))
    images = n_steps * bs
    ra, rb = rates(a, images), rates(b, images)
    result = {
        "params": int(model.count_params()),
        "compile": how, "jit_compile": bool(model.jit_compile),
        "batch_size": bs, "steps": n_steps, "rounds": rounds,
        "first_call_s": round(first.seconds, 2),
        "convviz_images_per_s": round(ra["wall"], 1), "plain_images_per_s": round(rb["wall"], 1),
        "convviz_images_per_cpu_s": round(ra["cpu"], 1), "plain_images_per_cpu_s": round(rb["cpu"], 1),
        **compare(a, b),
        "callback": callback is not None,
    }
    result["target"] = verdict(result["wall_ratio"], result["wall_round_ratios"])
    # What one class-profile training of this model costs (epochs x the full training set).
    images_class = prof.epochs * CLASS_TRAIN_IMAGES
    result["class_train_cpu_min"] = round(images_class / ra["cpu"] / 60, 1)
    result["class_train_wall_min"] = round(images_class / ra["wall"] / 60, 1)
    if latency:
        for batch, repeats in ((1, 30), (256, 5)):
            wall, cpu = inference_latency(model, x_all, batch, repeats)
            result[f"latency_b{batch}_ms"] = round(1000 * wall, 2)
            result[f"latency_b{batch}_cpu_ms"] = round(1000 * cpu, 2)
    log(f"{name:16s} convviz {ra['wall']:5.0f}  plain {rb['wall']:5.0f} img/s  ratio "
        f"{result['wall_ratio']:.3f} ({spread(result['wall_round_ratios'])}; slow calls "
        f"{slow_calls(result['cores_busy'])} vs {slow_calls(result['reference_cores_busy'])})  "
        f"per CPU-s {ra['cpu']:4.0f} vs {rb['cpu']:4.0f}, ratio {result['ratio']:.3f} "
        f"({spread(result['round_ratios'])})  steps {n_steps}"
        + (f"  latency b1 {result['latency_b1_ms']:.1f} ms, b256 {result['latency_b256_ms']:.0f} ms"
           if latency else ""))
    keras.backend.clear_session()
    return result


def run_training(models=None, seconds=1.5, rounds=3, steps=None, jit="train", log=print) -> dict:
    quiet_tensorflow()
    from convviz.models.teaching import TEACHING_MODELS

    names = list(TEACHING_MODELS) if not models else list(models)
    prof = profile()
    most = (steps or 300) * prof.batch_size
    x_all, y_all, source = cifar_arrays(max(most, 256))
    out = {"profile": PROFILE, "batch_size": prof.batch_size, "data": source, "jit": jit,
           "seconds_per_call": seconds, "models": {}}
    for name in names:
        out["models"][name] = measure_model(name, seconds, rounds, steps, jit, x_all, y_all,
                                            log=log)
    return out


# --------------------------------------------------------------------------- pipeline section


def run_pipeline(models=PIPELINE_MODELS, seconds=1.5, rounds=3, steps=None, jit="train",
                 log=print) -> dict:
    """Each part of convviz's path against plain model.fit, in rounds with the order reversed
    every other round, so that drift hits every variant alike."""
    quiet_tensorflow()
    import keras

    from convviz.models.teaching import TEACHING_MODELS

    prof = profile()
    bs = prof.batch_size
    x_all, y_all, source = cifar_arrays((steps or 300) * bs)
    out = {"profile": PROFILE, "batch_size": bs, "data": source, "models": {}}
    plain_key = "plain model.fit (numpy uint8, no augmentation)"
    for name in models:
        keras.utils.set_random_seed(0)
        base = TEACHING_MODELS[name]()
        compile_like_train(base, prof, len(x_all) // bs, prof.epochs, jit=jit)
        spe = TEACHING_MODELS[name]()
        compile_like_train(spe, prof, len(x_all) // bs, prof.epochs, jit=jit, steps_per_execution=4)
        xw, yw = x_all[:4 * bs], y_all[:4 * bs]
        fit_convviz(base, convviz_dataset(xw, yw, bs), progress_callback(name, 4, bs))
        fit_convviz(base, convviz_dataset(xw, yw, bs, augment=False))
        fit_plain(base, xw, yw, bs)
        fit_convviz(spe, convviz_dataset(xw, yw, bs), progress_callback(name, 4, bs))
        fit_convviz(base, autotuned_dataset(xw, yw, bs), progress_callback(name, 4, bs))
        n_steps = choose_steps(fit_plain(base, xw, yw, bs).cpu / 4, seconds, steps, least=4)
        n_steps = 4 * math.ceil(n_steps / 4)  # whole executions for steps_per_execution=4
        x, y = x_all[:n_steps * bs], y_all[:n_steps * bs]
        ds_aug, ds_plain = convviz_dataset(x, y, bs), convviz_dataset(x, y, bs, augment=False)
        ds_old = previous_dataset(x, y, bs)
        ds_tuned = autotuned_dataset(x, y, bs)
        cb = progress_callback(name, n_steps, bs)
        variants = {
            plain_key: lambda: fit_plain(base, x, y, bs),
            "convviz as train() runs it (augmentation + progress callback)":
                lambda: fit_convviz(base, ds_aug, cb),
            "convviz without the progress callback": lambda: fit_convviz(base, ds_aug),
            "convviz without augmentation": lambda: fit_convviz(base, ds_plain, cb),
            "convviz with steps_per_execution=4": lambda: fit_convviz(spe, ds_aug, cb),
            "convviz with tf.data's autotuner on (AUTOTUNE map and prefetch, as before)":
                lambda: fit_convviz(base, ds_tuned, cb),
            "convviz's previous pipeline (shuffle buffer of images, crop then flip)":
                lambda: fit_convviz(base, ds_old, cb),
        }
        timers = {k: [] for k in variants}
        for r in range(rounds):
            for k in (list(variants) if r % 2 == 0 else list(variants)[::-1]):
                timers[k].append(variants[k]())
        images = n_steps * bs
        rows = {}
        for k, ts in timers.items():
            rows[k] = {**{f"images_per_{u}": round(v, 1) for u, v in
                          (("s", rates(ts, images)["wall"]), ("cpu_s", rates(ts, images)["cpu"]))},
                       **compare(ts, timers[plain_key])}
        # The input pipeline alone: images per second with no model to feed, over all the
        # images at hand (a few hundred batches: an epoch of the timed calls' few dozen would
        # mostly measure making the iterator).
        n_all = (len(x_all) // bs) * bs
        xa, ya = x_all[:n_all], y_all[:n_all]
        alone = {"input pipeline alone, augmentation (as today)": convviz_dataset(xa, ya, bs),
                 "input pipeline alone, crop+flip XLA-compiled (not adopted)":
                     xla_dataset(xa, ya, bs),
                 "input pipeline alone, previous pipeline": previous_dataset(xa, ya, bs),
                 "input pipeline alone, no augmentation": convviz_dataset(xa, ya, bs, augment=False)}
        for ds in alone.values():
            for _ in ds.take(2):
                pass
        spent = {k: [] for k in alone}
        for r in range(rounds):  # interleaved too, two epochs each
            for label, ds in alone.items():
                with Timer() as t:
                    for _ in range(2):
                        for _ in ds:
                            pass
                spent[label].append(t)
        for label, ts in spent.items():
            rows[label] = {"images_per_s": round(rates(ts, 2 * n_all)["wall"], 1),
                           "images_per_cpu_s": round(rates(ts, 2 * n_all)["cpu"], 1), "ratio": None}
        out["models"][name] = {"steps": n_steps, "rounds": rounds, "variants": rows,
                               "jit_compile": bool(base.jit_compile)}
        for k, v in rows.items():
            rel = "" if v["ratio"] is None else (
                f"  wall x{v['wall_ratio']:.3f} ({spread(v['wall_round_ratios'])}), CPU "
                f"x{v['ratio']:.3f} of plain, slow calls {slow_calls(v['cores_busy'])}")
            log(f"{name:10s} {k:64s} {v['images_per_s']:7.0f} img/s {v['images_per_cpu_s']:7.0f} "
                f"img/CPU-s{rel}")
        del base, spe
        keras.backend.clear_session()
    return out


# --------------------------------------------------------------------------- xla section


def run_xla(models=XLA_MODELS, seconds=1.5, rounds=2, steps=None, log=print) -> dict:
    """jit_compile False / True / "auto" through convviz's path, and the mixed_bfloat16 policy
    on TensorFlow's kernels. 'auto' is resolved by Keras (on TensorFlow: XLA only when a GPU
    is present and every layer supports it), read back, and not timed apart."""
    quiet_tensorflow()
    import keras

    from convviz.models.teaching import TEACHING_MODELS

    prof = profile()
    bs = prof.batch_size
    x_all, y_all, source = cifar_arrays((steps or 300) * bs)
    out = {"profile": PROFILE, "batch_size": bs, "data": source, "models": {}}
    for name in models:
        keras.utils.set_random_seed(0)
        probe = TEACHING_MODELS[name]()
        compile_like_train(probe, prof, 100, prof.epochs, jit="auto")
        auto_resolves = bool(probe.jit_compile)
        del probe
        entries, runs = {}, {}
        for variant in ("false", "true", "bf16"):
            # bf16: TensorFlow's kernels under the mixed_bfloat16 policy (bfloat16 compute,
            # float32 weights), built under that policy; the policy is restored at once.
            if variant == "bf16":
                keras.mixed_precision.set_global_policy("mixed_bfloat16")
            try:
                model = TEACHING_MODELS[name]()
            finally:
                keras.mixed_precision.set_global_policy("float32")
            compile_like_train(model, prof, len(x_all) // bs, prof.epochs,
                               jit="true" if variant == "true" else "false")
            xw, yw = x_all[:2 * bs], y_all[:2 * bs]
            first = fit_convviz(model, convviz_dataset(xw, yw, bs), progress_callback(name, 2, bs))
            step_cpu = fit_convviz(model, convviz_dataset(xw, yw, bs)).cpu / 2
            n_steps = choose_steps(step_cpu, seconds, steps, least=2)
            x, y = x_all[:n_steps * bs], y_all[:n_steps * bs]
            runs[variant] = (model, convviz_dataset(x, y, bs), progress_callback(name, n_steps, bs))
            entries[variant] = {"first_call_s": round(first.seconds, 1),
                                "first_call_cpu_s": round(first.cpu, 1), "steps": n_steps,
                                "timers": []}
        for r in range(rounds):
            for variant in (list(runs) if r % 2 == 0 else list(runs)[::-1]):
                model, ds, cb = runs[variant]
                entries[variant]["timers"].append(fit_convviz(model, ds, cb))
        for e in entries.values():
            rs = rates(e.pop("timers"), e["steps"] * bs)
            e["images_per_s"], e["images_per_cpu_s"] = round(rs["wall"], 1), round(rs["cpu"], 1)
        base = entries["false"]
        speedup = entries["true"]["images_per_cpu_s"] / base["images_per_cpu_s"]
        wall_speedup = entries["true"]["images_per_s"] / base["images_per_s"]
        bf16 = entries["bf16"]["images_per_cpu_s"] / base["images_per_cpu_s"]
        out["models"][name] = {"jit_false": base, "jit_true": entries["true"],
                               "mixed_bfloat16": entries["bf16"],
                               "auto_resolves_to": auto_resolves,
                               "xla_speedup": round(speedup, 3), "xla_wall_speedup": round(wall_speedup, 3),
                               "bf16_speedup": round(bf16, 3)}
        log(f"{name:10s} jit False {base['images_per_cpu_s']:6.0f} img/CPU-s "
            f"(first call {base['first_call_s']:.0f} s) | jit True "
            f"{entries['true']['images_per_cpu_s']:6.0f} img/CPU-s (first call "
            f"{entries['true']['first_call_s']:.0f} s) | XLA x{speedup:.2f} (wall x{wall_speedup:.2f}); "
            f"'auto' resolves to {auto_resolves} | mixed_bfloat16 x{bf16:.2f}")
        runs.clear()
        keras.backend.clear_session()
    return out


# --------------------------------------------------------------------------- report


RATIO_NOTE = ("Ratios are throughput ratios over all rounds together (total images / total "
              "seconds), convviz's path over the plain `model.fit` measured in the same rounds. "
              "The verdict uses the wall clock, what a reader waits for; the CPU-time ratio "
              "(all threads of the process, tf.data's included) beside it is the work per image. "
              "Cores busy = CPU seconds / wall seconds per call (median): a 2-core machine runs "
              "a training call at ~1.8 cores, or at ~1.1 when tf.data's autotuner leaves a core "
              "idle (a 'slow call'; see benchmarks/README.md). 'noise' = below target overall, "
              "but at or above it in some round.")


def render_training(res: dict) -> list[str]:
    first = next(iter(res["models"].values()), {})
    images_class = profile().epochs * CLASS_TRAIN_IMAGES
    lines = [f"Profile `{res['profile']}` batch size {res['batch_size']}; data: {res['data']}. "
             f"Each timed call is one `fit` epoch of `steps` batches (about "
             f"{res['seconds_per_call']} CPU-s), A = convviz's path (`make_dataset` with "
             "augmentation, train()'s progress callback), B = plain `model.fit` on numpy uint8 "
             "arrays, interleaved A B, B A on the same compiled model. Ratio = A images/s / B "
             "images/s (target >= 1.0). " + RATIO_NOTE,
             "",
             f"Compile: {first.get('compile', '?')}; jit_compile={first.get('jit_compile')}. "
             "Latency: `predict_on_batch`, wall-clock median of 30 calls (batch 1) or 5 (batch 256).",
             "",
             "Class training = what one `convviz.train(model, profile='class')` costs at these "
             f"rates ({profile().epochs} epochs x 50,000 images, evaluation left out): in CPU minutes "
             "and in wall minutes at convviz's measured images/s.",
             "",
             "| model | params | convviz img/s | plain img/s | ratio (wall) | per round | target | "
             "cores busy convviz / plain | slow calls convviz / plain | convviz img/CPU-s | "
             "plain img/CPU-s | ratio (CPU) | per round | steps | first fit call s | "
             "latency b1 ms | latency b256 ms | class training CPU min | class training wall min |",
             "| --- | ---: | ---: | ---: | ---: | --- | --- | --- | --- | ---: | ---: | ---: | --- "
             "| ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, r in res["models"].items():
        busy = (f"{median(r['cores_busy']):.2f} / {median(r['reference_cores_busy']):.2f}"
                if "cores_busy" in r else "-")
        slow = (f"{slow_calls(r['cores_busy'])} / {slow_calls(r['reference_cores_busy'])} of "
                f"{len(r['cores_busy'])}" if "cores_busy" in r else "-")
        lines.append(f"| {name} | {r['params']:,} | {r['convviz_images_per_s']:,.0f} | "
                     f"{r['plain_images_per_s']:,.0f} | {r['wall_ratio']:.3f} | "
                     f"{spread(r.get('wall_round_ratios', []))} | {r['target']} | {busy} | {slow} | "
                     f"{r['convviz_images_per_cpu_s']:,.0f} | {r['plain_images_per_cpu_s']:,.0f} | "
                     f"{r['ratio']:.3f} | {spread(r['round_ratios'])} | {r['steps']} | "
                     f"{r['first_call_s']:.1f} | {r.get('latency_b1_ms', float('nan')):.1f} | "
                     f"{r.get('latency_b256_ms', float('nan')):.0f} | "
                     f"{images_class / r['convviz_images_per_cpu_s'] / 60:.0f} | "
                     f"{images_class / r['convviz_images_per_s'] / 60:.0f} |")
    return lines


def render_pipeline(res: dict) -> list[str]:
    lines = [f"Profile `{res['profile']}` batch size {res['batch_size']}; data: {res['data']}. "
             "Every row is relative to the plain `model.fit` on numpy uint8 arrays measured in the "
             "same rounds (order reversed every other round). " + RATIO_NOTE, ""]
    for name, m in res["models"].items():
        lines += [f"**{name}** ({m['steps']} steps per call, {m['rounds']} rounds, "
                  f"jit_compile={m['jit_compile']})", "",
                  "| variant | images/s (wall) | vs plain fit (wall) | per round | cores busy | "
                  "slow calls | images/CPU-s | vs plain fit (CPU) | per round |",
                  "| --- | ---: | ---: | --- | ---: | --- | ---: | ---: | --- |"]
        for k, v in m["variants"].items():
            if v["ratio"] is None:
                lines.append(f"| {k} | {v['images_per_s']:,.0f} | - | - | - | - | "
                             f"{v['images_per_cpu_s']:,.0f} | - | - |")
            else:
                busy = v.get("cores_busy", [])
                lines.append(f"| {k} | {v['images_per_s']:,.0f} | {v['wall_ratio']:.3f} | "
                             f"{spread(v.get('wall_round_ratios', []))} | "
                             f"{median(busy) if busy else float('nan'):.2f} | "
                             f"{slow_calls(busy)} of {len(busy)} | {v['images_per_cpu_s']:,.0f} | "
                             f"{v['ratio']:.3f} | {spread(v['round_ratios'])} |")
        lines.append("")
    return lines


def render_xla(res: dict) -> list[str]:
    lines = [f"Profile `{res['profile']}` batch size {res['batch_size']}, through convviz's path "
             "(make_dataset + progress callback), the settings interleaved. First call = the "
             "first `fit` epoch of 2 steps (tracing, and XLA compiling when on), wall seconds. "
             "mixed_bfloat16 = the model built under `keras.mixed_precision` policy "
             "`\"mixed_bfloat16\"` (bfloat16 compute, float32 weights), TensorFlow's kernels: "
             "a CPU stand-in for the mixed precision one would use on a GPU.", "",
             "| model | jit_compile=False img/CPU-s | first call s | jit_compile=True img/CPU-s | "
             "first call s | True / False (CPU) | True / False (wall) | 'auto' resolves to | "
             "mixed_bfloat16 img/CPU-s | bf16 / float32 |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |"]
    for name, m in res["models"].items():
        f, t = m["jit_false"], m["jit_true"]
        b = m.get("mixed_bfloat16")
        bcells = (f"{b['images_per_cpu_s']:,.0f} | {m['bf16_speedup']:.2f}" if b else "- | -")
        lines.append(f"| {name} | {f['images_per_cpu_s']:,.0f} | {f['first_call_s']:.0f} | "
                     f"{t['images_per_cpu_s']:,.0f} | {t['first_call_s']:.0f} | "
                     f"{m['xla_speedup']:.2f} | {m['xla_wall_speedup']:.2f} | {m['auto_resolves_to']} | "
                     f"{bcells} |")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", nargs="?", default="training", choices=["training", "pipeline", "xla"])
    parser.add_argument("--models", default=None, help="comma-separated TEACHING_MODELS names")
    parser.add_argument("--seconds", type=float, default=1.5,
                        help="about this many CPU seconds per timed call")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=None, help="fixed steps per timed call")
    parser.add_argument("--jit", choices=JIT_CHOICES, default="train")
    args = parser.parse_args(argv)
    models = [m.strip() for m in args.models.split(",")] if args.models else None
    if args.what == "training":
        run_training(models, args.seconds, args.rounds, args.steps, args.jit)
    elif args.what == "pipeline":
        run_pipeline(models or PIPELINE_MODELS, args.seconds, args.rounds, args.steps, args.jit)
    else:
        run_xla(models or XLA_MODELS, args.seconds, min(args.rounds, 2), args.steps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
