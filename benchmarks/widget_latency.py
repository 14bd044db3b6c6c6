"""Control-change-to-redrawn latency of every convviz widget (p50 / p95, milliseconds).

A change of a control's value redraws the widget synchronously (the figure is drawn and
encoded to PNG before the assignment returns), so the time of the assignment is the latency
a reader feels, less the transfer to the browser. Each widget has its controls moved through
evenly spaced values, round-robin, ``--moves`` times; a move into a state the widget refuses
(it shows a message) is counted apart.

    python benchmarks/widget_latency.py [--moves 60] [--json out.json]

Target: p95 < 100 ms for the analytic widgets (everything but the data-driven
correlation, separable-fit and effective-field ones). Then ``--leak-moves`` (1,000) more
changes on three widgets (one that updates its artists in place, one that rebuilds its axes,
one data-driven): their resident memory must grow by less than 50 MB.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import time

import numpy as np

from convviz import widgets

DATA_DRIVEN = {"correlation_widget", "separable_fit_widget", "effective_field_widget"}


def sample_data(seed=0):
    """Stand-ins for what the notebooks pass in: activations, trained weights, an image, ERFs."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(32, 16, 16, 32))
    smooth = x + np.roll(x, 1, axis=1) + np.roll(x, 1, axis=2)
    yy, xx = np.mgrid[:33, :33]
    return {
        "activations": {"block1": smooth, "block2": smooth[:, ::2, ::2] + 0.5 * smooth[:, ::2, ::2, ::-1]},
        "kernel": rng.normal(size=(3, 3, 32, 64)),
        "image": (rng.random((32, 32, 3)) * 255).astype(np.uint8),
        # n uniform 3-tap layers: a Gaussian-like field of variance 2n/3 (the central limit)
        "fields": {f"{n} x 3x3": (np.exp(-((yy - 16) ** 2 + (xx - 16) ** 2) / (4 * n / 3)), [(3, 1, 1)] * n)
                   for n in (2, 4, 8)},
        "tables": {"MobileNet": {"Conv 1x1": (0.9486, 0.7491), "Conv DW 3x3": (0.0306, 0.0106),
                                 "Conv 3x3": (0.0119, 0.0002), "Fully connected": (0.0018, 0.2424)},
                   "other": {"Conv 3x3": (0.8, 0.5), "Fully connected": (0.2, 0.5)}},
    }


def all_widgets(data):
    """Every factory of ``convviz.widgets``, built on ``data``, by name."""
    return {
        "filter_decomposition_widget": widgets.filter_decomposition_widget(),
        "implied_kernel_widget": widgets.implied_kernel_widget(),
        "separable_fit_widget": widgets.separable_fit_widget(data["kernel"]),
        "correlation_widget": widgets.correlation_widget(data["activations"]),
        "segment_diagram_widget": widgets.segment_diagram_widget(),
        "branches_widget": widgets.branches_widget(),
        "extreme_inception_widget": widgets.extreme_inception_widget(),
        "receptive_field_widget": widgets.receptive_field_widget(data["image"]),
        "receptive_depth_widget": widgets.receptive_depth_widget(),
        "effective_field_widget": widgets.effective_field_widget(data["fields"]),
        "layer_costs_widget": widgets.layer_costs_widget(data["tables"]),
        "cost_comparison_widget": widgets.cost_comparison_widget(),
        "cost_curves_widget": widgets.cost_curves_widget(),
    }


def moves(widget, n, per_control=6):
    """``n`` (name, value) changes: each control in turn through evenly spaced values."""
    plans = []
    for name in widget.controls:
        values = widget.options(name)
        picks = [values[int(i)] for i in np.linspace(0, len(values) - 1, min(per_control, len(values)))]
        plans.append([(name, v) for v in picks])
    steps = [step for group in itertools.zip_longest(*plans) for step in group if step is not None]
    return list(itertools.islice(itertools.cycle(steps), n))


def measure(widget, n, cpu=None):
    """Latencies (seconds) of ``n`` control changes, split into drawn and refused states.

    ``cpu``, a list, receives the process CPU time of each drawn change: on a busy machine
    the wall-clock latency includes waiting for a core, the CPU time does not.
    """
    drawn, refused = [], []
    for name, value in moves(widget, n):
        control = widget.controls[name]
        if control.value == value:  # no change, no redraw: nudge first
            widget.render(**{name: widget.options(name)[0] if value != widget.options(name)[0]
                             else widget.options(name)[-1]})
        start, start_cpu = time.perf_counter(), time.process_time()
        control.value = value
        elapsed, used = time.perf_counter() - start, time.process_time() - start_cpu
        (refused if widget.message.value else drawn).append(elapsed)
        if cpu is not None and not widget.message.value:
            cpu.append(used)
    return drawn, refused


LEAK_WIDGETS = ("cost_curves_widget", "receptive_field_widget", "correlation_widget")
LEAK_TARGET_MB = 50


def memory_growth(widget, n: int) -> float:
    """MB the process's resident memory grew by over ``n`` control changes (after a warm-up
    that fills the font and text-layout caches): a figure or artist leak shows here."""
    import gc

    import psutil

    steps = moves(widget, n)
    for name, value in steps[:40]:
        widget.controls[name].value = value
    gc.collect()
    before = psutil.Process().memory_info().rss
    for name, value in steps:
        widget.controls[name].value = value
    gc.collect()
    return (psutil.Process().memory_info().rss - before) / 2**20


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=60)
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--leak-moves", type=int, default=1000,
                        help=f"control changes for the memory check of {', '.join(LEAK_WIDGETS)} "
                             "(0: skip)")
    args = parser.parse_args(argv)
    results = {}
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'widget':30s} {'drawn':>5s} {'p50 ms':>7s} {'p95 ms':>7s} {'cpu p50':>8s} {'cpu p95':>8s}"
          f" {'refused':>7s}  target")
    for name, widget in all_widgets(sample_data()).items():
        cpu = []
        drawn, refused = measure(widget, args.moves, cpu)
        p50, p95 = (1000 * np.percentile(drawn or refused, q) for q in (50, 95))
        c50, c95 = (1000 * np.percentile(cpu or [0.0], q) for q in (50, 95))
        target = "-" if name in DATA_DRIVEN else ("ok" if p95 < 100 else "SLOW")
        results[name] = {"drawn": len(drawn), "refused": len(refused), "p50_ms": round(p50, 1),
                         "p95_ms": round(p95, 1), "cpu_p50_ms": round(c50, 1),
                         "cpu_p95_ms": round(c95, 1), "analytic": name not in DATA_DRIVEN}
        print(f"{name:30s} {len(drawn):5d} {p50:7.1f} {p95:7.1f} {c50:8.1f} {c95:8.1f}"
              f" {len(refused):7d}  {target}")
        if args.leak_moves and name in LEAK_WIDGETS:
            grown = memory_growth(widget, args.leak_moves)
            results[name].update(leak_moves=args.leak_moves, rss_growth_mb=round(grown, 1))
            print(f"{'':30s} {args.leak_moves} more changes: resident memory {grown:+.1f} MB "
                  f"({'ok' if grown < LEAK_TARGET_MB else 'LEAK'})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return results


if __name__ == "__main__":
    main()
