"""The experiments: teaching models trained under one run profile, one JSON record each.

    python -m convviz.experiments list
    python -m convviz.experiments run --profile full [--models mobilenet,xception] [--out results]

An experiment is a name in ``EXPERIMENTS``: a builder of :mod:`convviz.models.teaching` and
its arguments. ``run`` trains each one with :func:`convviz.train` (which resumes an
interrupted run from its run folder) and writes ``<out>/<profile>/<name>.json`` under a
temporary name, renamed when complete. A record holds:

- ``name``, ``model`` (the Keras model name), ``date`` (UTC, ISO 8601);
- ``config``: ``builder``, ``kwargs``, ``profile`` (every field of the run profile),
  ``precision`` (the Keras dtype policy, :func:`precision_policy`), ``epochs``, ``batch_size``;
- ``history`` (per epoch: loss, accuracy, test_loss, test_accuracy, lr, epoch_time),
  ``test_accuracy``, ``test_loss``, ``wall_time`` (s), ``images_per_second``;
- ``params``, ``mult_adds`` (:func:`convviz.models.reader.model_costs`), ``cost_notes``
  (its warnings, e.g. layers without a cost formula);
- ``data``: ``source`` (where CIFAR-10 came from, without a machine path), ``n_train``,
  ``n_test``;
- ``hardware``: ``platform``, ``cpu``, ``cpu_count``, ``gpu`` (name or null);
- ``versions``: ``convviz``, ``keras``, ``backend``, ``backend_version``, ``python``.

Notebooks read the records back with :func:`load_results`. Listing and loading do not
import TensorFlow.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path

from .profiles import PROFILES, get_profile

DEFAULT_OUT = "results"
PREFERRED_PROFILES = ("full", "class", "quick")

# name -> (builder in convviz.models.teaching, its keyword arguments)
EXPERIMENTS: dict[str, tuple[str, dict]] = {
    "baseline": ("baseline_cnn", {}),
    "single_5x5": ("single_5x5", {}),
    "stacked_3x3": ("stacked_3x3", {}),
    "inception_naive": ("inception_net", {"reduced": False}),
    "inception": ("inception_net", {"reduced": True}),
    # segment_net is 32 channels wide: 1 segment is a regular conv, 32 a depthwise one
    "segments_g1": ("segment_net", {"segments": 1}),
    "segments_g4": ("segment_net", {"segments": 4}),
    "segments_g8": ("segment_net", {"segments": 8}),
    "segments_g32": ("segment_net", {"segments": 32}),  # the "extreme Inception" module
    "separable": ("segment_net", {"segments": 32, "order": "spatial_first",
                                  "inner_activation": False}),
    "separable_inner_relu": ("segment_net", {"segments": 32, "order": "spatial_first",
                                             "inner_activation": True}),
    "xception": ("xception_cifar", {"residual": True}),
    "xception_noresidual": ("xception_cifar", {"residual": False}),
    "mobilenet": ("mobilenet_cifar", {}),
    "mobilenet_alpha0.75": ("mobilenet_cifar", {"alpha": 0.75}),
    "mobilenet_alpha0.5": ("mobilenet_cifar", {"alpha": 0.5}),
    "mobilenet_rho0.75": ("mobilenet_cifar", {"rho": 0.75}),
    # Table 4's pair, at alpha 0.5 with mobilenet_alpha0.5: the twin at alpha 1 (8x the
    # mult-adds of mobilenet) needs about 2 minutes an epoch on 2 CPU cores
    "mobilenet_twin_alpha0.5": ("mobilenet_twin", {"alpha": 0.5}),
    # the sizes notebooks 06 and 07 train (their WIDTH, SHUFFLE_SIZE and STUDENT_ALPHA), so
    # that their run folders serve this runner too
    "mobilenet_alpha0.25": ("mobilenet_cifar", {"alpha": 0.25}),
    "small_cnn": ("small_cnn", {"width": 16}),
    "small_cnn_fc": ("small_cnn", {"width": 16, "head": "fc"}),
    "small_cnn_early": ("small_cnn", {"width": 16, "downsample": "early"}),
    "shufflenet_g1": ("shufflenet_cifar", {"groups": 1, "scale": 0.25}),
    "shufflenet_g4": ("shufflenet_cifar", {"groups": 4, "scale": 0.25}),
    "shufflenet_g4_noshuffle": ("shufflenet_cifar", {"groups": 4, "shuffle": False, "scale": 0.25}),
}


def _check_names(names) -> list[str]:
    if names is None:
        return list(EXPERIMENTS)
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    names = list(names)
    unknown = [n for n in names if n not in EXPERIMENTS]
    if not names or unknown:
        raise ValueError(f"models must name experiments from {sorted(EXPERIMENTS)}; "
                         f"got {unknown or names!r}")
    return names


def build(name: str):
    """The Keras model of experiment ``name``."""
    from convviz.models import teaching

    builder, kwargs = EXPERIMENTS[_check_names([name])[0]]
    return getattr(teaching, builder)(**kwargs)


# --------------------------------------------------------------------------- what a record says


def cpu_name() -> str:
    """The CPU's model name (from /proc/cpuinfo where there is one)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def hardware() -> dict:
    """Platform, CPU, usable CPU count and GPU name (None without one) of this machine."""
    from .training import environment, usable_cores  # environment: each backend's way to list GPUs

    gpus = environment().get("gpus", [])
    return {"platform": platform.platform(), "cpu": cpu_name(), "cpu_count": usable_cores(),
            "gpu": gpus[0] if gpus else None, "gpu_count": len(gpus)}


