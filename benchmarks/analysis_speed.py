"""How long the analysis of a real network takes, next to building it.

Builds ``keras.applications.InceptionV3`` (weights=None), then times the full cost
table (``convviz.models.reader.model_costs``) and, when ``convviz.models.receptive``
exists, the receptive field of every layer (``rf_table``). Target: the analysis
takes under a second and less time than the build.

    python benchmarks/analysis_speed.py [--repeat 3]
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

MODEL = "InceptionV3"
TARGET_SECONDS = 1.0


def best_of(repeat: int, fn):
    """The fastest of ``repeat`` runs of ``fn`` (seconds) and its last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing (best kept)")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error(f"--repeat must be a positive int; got {args.repeat}")

    import keras

    from convviz.models.reader import model_costs

    build_s, model = best_of(1, lambda: getattr(keras.applications, MODEL)(weights=None))
    costs_s, report = best_of(args.repeat, lambda: model_costs(model))
    try:
        from convviz.models.receptive import rf_table
    except ImportError:
        rf_table = None
    rf_s = best_of(args.repeat, lambda: rf_table(model))[0] if rf_table else 0.0

    analysis_s = costs_s + rf_s
    print(f"{MODEL}: {len(report.rows)} layer calls, {report.total_params:,} params, "
          f"{report.total_mult_adds / 1e9:.2f}G mult-adds")
    print(f"build (weights=None)      {build_s:8.3f} s")
    print(f"cost table                {costs_s:8.3f} s")
    print(f"receptive fields          {rf_s:8.3f} s" if rf_table else
          "receptive fields              (convviz.models.receptive not available)")
    print(f"analysis / build          {analysis_s / build_s:8.3f}")
    ok = analysis_s < TARGET_SECONDS and analysis_s < build_s
    print(f"target (analysis < {TARGET_SECONDS:g} s and < build): {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
