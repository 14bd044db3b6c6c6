"""Every model of the course in one table: accuracy, parameters, mult-adds, latency, and where each
number came from.

Two sources, never retyped:

- **your runs**: the run folders :func:`convviz.train` writes, ``<runs>/<profile>/<name>/``
  (``result.json``, ``history.json``, ``state.json``; ``<runs>`` is ``$CONVVIZ_RUNS`` or
  ``./runs``). The mult-adds come from ``costs.json`` when the notebook that trained the model
  wrote one (:func:`record_costs`), else from rebuilding the experiment of the same name
  (:data:`convviz.experiments.EXPERIMENTS`) when its parameter count matches the run's;
- **reference results**: the records of ``python -m convviz.experiments run``
  (:func:`convviz.experiments.load_results`), which carry their own costs.

Reading needs no TensorFlow unless a model has to be rebuilt (for its costs or its latency).
"""
from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

from .profiles import get_profile

COSTS_FILE = "costs.json"


def _costs(model) -> dict:
    from convviz.models.reader import model_costs

    with warnings.catch_warnings(record=True) as caught:  # layers without a formula
        warnings.simplefilter("always")
        report = model_costs(model)
    return {"params": report.total_params, "mult_adds": report.total_mult_adds,
            "unknown_layers": report.unknown, "cost_notes": [str(w.message) for w in caught]}


def record_costs(result, model=None) -> dict:
    """Write ``costs.json`` into a run's folder: parameters and mult-adds
    (:func:`convviz.models.reader.model_costs`, default conventions, as the experiment records)
    and the architecture (``model.to_json()``), so that :func:`collect` can cost and time runs
    whose builder it does not know.

    ``result``: what :func:`convviz.train` (or :func:`convviz.models.compress.distill`) returned;
    ``model``: the trained model, by default ``result.model``. Returns what was written.
    """
    from .backend import load_keras

    keras = load_keras()
    model = result.model if model is None else model
    if not isinstance(model, keras.Model):
        raise ValueError(f"model must be a keras.Model (or result.model one); got {type(model).__name__}")
    run_dir = Path(getattr(result, "run_dir", ""))
    if not (run_dir / "state.json").is_file():
        raise ValueError("result must be a TrainResult whose run folder exists (it has no "
                         "state.json)")
    record = {"name": result.name, "model": model.name, **_costs(model),
              "architecture": model.to_json()}
    tmp = run_dir / f".{COSTS_FILE}.tmp"
    tmp.write_text(json.dumps(record, indent=1))
    os.replace(tmp, run_dir / COSTS_FILE)
    return record


