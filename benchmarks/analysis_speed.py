"""How long the analysis of a real network takes, next to building it.

Builds each of a list of ``keras.applications`` models (weights=None: InceptionV3, Xception,
ResNet50, MobileNetV2, EfficientNetB0, ...), then times the full cost table
(``convviz.models.reader.model_costs``) and, when ``convviz.models.receptive`` exists, the
receptive field of every layer (``rf_table``). Target: the analysis takes under a second and
less time than the build.

    python benchmarks/analysis_speed.py [--repeat 3] [--models InceptionV3,Xception]
"""
from __future__ import annotations

import argparse
import os
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

MODEL = "InceptionV3"
MODELS = ("InceptionV3", "Xception", "ResNet50", "MobileNet", "MobileNetV2", "EfficientNetB0",
          "NASNetMobile")
TARGET_SECONDS = 1.0


def best_of(repeat: int, fn):
    """The fastest of ``repeat`` runs of ``fn`` (seconds) and its last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def measure(name: str, repeat: int = 3) -> dict:
    """Build ``keras.applications.<name>(weights=None)`` and time its cost table and fields."""
    import keras

    from convviz.models.reader import model_costs

    build_s, model = best_of(1, lambda: getattr(keras.applications, name)(weights=None))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        costs_s, report = best_of(repeat, lambda: model_costs(model))
    try:
        from convviz.models.receptive import rf_table
    except ImportError:
        rf_table = None
    rf_s = best_of(repeat, lambda: rf_table(model))[0] if rf_table else None
    analysis_s = costs_s + (rf_s or 0.0)
    result = {"layer_calls": len(report.rows), "params": report.total_params,
              "mult_adds": report.total_mult_adds, "unknown_layers": len(report.unknown),
              "warnings": len({str(w.message) for w in caught}),
              "build_s": round(build_s, 3), "costs_s": round(costs_s, 3),
              "rf_s": None if rf_s is None else round(rf_s, 3),
              "analysis_s": round(analysis_s, 3),
              "analysis_over_build": round(analysis_s / build_s, 3),
              "target": "met" if analysis_s < TARGET_SECONDS and analysis_s < build_s else "MISSED"}
    keras.backend.clear_session()
    return result


def run(models=MODELS, repeat: int = 3, log=print) -> dict:
    out = {"repeat": repeat, "target_seconds": TARGET_SECONDS, "models": {}}
    log(f"{'model':16s} {'layers':>6s} {'mult-adds':>10s} {'build s':>8s} {'costs s':>8s} "
        f"{'fields s':>8s} {'analysis/build':>14s}  target")
    for name in models:
        r = measure(name, repeat)
        out["models"][name] = r
        rf = "-" if r["rf_s"] is None else f"{r['rf_s']:.3f}"
        log(f"{name:16s} {r['layer_calls']:6d} {r['mult_adds'] / 1e9:9.2f}G {r['build_s']:8.3f} "
            f"{r['costs_s']:8.3f} {rf:>8s} {r['analysis_over_build']:14.3f}  {r['target']}")
    return out


def render(res: dict) -> list[str]:
    lines = [f"`keras.applications` models built with `weights=None`; cost table = "
             f"`model_costs(model)`, fields = `rf_table(model)`, best of {res['repeat']}. "
             f"Target: analysis (costs + fields) < {res['target_seconds']:g} s and < build.", "",
             "| model | layer calls | params | mult-adds | unknown layers | build s | cost table s | "
             "fields s | analysis / build | target |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for name, r in res["models"].items():
        rf = "-" if r["rf_s"] is None else f"{r['rf_s']:.3f}"
        lines.append(f"| {name} | {r['layer_calls']} | {r['params'] / 1e6:.2f}M | "
                     f"{r['mult_adds'] / 1e9:.2f}G | {r['unknown_layers']} | {r['build_s']:.2f} | "
                     f"{r['costs_s']:.3f} | {rf} | {r['analysis_over_build']:.3f} | {r['target']} |")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing (best kept)")
    parser.add_argument("--models", default=",".join(MODELS),
                        help="comma-separated keras.applications names")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error(f"--repeat must be a positive int; got {args.repeat}")
    import keras

    names = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in names if not hasattr(keras.applications, m)]
    if unknown:
        parser.error(f"--models: not in keras.applications: {unknown}")
    res = run(names, args.repeat)
    return 0 if all(r["target"] == "met" for r in res["models"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
