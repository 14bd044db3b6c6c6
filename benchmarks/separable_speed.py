"""Standard against depthwise separable convolutions: the mult-add ratio beside the measured time.

For a few layer shapes (MobileNet-like: 32x32x32->64, 16x16x128->128, 8x8x256->256,
4x4x512->512, 3x3 kernels, no bias), a one-layer Keras model with ``Conv2D`` and one with
``SeparableConv2D`` run forward on the same batch; the time ratio separable / standard is
measured by CPU time over interleaved rounds and set beside
``convviz.core.costs.standard_vs_separable(...)["mult_adds_ratio"]``. Then the whole
MobileNet pair, ``mobilenet_cifar`` against ``mobilenet_twin`` (the same network with
standard convolutions, MobileNet's Table 4), for inference at batch 256 and 1, with the
mult-adds of ``convviz.models.reader.model_costs``.

Both with TensorFlow's own kernels (``jit_compile=False``, what Keras' default ``"auto"``
picks on a machine without a GPU) and, for the layers, with XLA (``jit_compile=True``, what
``"auto"`` picks when a GPU is present), because the two disagree about depthwise
convolutions on a CPU.

    python -m benchmarks.separable_speed [--rounds 5] [--batch 128] [--no-xla]
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

from benchmarks import Timer, median, quiet_tensorflow, spread

SHAPES = (((32, 32, 32), 64), ((16, 16, 128), 128), ((8, 8, 256), 256), ((4, 4, 512), 512))
KERNEL = 3


def _timed_calls(model, x, calls: int) -> Timer:
    with Timer() as t:
        for _ in range(calls):
            model.predict_on_batch(x)
    return t


def interleaved(models: dict, inputs: dict, rounds: int, cpu_seconds: float = 0.4) -> dict:
    """Seconds per call (CPU and wall) of each model, A B A B...: calls per round chosen so one
    round of the slowest model takes about ``cpu_seconds``."""
    for name, m in models.items():
        for _ in range(2):
            m.predict_on_batch(inputs[name])  # trace / compile, then warm
    calls = {}
    for name, m in models.items():
        per = _timed_calls(m, inputs[name], 2).cpu / 2
        calls[name] = max(1, int(round(cpu_seconds / max(per, 1e-5))))
    n = min(calls.values())  # the same number of calls for every model
    cpu, wall = {k: [] for k in models}, {k: [] for k in models}
    for r in range(rounds):
        for name in (list(models) if r % 2 == 0 else list(models)[::-1]):
            t = _timed_calls(models[name], inputs[name], n)
            cpu[name].append(t.cpu / n)
            wall[name].append(t.seconds / n)
    return {"calls": n, "cpu": cpu, "wall": wall}


def _compiled(model, jit: bool):
    model.compile(jit_compile=jit)
    return model


def measure_layers(rounds: int, batch: int, xla: bool, log=print) -> list[dict]:
    import keras

    from convviz.core.costs import standard_vs_separable

    rows = []
    rng = np.random.default_rng(0)
    for shape, filters in SHAPES:
        cmp = standard_vs_separable(shape, filters, KERNEL, use_bias=False)
        row = {"input": list(shape), "filters": filters, "kernel": KERNEL,
               "standard_mult_adds": cmp["standard"].mult_adds,
               "separable_mult_adds": cmp["separable"].mult_adds,
               "mult_adds_ratio": round(cmp["mult_adds_ratio"], 4),
               "paper_ratio": round(cmp["paper_ratio"], 4)}
        x = rng.standard_normal((batch, *shape)).astype("float32")
        for jit in ((False, True) if xla else (False,)):
            def layer(kind):
                inp = keras.Input(shape)
                cls = keras.layers.Conv2D if kind == "standard" else keras.layers.SeparableConv2D
                return _compiled(keras.Model(inp, cls(filters, KERNEL, padding="same",
                                                      use_bias=False)(inp)), jit)

            models = {"standard": layer("standard"), "separable": layer("separable")}
            res = interleaved(models, {k: x for k in models}, rounds)
            per_round = [s / t for s, t in zip(res["cpu"]["separable"], res["cpu"]["standard"])]
            key = "xla" if jit else "tf"
            row[f"{key}_standard_ms"] = round(1000 * median(res["cpu"]["standard"]), 3)
            row[f"{key}_separable_ms"] = round(1000 * median(res["cpu"]["separable"]), 3)
            row[f"{key}_time_ratio"] = round(sum(res["cpu"]["separable"]) / sum(res["cpu"]["standard"]), 3)
            row[f"{key}_round_ratios"] = [round(r, 3) for r in per_round]
            row[f"{key}_wall_ratio"] = round(median([s / t for s, t in zip(
                res["wall"]["separable"], res["wall"]["standard"])]), 3)
            keras.backend.clear_session()
        rows.append(row)
        log(f"{'x'.join(map(str, shape))}->{filters}: mult-adds ratio {row['mult_adds_ratio']:.3f}, "
            f"time ratio {row['tf_time_ratio']:.3f} ({spread(row['tf_round_ratios'])})"
            + (f", with XLA {row['xla_time_ratio']:.3f} ({spread(row['xla_round_ratios'])})" if xla else ""))
    return rows


def measure_pair(rounds: int, log=print) -> dict:
    """mobilenet_cifar vs mobilenet_twin, inference at batch 256 and 1 (jit_compile=False)."""
    import keras

    from convviz.models.reader import model_costs
    from convviz.models.teaching import mobilenet_cifar, mobilenet_twin

    keras.utils.set_random_seed(0)
    models = {"mobilenet": _compiled(mobilenet_cifar(), False),
              "mobilenet_twin": _compiled(mobilenet_twin(), False)}
    out = {name: {"params": int(m.count_params()),
                  "mult_adds": int(model_costs(m).total_mult_adds)} for name, m in models.items()}
    out["mult_adds_ratio"] = round(out["mobilenet"]["mult_adds"] / out["mobilenet_twin"]["mult_adds"], 4)
    out["params_ratio"] = round(out["mobilenet"]["params"] / out["mobilenet_twin"]["params"], 4)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (256, 32, 32, 3), dtype=np.uint8)
    for batch in (256, 1):
        res = interleaved(models, {k: images[:batch] for k in models}, rounds,
                          cpu_seconds=0.8 if batch > 1 else 0.2)
        for name in models:
            out[name][f"b{batch}_ms"] = round(1000 * median(res["cpu"][name]), 3)
            out[name][f"b{batch}_wall_ms"] = round(1000 * median(res["wall"][name]), 3)
        per_round = [a / b for a, b in zip(res["cpu"]["mobilenet"], res["cpu"]["mobilenet_twin"])]
        out[f"b{batch}_time_ratio"] = round(sum(res["cpu"]["mobilenet"]) / sum(res["cpu"]["mobilenet_twin"]), 3)
        out[f"b{batch}_round_ratios"] = [round(r, 3) for r in per_round]
        out[f"b{batch}_wall_ratio"] = round(median([a / b for a, b in zip(
            res["wall"]["mobilenet"], res["wall"]["mobilenet_twin"])]), 3)
        log(f"mobilenet / mobilenet_twin, batch {batch}: mult-adds ratio {out['mult_adds_ratio']:.3f}, "
            f"time ratio {out[f'b{batch}_time_ratio']:.3f} ({spread(per_round)})")
    keras.backend.clear_session()
    return out


def run(rounds: int = 5, batch: int = 128, xla: bool = True, log=print) -> dict:
    quiet_tensorflow()
    return {"batch": batch, "rounds": rounds, "layers": measure_layers(rounds, batch, xla, log),
            "mobilenet_pair": measure_pair(rounds, log)}


def render(res: dict, training: dict | None = None) -> list[str]:
    xla = any("xla_time_ratio" in r for r in res["layers"])
    lines = [f"Forward pass (`predict_on_batch`), batch {res['batch']}, float32 inputs, 3x3 kernels "
             f"without bias, {res['rounds']} interleaved rounds; time = CPU time of the process per "
             "call (median), ratio = separable / standard (lower is cheaper). 'TF' = TensorFlow's "
             "kernels (`jit_compile=False`, which Keras' default `'auto'` picks on a machine "
             "without a GPU), 'XLA' = `jit_compile=True` forced on this CPU (what `'auto'` picks "
             "when a GPU is present; XLA's CPU code is shown for contrast).", "",
             "| layer | mult-adds standard | mult-adds separable | mult-add ratio | TF ms standard | "
             "TF ms separable | TF time ratio | per round |"
             + (" XLA ms standard | XLA ms separable | XLA time ratio |" if xla else ""),
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |" + (" ---: | ---: | ---: |" if xla else "")]
    for r in res["layers"]:
        name = f"{'x'.join(map(str, r['input']))} -> {r['filters']}"
        line = (f"| {name} | {r['standard_mult_adds'] / 1e6:.1f}M | {r['separable_mult_adds'] / 1e6:.2f}M | "
                f"{r['mult_adds_ratio']:.3f} | {r['tf_standard_ms']:.2f} | {r['tf_separable_ms']:.2f} | "
                f"{r['tf_time_ratio']:.3f} | {spread(r['tf_round_ratios'])} |")
        if xla:
            line += f" {r['xla_standard_ms']:.2f} | {r['xla_separable_ms']:.2f} | {r['xla_time_ratio']:.3f} |"
        lines.append(line)
    p = res["mobilenet_pair"]
    lines += ["", "Whole networks, inference (`jit_compile=False`): `mobilenet_cifar()` against "
              "`mobilenet_twin()` (standard 3x3 convolutions in place of the depthwise separable "
              "ones); ratio = mobilenet / twin.", "",
              "| | mobilenet | mobilenet_twin | ratio |", "| --- | ---: | ---: | ---: |",
              f"| parameters | {p['mobilenet']['params']:,} | {p['mobilenet_twin']['params']:,} | "
              f"{p['params_ratio']:.3f} |",
              f"| mult-adds per image | {p['mobilenet']['mult_adds'] / 1e6:.1f}M | "
              f"{p['mobilenet_twin']['mult_adds'] / 1e6:.1f}M | {p['mult_adds_ratio']:.3f} |",
              f"| inference batch 256, CPU ms | {p['mobilenet']['b256_ms']:.0f} | "
              f"{p['mobilenet_twin']['b256_ms']:.0f} | {p['b256_time_ratio']:.3f} "
              f"({spread(p['b256_round_ratios'])}) |",
              f"| inference batch 1, CPU ms | {p['mobilenet']['b1_ms']:.2f} | "
              f"{p['mobilenet_twin']['b1_ms']:.2f} | {p['b1_time_ratio']:.3f} "
              f"({spread(p['b1_round_ratios'])}) |"]
    models = (training or {}).get("models", {})
    if "mobilenet" in models and "mobilenet_twin" in models:
        a, b = models["mobilenet"], models["mobilenet_twin"]
        lines.append(f"| training (training section), img/CPU-s | {a['convviz_images_per_cpu_s']:,.0f} | "
                     f"{b['convviz_images_per_cpu_s']:,.0f} | time ratio "
                     f"{b['convviz_images_per_cpu_s'] / a['convviz_images_per_cpu_s']:.3f} |")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--no-xla", action="store_true", help="skip the jit_compile=True timings")
    args = parser.parse_args(argv)
    run(args.rounds, args.batch, not args.no_xla)
    return 0


if __name__ == "__main__":
    sys.exit(main())