def _read(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _experiment_costs(name: str, params: int):
    """Costs of the experiment called ``name``, if it is one and its parameters match."""
    from .experiments import EXPERIMENTS, build

    if name not in EXPERIMENTS:
        return None
    model = build(name)
    if model.count_params() != params:
        return None
    return _costs(model)


def run_rows(profile=None, runs_dir=None) -> list[dict]:
    """One row per run folder of ``profile`` under ``runs_dir`` (default ``$CONVVIZ_RUNS`` or
    ``./runs``), finished or not; see :func:`collect` for the keys."""
    from .training import default_runs_dir

    prof = get_profile(profile)
    if runs_dir is not None and (not isinstance(runs_dir, (str, os.PathLike)) or not os.fspath(runs_dir)):
        raise ValueError(f"runs_dir must be None or a folder path; got {runs_dir!r}")
    folder = Path(runs_dir if runs_dir is not None else default_runs_dir()) / prof.name
    rows = []
    for run in sorted(p for p in folder.glob("*") if (p / "state.json").is_file()):
        state, history = _read(run / "state.json"), _read(run / "history.json")
        result = _read(run / "result.json")
        if not state or not history or not history.get("test_accuracy"):
            continue
        costs = _read(run / COSTS_FILE)
        how = "costs.json"
        if costs is None or costs.get("params") != state.get("params"):
            costs, how = _experiment_costs(run.name, state.get("params")), "experiment builder"
        finished = result is not None and state["epochs_done"] >= state["epochs"]
        rows.append({
            "name": run.name, "source": f"your run (runs/{prof.name}/{run.name}/)", "kind": "run",
            "profile": prof.name,
            "test_accuracy": result["test_accuracy"] if result else history["test_accuracy"][-1],
            "params": state.get("params"),
            "mult_adds": costs["mult_adds"] if costs else None,
            "mult_adds_complete": bool(costs) and not costs.get("unknown_layers"),
            "costs_from": how if costs else None,
            "architecture": costs.get("architecture") if costs else None,
            "epochs": state["epochs_done"], "finished": finished,
            "wall_time": state.get("wall_time"), "n_train": state.get("n_train"),
        })
    return rows


def reference_rows(profile=None, folder=None) -> list[dict]:
    """One row per record of :func:`convviz.experiments.load_results` (none when there are none)."""
    from .experiments import load_results

    try:
        records = load_results(profile, folder)
    except FileNotFoundError:
        return []
    rows = []
    for name, rec in records.items():
        prof = rec["config"]["profile"]["name"]
        unknown = any("unknown" in note for note in rec.get("cost_notes", []))
        rows.append({
            "name": name, "source": f"reference (results/{prof}/{name}.json)", "kind": "reference",
            "profile": prof, "test_accuracy": rec["test_accuracy"], "params": rec["params"],
            "mult_adds": rec["mult_adds"], "mult_adds_complete": not unknown,
            "costs_from": "record", "builder": (rec["config"]["builder"], rec["config"]["kwargs"]),
            "epochs": rec["config"]["epochs"], "finished": True, "wall_time": rec["wall_time"],
            "n_train": rec["data"]["n_train"],
        })
    return rows


def collect(profile=None, runs_dir=None, results_folder=None, references: bool = True) -> list[dict]:
    """Your runs of ``profile`` and (``references=True``) the reference records, as rows.

    Each row: ``name``, ``source`` (a sentence naming the file, without a machine path),
    ``kind`` (``"run"`` or ``"reference"``), ``profile``, ``test_accuracy``, ``params``,
    ``mult_adds`` (None when unknown), ``mult_adds_complete`` (False when some layers have no
    cost formula: the figure is then a lower bound), ``costs_from``, ``epochs``, ``finished``,
    ``wall_time`` (s), ``n_train``.

    A reference recorded from one of your run folders (``python -m convviz.experiments run``
    loads a finished run instead of training it again) is that run: it is listed once, as your
    run, with the record named in its ``source``.
    """
    if references not in (True, False):
        raise ValueError(f"references must be True or False; got {references!r}")
    rows = run_rows(profile, runs_dir)
    if not references:
        return rows

    def identity(row):
        return (row["name"], row["profile"], row["epochs"], row["params"], row["test_accuracy"],
                row["wall_time"])

    mine = {identity(r): r for r in rows if r["finished"]}
    others = []
    for ref in reference_rows(None, results_folder):
        run = mine.get(identity(ref))
        if run is None:
            others.append(ref)
        else:
            run["source"] += f", also the {ref['source']}"
    return rows + others


def _rebuild(row):
    """The row's architecture as a Keras model, or None when it is unknown or no longer builds
    (a record written by an older convviz)."""
    from .backend import load_keras

    keras = load_keras()
    from convviz.models import teaching  # registers GroupConv2D and ChannelShuffle for from_json

    from .experiments import EXPERIMENTS, build

    try:
        if row.get("architecture"):
            return keras.models.model_from_json(row["architecture"])
        if row.get("builder"):
            builder, kwargs = row["builder"]
            return getattr(teaching, builder)(**kwargs)
        if row["name"] in EXPERIMENTS and row.get("costs_from") == "experiment builder":
            return build(row["name"])
    except (AttributeError, TypeError, ValueError):
        pass
    return None


def add_latency(rows, batch_size: int = 1) -> list[dict]:
    """Measure the inference latency (ms, :func:`convviz.models.speed.compare_latency`: median,
    interleaved) of every row whose architecture can be rebuilt, on this machine, with random
    weights (the time does not depend on them). Rows of the same name and parameter count share
    one measurement; ``latency_ms`` is None where the architecture is unknown. Returns ``rows``,
    updated.
    """
    from convviz.models.speed import compare_latency

    def key(row):
        return f"{row['name']} ({row['params']})"

    models = {}
    for row in rows:
        if key(row) not in models:
            model = _rebuild(row)
            if model is not None:
                models[key(row)] = model
    latency = compare_latency(models, batch_size=batch_size, rounds=3, repeats=10) if models else {}
    for row in rows:
        row["latency_ms"] = latency.get(key(row))
    return rows


def pareto_front(rows) -> list[dict]:
    """The rows with known mult-adds that no other such row beats: none has at most their
    mult-adds and at least their accuracy, one of them strictly. Cheapest first."""
    known = sorted((r for r in rows if r.get("mult_adds")),
                   key=lambda r: (r["mult_adds"], -r["test_accuracy"]))
    front, best = [], -1.0
    for r in known:
        if r["test_accuracy"] > best:
            front.append(r)
            best = r["test_accuracy"]
    return front