def versions() -> dict:
    """convviz, Keras, its backend and Python versions."""
    from . import __version__
    from .training import environment

    env = environment()
    return {"convviz": __version__, "keras": env["keras"], "backend": env["backend"],
            "backend_version": env.get("backend_version"), "python": platform.python_version()}


def _costs(model) -> tuple[int, int, list[str]]:
    from convviz.models.reader import model_costs

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = model_costs(model)
    return report.total_params, report.total_mult_adds, [str(w.message) for w in caught]


def _write_json(path: Path, record: dict):
    """Write ``record`` to ``path`` via a temporary name in the same folder, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(json.dumps(record, indent=1))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# --------------------------------------------------------------------------- run and load


def precision_policy(profile, gpu) -> str:
    """The Keras dtype policy a run builds its models under: ``mixed_float16`` for the ``full``
    profile on a GPU (float16 convolutions on tensor cores, float32 weights and logits; Keras
    scales the loss), ``float32`` otherwise. On this project's CPU, reduced precision measured
    slower (``benchmarks/REPORT.md``, XLA section), so CPU runs stay in float32."""
    prof = get_profile(profile)
    return "mixed_float16" if prof.name == "full" and gpu else "float32"


def run(models=None, profile=None, out=DEFAULT_OUT, runs_dir=None, verbose: bool = True) -> dict:
    """Train the named experiments (all by default) and write one record each.

    ``models``: names from ``EXPERIMENTS`` (a list or a comma-separated string).
    ``profile``: ``"quick"``, ``"class"`` or ``"full"`` (``CONVVIZ_PROFILE`` overrides).
    ``out``: records go to ``<out>/<profile>/<name>.json``; ``runs_dir``: the run folders
    (checkpoints) go to ``<runs_dir>/<profile>/<name>``, by default ``$CONVVIZ_RUNS`` or
    ``./runs``. Returns ``{name: record}``.
    """
    from .backend import load_keras
    from .data import load_cifar10
    from .training import default_runs_dir, train

    names = _check_names(models)
    load_keras()  # before anything imports it loudly
    prof = get_profile(profile)
    if not isinstance(out, (str, os.PathLike)) or not os.fspath(out):
        raise ValueError(f"out must be a folder path; got {out!r}")
    folder = Path(out) / prof.name
    runs = Path(runs_dir) if runs_dir is not None else default_runs_dir()
    sizes = None if prof.train_size is None else (prof.train_size, prof.test_size)
    data = load_cifar10(subset=sizes, seed=0)
    machine, software = hardware(), versions()
    import keras

    policy = precision_policy(prof, machine["gpu"])
    before = keras.mixed_precision.global_policy().name
    if verbose:
        print(f"{len(names)} experiment(s), profile {prof.name!r}, {data.source}: "
              f"{len(data.y_train)} training / {len(data.y_test)} test images", flush=True)
    records = {}
    for name in names:
        builder, kwargs = EXPERIMENTS[name]
        keras.mixed_precision.set_global_policy(policy)
        try:
            model = build(name)
        finally:
            keras.mixed_precision.set_global_policy(before)
        params, mult_adds, notes = _costs(model)
        t0 = time.perf_counter()
        result = train(model, data, profile=prof, name=name, run_dir=runs / prof.name / name,
                       live_plot=False, verbose=verbose)
        record = {
            "name": name, "model": model.name,
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "config": {"builder": builder, "kwargs": kwargs, "profile": dataclasses.asdict(prof),
                       "precision": policy,
                       "epochs": result.epochs, "batch_size": prof.batch_size},
            "history": result.history, "test_accuracy": result.test_accuracy,
            "test_loss": result.test_loss, "wall_time": result.wall_time,
            "images_per_second": result.images_per_second, "resumed_from": result.resumed_from,
            "session_time": time.perf_counter() - t0,
            "params": params, "mult_adds": mult_adds, "cost_notes": notes,
            "data": {"source": data.source, "n_train": len(data.y_train),
                     "n_test": len(data.y_test)},
            "hardware": machine, "versions": software,
        }
        _write_json(folder / f"{name}.json", record)
        records[name] = record
        if verbose:
            print(f"{name}: test accuracy {result.test_accuracy:.1%}, {params:,} params, "
                  f"{mult_adds / 1e6:.1f}M mult-adds, {result.wall_time:.0f} s "
                  f"-> {folder / (name + '.json')}", flush=True)
    return records


def _default_results() -> Path:
    """``./results``, or ``../results`` when run from a subfolder such as ``notebooks/``."""
    here = Path.cwd() / DEFAULT_OUT
    return here if here.is_dir() else Path.cwd().parent / DEFAULT_OUT


def load_results(profile=None, folder=None) -> dict:
    """The records of one profile as ``{name: record}``, sorted by name.

    ``profile=None`` takes the first of ``full``, ``class``, ``quick`` that has records and
    prints which; ``folder`` defaults to ``./results`` (or ``../results`` from
    ``notebooks/``). Raises FileNotFoundError when there are none, saying how to make them.
    """
    if profile is not None and profile not in PROFILES:
        raise ValueError(f"profile must be one of {sorted(PROFILES)} or None; got {profile!r}")
    if folder is not None and (not isinstance(folder, (str, os.PathLike)) or not os.fspath(folder)):
        raise ValueError(f"folder must be None or a folder path; got {folder!r}")
    root = Path(folder) if folder is not None else _default_results()
    candidates = [profile] if profile is not None else PREFERRED_PROFILES
    chosen = next((p for p in candidates if any((root / p).glob("*.json"))), None)
    if chosen is None:
        raise FileNotFoundError(
            f"no experiment results for profile {' or '.join(map(repr, candidates))} in "
            f"{root.name}/; make them with: python -m convviz.experiments run --profile "
            f"{profile or 'class'}")
    records = {p.stem: json.loads(p.read_text()) for p in sorted((root / chosen).glob("*.json"))}
    if profile is None:
        print(f"experiment results: profile {chosen!r}, {len(records)} models "
              f"({', '.join(records)})")
    return records


# --------------------------------------------------------------------------- command line


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m convviz.experiments",
                                     description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="{run,list}")
    sub.add_parser("list", help="the experiment names, their builders and arguments")
    run_cmd = sub.add_parser("run", help="train experiments and write their JSON records")
    run_cmd.add_argument("--profile", choices=sorted(PROFILES), default=None,
                         help="run profile (default: $CONVVIZ_PROFILE, else class)")
    run_cmd.add_argument("--models", default=None,
                         help="comma-separated experiment names (default: all)")
    run_cmd.add_argument("--out", default=DEFAULT_OUT,
                         help=f"results folder (default: {DEFAULT_OUT}/)")
    run_cmd.add_argument("--runs", default=None,
                         help="run folders with checkpoints (default: $CONVVIZ_RUNS, else runs/)")
    return parser


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "list":
        width = max(map(len, EXPERIMENTS))
        for name, (builder, kwargs) in EXPERIMENTS.items():
            arguments = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
            print(f"{name:<{width}}  {builder}({arguments})")
        return 0
    try:
        names = _check_names(args.models)
    except ValueError as err:
        parser.error(str(err))
    run(names, profile=args.profile, out=args.out, runs_dir=args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
