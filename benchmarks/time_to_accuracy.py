"""Training time to reach 50%, 70% and 80% test accuracy, per teaching model, from the records.

Reads the experiment records ``results/<profile>/<name>.json`` written by
``python -m convviz.experiments run --profile class`` (and ``full``), and the run folders'
histories ``<runs>/<profile>/<name>/history.json`` written by ``convviz.train`` for names with
no record (``runs/`` and ``notebooks/runs/``, where notebooks run from ``notebooks/`` train). Time to a threshold = the sum of ``epoch_time`` (training only, evaluation left
out) up to and including the first epoch whose ``test_accuracy`` reaches it; 'not reached'
otherwise. Nothing is trained here.

    python -m benchmarks.time_to_accuracy [--results results] [--runs runs] [--profiles class,full]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from benchmarks import ROOT

THRESHOLDS = (0.5, 0.7, 0.8)
PROFILES = ("class", "full")


def time_to(history: dict, threshold: float):
    """``(seconds, epoch)`` of the first epoch reaching ``threshold``, or None."""
    total = 0.0
    for epoch, (acc, seconds) in enumerate(zip(history.get("test_accuracy", []),
                                               history.get("epoch_time", [])), start=1):
        total += seconds
        if acc >= threshold:
            return round(total, 1), epoch
    return None


def _label(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return path.name


def load(results_dir: Path, runs_dirs, profile: str) -> dict:
    """``{name: {"history", "source", ...}}`` from records, then run folders for the rest."""
    found = {}
    for path in sorted((results_dir / profile).glob("*.json")):
        try:
            rec = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(rec.get("history"), dict):
            found[path.stem] = {"history": rec["history"], "source": _label(path),
                                "hardware": (rec.get("hardware") or {}).get("cpu"),
                                "images_per_second": rec.get("images_per_second")}
    for runs_dir in runs_dirs:
        for path in sorted((runs_dir / profile).glob("*/history.json")):
            name = path.parent.name
            if name in found:
                continue
            try:
                history = json.loads(path.read_text())
                state = json.loads((path.parent / "state.json").read_text())
            except (OSError, ValueError):
                continue
            if not isinstance(history, dict):
                continue
            done = "" if state.get("epochs_done") == state.get("epochs") else (
                f" (unfinished: {state.get('epochs_done')} of {state.get('epochs')} epochs)")
            found[name] = {"history": history, "source": _label(path) + done,
                           "hardware": None,
                           "images_per_second": None}
    return found


def summarise(entry: dict) -> dict:
    h = entry["history"]
    acc = h.get("test_accuracy", [])
    times = h.get("epoch_time", [])
    return {"source": entry["source"], "epochs": len(acc),
            "final_test_accuracy": round(acc[-1], 4) if acc else None,
            "best_test_accuracy": round(max(acc), 4) if acc else None,
            "train_time_s": round(sum(times), 1),
            "images_per_second": entry.get("images_per_second"),
            "hardware": entry.get("hardware"),
            "time_to": {f"{t:.0%}": time_to(h, t) for t in THRESHOLDS}}


def run(results_dir=None, runs_dir=None, profiles=PROFILES, log=print) -> dict:
    results_dir = Path(results_dir) if results_dir else ROOT / "results"
    runs_dirs = [Path(runs_dir)] if runs_dir else [ROOT / "runs", ROOT / "notebooks" / "runs"]
    from convviz.experiments import EXPERIMENTS

    out = {"thresholds": list(THRESHOLDS), "profiles": {}, "experiments": list(EXPERIMENTS)}
    for profile in profiles:
        models = {name: summarise(e) for name, e in load(results_dir, runs_dirs, profile).items()}
        out["profiles"][profile] = models
        log(f"profile {profile}: {len(models)} histories")
        for name, m in models.items():
            cells = ", ".join(f"{k}: {'not reached' if v is None else f'{v[0]:.0f} s (epoch {v[1]})'}"
                              for k, v in m["time_to"].items())
            final = "-" if m["final_test_accuracy"] is None else f"{m['final_test_accuracy']:.1%}"
            log(f"  {name:24s} final {final}  {cells}")
    return out


def render(res: dict) -> list[str]:
    lines = ["Training time (sum of `epoch_time`, evaluation left out) up to the first epoch whose "
             "test accuracy reaches each threshold, from the experiment records "
             "(`results/<profile>/*.json`) or the run folders (`runs/<profile>/*/history.json`, "
             "`notebooks/runs/<profile>/*/history.json`). Epoch times are wall clock on whatever "
             "machine and load the run had."]
    have_any = False
    for profile, models in res["profiles"].items():
        if not models:
            continue
        have_any = True
        lines += ["", f"**Profile `{profile}`** ({len(models)} models)", "",
                  "| model | epochs | final test acc | train time s | "
                  + " | ".join(f"to {k}" for k in (f"{t:.0%}" for t in res["thresholds"]))
                  + " | source |",
                  "| --- | ---: | ---: | ---: | " + " | ".join("---:" for _ in res["thresholds"]) + " | --- |"]
        for name, m in models.items():
            cells = " | ".join("not reached" if v is None else f"{v[0]:,.0f} s (epoch {v[1]})"
                               for v in m["time_to"].values())
            acc = "-" if m["final_test_accuracy"] is None else f"{m['final_test_accuracy']:.1%}"
            lines.append(f"| {name} | {m['epochs']} | {acc} | {m['train_time_s']:,.0f} | {cells} | "
                         f"{m['source']} |")
        missing = [n for n in res.get("experiments", []) if n not in models]
        if missing and profile == "class":
            lines += ["", f"No `{profile}` history yet for: {', '.join(missing)}."]
    if not have_any:
        lines += ["", "**No records yet.** Make them (class profile, all of CIFAR-10; about a few "
                  "minutes per model on a laptop CPU, many on a shared 2-core machine) with",
                  "", "    CONVVIZ_CIFAR10=/path/to/cifar-10-batches-py python -m convviz.experiments "
                  "run --profile class [--models baseline,mobilenet,mobilenet_twin]", "",
                  "then `python -m benchmarks --only accuracy`. Histories of notebook runs in "
                  "`runs/class/` are read too."]
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default=None, help="experiment records (default: results/)")
    parser.add_argument("--runs", default=None, help="run folders (default: runs/ and notebooks/runs/)")
    parser.add_argument("--profiles", default=",".join(PROFILES))
    args = parser.parse_args(argv)
    res = run(args.results, args.runs, [p.strip() for p in args.profiles.split(",") if p.strip()])
    print("\n".join(render(res)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
