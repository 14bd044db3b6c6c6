"""``python -m benchmarks``: run the benchmark sections and write benchmarks/REPORT.md and
benchmarks/report.json.

    python -m benchmarks                                        # everything (the class-profile notebooks take long)
    python -m benchmarks --only training,separable              # some sections
    python -m benchmarks --only notebooks --profiles class      # the class-profile notebooks alone
    python -m benchmarks --render                               # rewrite REPORT.md from report.json

Results of the sections not run this time are kept from report.json, so sections can be
measured on different occasions; each section records when, on what and under what load
it was measured.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from benchmarks import HERE, load_average, machine, median, now, software, spread  # noqa: E402

SECTIONS = ("training", "pipeline", "xla", "separable", "accuracy", "analysis", "widgets",
            "notebooks")
ALIASES = {"time_to_accuracy": "accuracy", "time-to-accuracy": "accuracy", "notebook": "notebooks",
           "widget": "widgets"}
TITLES = {
    "training": "Training throughput and inference latency of the teaching models",
    "pipeline": "What each part of convviz's training path costs",
    "xla": "XLA: model.compile(jit_compile=...) on this machine",
    "separable": "Standard vs depthwise separable convolutions: mult-adds vs measured time",
    "accuracy": "Time to 50%, 70% and 80% test accuracy (class profile)",
    "analysis": "Analysis speed on keras.applications models",
    "widgets": "Widget update latency",
    "notebooks": "Notebooks: wall time and peak memory",
}
PROFILES = ("quick", "class", "full")


# --------------------------------------------------------------------------- running sections


def run_section(name: str, args) -> dict:
    if name in ("training", "pipeline", "xla"):
        from benchmarks import training_speed as ts

        models = args.models.split(",") if args.models else None
        if name == "training":
            return ts.run_training(models, args.seconds, args.rounds, args.steps, args.jit)
        if name == "pipeline":
            return ts.run_pipeline(models or ts.PIPELINE_MODELS, args.seconds, args.rounds,
                                   args.steps, args.jit)
        return ts.run_xla(models or ts.XLA_MODELS, args.seconds, 2, args.steps)
    if name == "separable":
        from benchmarks import separable_speed

        return separable_speed.run(rounds=max(args.rounds, 5))
    if name == "accuracy":
        from benchmarks import time_to_accuracy

        return time_to_accuracy.run(args.results, args.runs)
    if name == "analysis":
        from benchmarks import analysis_speed

        return analysis_speed.run(analysis_speed.MODELS, repeat=3)
    if name == "widgets":
        from benchmarks import widget_latency

        return {"moves": args.moves,
                "widgets": widget_latency.main(["--moves", str(args.moves),
                                                "--leak-moves", str(args.leak_moves)]),
                "data_driven": sorted(widget_latency.DATA_DRIVEN)}
    raise ValueError(name)


def meta(start_load, started: float, tensorflow: bool, options: dict) -> dict:
    info = {"date": now(), "command": "python -m benchmarks " + " ".join(sys.argv[1:]),
            "machine": machine(), "load_start": start_load, "load_end": load_average(),
            "wall_s": round(time.perf_counter() - started, 1), "options": options}
    if tensorflow:
        info["software"] = software()
    return info


# --------------------------------------------------------------------------- the report


def _load(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _load_text(load) -> str:
    return " / ".join(f"{v:.2f}" for v in load) if load else "?"


def _meta_line(m: dict) -> str:
    mach = m.get("machine", {})
    sw = m.get("software")
    sw_text = f", TensorFlow {sw['tensorflow']} / Keras {sw['keras']}" if sw else ""
    return (f"_Measured {m.get('date', '?')} on {mach.get('cpu', '?')}, {mach.get('usable_cores', '?')} "
            f"cores{sw_text}; load average (1 / 5 / 15 min) {_load_text(m.get('load_start'))} at "
            f"start, {_load_text(m.get('load_end'))} at end; {m.get('wall_s', '?')} s._")


def _ok(sections: dict) -> dict:
    """The sections that have results (a failed run records an error and no results)."""
    return {k: v for k, v in sections.items() if k == "notebooks" or v.get("results")}


def _targets(sections: dict) -> list[str]:
    sections = _ok(sections)
    rows = ["| target | item | measured | status |", "| --- | --- | --- | --- |"]
    nb = sections.get("notebooks", {}).get("class")
    if nb:
        from benchmarks.notebooks_cost import current, memory_mb, target_status

        for name, r in current(nb["results"]["notebooks"]).items():
            what = ("kernel + workers, PSS" if r.get("notebook_pss_peak_mb")
                    else "kernel RSS, training in the kernel")
            rows.append(f"| class-profile notebook <= 10 min and < 2 GB | {name} | "
                        f"{r['wall_s'] / 60:.1f} min, {memory_mb(r):,} MB ({what}) | "
                        f"{target_status(r)} |")
    else:
        rows.append("| class-profile notebook <= 10 min and < 2 GB | every notebook | not measured yet "
                    "(`python -m benchmarks --only notebooks --profiles class`) | - |")
    tr = sections.get("training")
    if tr:
        for name, r in tr["results"]["models"].items():
            rows.append(f"| convviz pipeline / plain model.fit >= 1.0 (images/s) | {name} | "
                        f"{r['wall_ratio']:.3f} (rounds {spread(r.get('wall_round_ratios', []))}; "
                        f"per CPU-s {r['ratio']:.3f}) | {r['target']} |")
    else:
        rows.append("| convviz pipeline / plain model.fit >= 1.0 | every teaching model | not measured | - |")
    wd = sections.get("widgets")
    if wd:
        for name, r in wd["results"]["widgets"].items():
            if r.get("analytic"):
                rows.append(f"| analytic widget p95 < 100 ms | {name} | {r['p95_ms']:.0f} ms "
                            f"(CPU {r['cpu_p95_ms']:.0f} ms) | {'pass' if r['p95_ms'] < 100 else 'FAIL'} |")
        for name, r in wd["results"]["widgets"].items():
            if "rss_growth_mb" in r:
                rows.append(f"| widget memory growth over {r['leak_moves']:,} changes < 50 MB | {name} | "
                            f"{r['rss_growth_mb']:+.1f} MB | {'pass' if r['rss_growth_mb'] < 50 else 'FAIL'} |")
    else:
        rows.append("| analytic widget p95 < 100 ms | every analytic widget | not measured | - |")
    an = sections.get("analysis")
    if an:
        for name, r in an["results"]["models"].items():
            rows.append(f"| analysis < 1 s and < build | {name} | {r['analysis_s']:.3f} s vs build "
                        f"{r['build_s']:.2f} s | {'pass' if r['target'] == 'met' else 'FAIL'} |")
    return rows


def _findings(sections: dict) -> list[str]:
    """The training path, item by item, with the measured figures where there are some."""
    lines = []
    sections = _ok(sections)
    xla = sections.get("xla", {}).get("results", {}).get("models", {})
    pipe = sections.get("pipeline", {}).get("results", {}).get("models", {})
    sep = sections.get("separable", {}).get("results")
    if xla:
        figures = "; ".join(f"{n}: jit_compile=True gives x{m['xla_speedup']:.2f} the images/CPU-s "
                            f"of jit_compile=False (wall x{m['xla_wall_speedup']:.2f}), first epoch call "
                            f"{m['jit_true']['first_call_s']:.0f} s vs {m['jit_false']['first_call_s']:.0f} s"
                            for n, m in xla.items())
        auto = sorted({str(m["auto_resolves_to"]) for m in xla.values()})
        lines += [f"- **XLA** (`jit_compile`): `convviz.train` compiles with Keras' default "
                  f"`jit_compile=\"auto\"`, which resolved to {' / '.join(auto)} here (Keras "
                  f"turns XLA off on machines without a GPU). Measured, forcing it on: {figures}. "
                  f"So keep `\"auto\"`, never force `jit_compile=True` for CPU runs; on a GPU "
                  f"`\"auto\"` turns XLA on (not measured here)."]
        if sep and any("xla_time_ratio" in r for r in sep["layers"]):
            worst = max(sep["layers"], key=lambda r: r["xla_time_ratio"])
            lines[-1] += (f" Depthwise convolutions are the worst case: under XLA on this CPU a "
                          f"separable layer {'x'.join(map(str, worst['input']))} -> {worst['filters']} "
                          f"takes x{worst['xla_time_ratio']:.1f} the time of the standard one it "
                          f"replaces (TensorFlow's kernels: x{worst['tf_time_ratio']:.2f}; mult-adds "
                          f"x{worst['mult_adds_ratio']:.2f}).")
    bf16 = {n: m["bf16_speedup"] for n, m in xla.items() if "bf16_speedup" in m}
    if bf16:
        lines.append("- **mixed_bfloat16 on this CPU** (the CPU analogue of mixed precision): "
                     + ", ".join(f"{n} x{r:.2f}" for n, r in bf16.items())
                     + " the images/CPU-s of float32 (XLA section). It is no general win here "
                     "and changes the numerics, so the profiles stay float32.")
    for name, m in pipe.items():
        v = m["variants"]

        def ratio(key):
            return next((x["ratio"] for k, x in v.items() if k.startswith(key)), None)

        parts = {"as train() runs it": ratio("convviz as train"),
                 "without the progress callback": ratio("convviz without the progress"),
                 "without augmentation": ratio("convviz without augmentation"),
                 "with steps_per_execution=4": ratio("convviz with steps_per_execution"),
                 "with the previous pipeline": ratio("convviz's previous pipeline")}
        tuned = next((x for k, x in v.items() if k.startswith("convviz with tf.data's autotuner")), None)
        if tuned is not None and "cores_busy" in tuned:
            from benchmarks.training_speed import slow_calls

            now = next(x for k, x in v.items() if k.startswith("convviz as train"))
            plain = v[next(iter(v))]
            lines.append(
                f"- **tf.data's autotuner, {name}** (wall clock, same rounds): convviz as train() "
                f"runs it (autotuner off, fixed threads) x{now['wall_ratio']:.3f} the images/s of "
                f"plain `model.fit`, slow calls {slow_calls(now['cores_busy'])} of "
                f"{len(now['cores_busy'])}; with the autotuner on (the pipeline before) "
                f"x{tuned['wall_ratio']:.3f}, slow calls {slow_calls(tuned['cores_busy'])}; plain "
                f"`model.fit` (Keras' pipeline, autotuner on): slow calls "
                f"{slow_calls(plain['cores_busy'])}. A slow call keeps ~{median([c for c in tuned['cores_busy'] + plain['cores_busy'] if c < 1.4] or [float('nan')]):.1f} "
                f"cores busy instead of ~{median(now['cores_busy']):.1f}; the CPU time per image "
                f"does not change (CPU ratios x{ratio('convviz as train'):.3f} and "
                f"x{tuned['ratio']:.3f}).")
        alone = {k: x["images_per_cpu_s"] for k, x in v.items() if k.startswith("input pipeline alone")}
        today = next((x for k, x in alone.items() if "as today" in k), None)
        before = next((x for k, x in alone.items() if "previous" in k), None)
        text = ", ".join(f"{k} x{r:.3f}" for k, r in parts.items() if r is not None)
        line = (f"- **Pipeline parts, {name}** (images/CPU-s relative to plain `model.fit` on "
                f"numpy uint8, same rounds; per-round noise is a few per cent): {text}.")
        model_rate = v[next(iter(v))]["images_per_cpu_s"]  # the plain model.fit row
        if today:
            line += (f" The input pipeline alone (shuffle, batch, crop+flip, prefetch; no model) "
                     f"delivers {today:,.0f} images/CPU-s against the model's ~{model_rate:,.0f}: "
                     f"the whole input side is about {100 * model_rate / today:.1f}% of the "
                     f"training CPU.")
        compiled = next((x for k, x in alone.items() if "XLA-compiled" in k), None)
        bare = next((x for k, x in alone.items() if "no augmentation" in k), None)
        if today and compiled and bare:
            line += (f" The crop+flip XLA-compiled instead (not adopted): {compiled:,.0f} "
                     f"images/CPU-s for the whole input pipeline (x{compiled / today:.2f}; without "
                     f"augmentation {bare:,.0f}), i.e. the augmentation would cost "
                     f"{1e6 * (1 / compiled - 1 / bare):.1f} instead of "
                     f"{1e6 * (1 / today - 1 / bare):.1f} CPU-microseconds per image, "
                     f"{100 * model_rate * (1 / today - 1 / compiled):.1f}% of the training CPU, "
                     f"for about 40 MB more in every training process (XLA's compiler).")
        if today and before:
            line += (f" Before 2026-11-30's change (shuffle buffer of images, crop then flip: "
                     f"see below) the input pipeline delivered {before:,.0f} images/CPU-s: "
                     f"x{today / before:.2f} since, which saves about "
                     f"{100 * model_rate * (1 / before - 1 / today):.1f}% of the training CPU.")
        lines.append(line)
    tr = sections.get("training", {}).get("results", {}).get("models", {})
    if tr:
        from benchmarks.training_speed import CLASS_TRAIN_IMAGES, profile

        images = profile().epochs * CLASS_TRAIN_IMAGES
        cpu_min = {n: images / r["convviz_images_per_cpu_s"] / 60 for n, r in tr.items()}
        lo, hi = min(cpu_min, key=cpu_min.get), max(cpu_min, key=cpu_min.get)
        ratios = [r["ratio"] for r in tr.values()]
        walls = [r["wall_ratio"] for r in tr.values()]
        shares = [m["variants"][next(iter(m["variants"]))]["images_per_cpu_s"] / x["images_per_cpu_s"]
                  for m in pipe.values() for k, x in m["variants"].items() if "as today" in k]
        input_share = (f"pipeline section: the input side is {100 * max(shares):.1f}% of the "
                       f"training CPU or less" if shares else "pipeline section")
        busy = [c for r in tr.values() for c in r.get("cores_busy", [])]
        lines.append(
            f"- **convviz's pipeline against plain `model.fit`**: by the clock x{min(walls):.3f} "
            f"to x{max(walls):.3f} the images/s over the {len(tr)} teaching models (median "
            f"x{sorted(walls)[len(walls) // 2]:.3f}; {sum(w >= 1.0 for w in walls)} of {len(walls)} "
            f"at or above 1.0). By CPU time x{min(ratios):.3f} to x{max(ratios):.3f} (median "
            f"x{sorted(ratios)[len(ratios) // 2]:.3f}): the same work per image within the few per "
            f"cent the rounds scatter, augmentation included ({input_share}; the model's own "
            f"convolutions are the cost). The clock's gain is the idle core that tf.data's "
            f"autotuner leaves in Keras' pipeline (finding above).")
        lines.append(
            f"- **Class-profile budget on this machine**: one class-profile training costs "
            f"{cpu_min[lo]:.0f} ({lo}) to {cpu_min[hi]:.0f} ({hi}) CPU-minutes at the measured "
            f"rates (training table), i.e. about that many wall minutes divided by the "
            f"{f'~{median(busy):.1f}' if busy else '1-2'} cores a training call keeps busy here, "
            f"plus evaluation ({profile().epochs} epochs of "
            f"{CLASS_TRAIN_IMAGES:,} images). A notebook's trainings must sum to well under 10 "
            f"minutes of wall time on 2 cores; the notebook table measures whether they do.")
    from benchmarks.notebooks_cost import current

    nb = current(sections.get("notebooks", {}).get("class", {}).get("results", {}).get("notebooks", {}))
    isolated = {k: r for k, r in nb.items() if r.get("notebook_pss_peak_mb")}
    in_kernel = {k: r for k, r in nb.items() if not r.get("notebook_pss_peak_mb") and r["ok"]}
    if isolated:
        now = "; ".join(f"{k}: kernel {r['kernel_peak_mb']:,} MB, kernel + workers "
                        f"{r['notebook_pss_peak_mb']:,} MB" for k, r in isolated.items())
        before = "; ".join(f"{k} {r['kernel_peak_mb']:,} MB" for k, r in in_kernel.items())
        lines.append(
            "- **Memory: training in worker processes** (`convviz.isolation`, the class "
            "profile's default): TensorFlow keeps what it builds for each training for the life "
            "of its process, so a kernel that trained the models itself grew with every model. "
            f"Measured peaks (PSS for kernel + workers): {now}."
            + (f" Rows measured with training in the kernel (kernel RSS): {before}." if before else ""))
    lines += [
        "- **tf.data with prefetch and parallel augmentation**: `make_dataset` shuffles index "
        "batches, gathers each from the in-memory tensors and gives it one vectorised "
        "crop+flip, on a fixed number of threads (the usable cores, at most 4) with 2 batches "
        "prefetched and tf.data's autotuner off (see its finding); `cache()` would add nothing "
        "(the data are in-memory tensors).",
        "- **uint8 inputs scaled in the model**: already so (every teaching model starts with "
        "`Rescaling(1/255)`; batches travel as uint8, a quarter of float32).",
        "- **No Python work per batch**: the progress callback's `on_train_batch_end` is the only "
        "Python per batch (Keras then turns the logs into Python floats every step and cannot "
        "dispatch batches asynchronously); its cost is the 'without the progress callback' row.",
        "- **Mixed precision on GPUs** (no GPU here, so its speed is not measured): "
        "`python -m convviz.experiments run --profile full` builds every model under "
        "`mixed_float16` when a GPU is present (`convviz.experiments.precision_policy`; float16 "
        "convolutions, float32 weights, Keras scales the loss); every teaching model's `logits` "
        "layer computes in float32 for a stable softmax; the record's `config.precision` says "
        "which policy a run used. CPU runs stay float32 (see bfloat16 above).",
    ]
    return lines


RECOMMENDATION = """\
### The training path: what is proposed, what is done

1. **Done (2026-11-30): a cheaper input pipeline in `convviz.training.make_dataset`.** The
   flip is folded into the crop's column gather (`augment_batch`: the same random draws in the
   same order, so the same output under the same seed; one `tf.gather` and one `tf.where` over
   the whole batch fewer), and the pipeline shuffles and batches indices and gathers each batch
   from the arrays held once as tensors, as Keras does for numpy inputs (before: every image an
   element of a shuffle buffer as long as the data, i.e. a second copy of the training images).
   The previous pipeline is kept in `benchmarks/training_speed.py::previous_dataset` and measured
   beside today's in the pipeline section ("previous pipeline" rows and the finding above).

2. **Done (2026-11-30, later): tf.data's autotuner off in `make_dataset`**, with the map's
   parallelism (usable cores, at most 4) and the prefetch depth (2 batches) set explicitly.
   With the autotuner on, about half of the training calls on this 2-core machine kept one
   core idle and took 1.7x as long by the clock, at the same CPU time per image; Keras' own
   pipeline for numpy inputs (the plain `model.fit` here) still does. The pipeline as it was
   is kept in `benchmarks/training_speed.py::autotuned_dataset` and measured beside today's
   (pipeline section, "autotuner on" rows).

3. **Done: `convviz.training.compile_for_training`** is train()'s compile call, and the
   benchmarks compile through it (`training_speed.py::compile_like_train`), so they measure
   exactly what `train()` runs.

4. **Keep `jit_compile` at Keras' `"auto"`** (what `train()` does now): see the XLA section;
   forcing XLA on a CPU would cost far more than anything else measured here. No change.

Not worth changing (measured in the pipeline section, within the noise): `steps_per_execution`,
dropping the progress callback (its per-batch Python work is below the noise at these step
times), `cache()`. Measured and not adopted: the crop+flip XLA-compiled (the pipeline
section's "XLA-compiled" row): it doubles the input pipeline's images per CPU second, but the
input side is under 1 % of the training CPU, and loading XLA's compiler added about 40 MB to
every training process (816 vs 855-860 MB resident after one `fit` epoch of `baseline`, two
runs each), headroom the 2 GB notebooks need more."""


def render(report: dict) -> str:
    sections = report.get("sections", {})
    out = ["# convviz benchmarks", "",
           "Written by `python -m benchmarks` (`make benchmarks`); see `benchmarks/README.md`. "
           "Sections can be rerun on their own (`python -m benchmarks --only training,separable`, "
           "`python -m benchmarks --only notebooks --profiles class`); the others keep their last "
           "results from `report.json`. Timings come from a shared 2-core machine: compare the "
           "ratios (measured within one run, interleaved), not the absolute figures.",
           f"", f"Last updated {report.get('updated', '?')}.", ""]
    out += ["## Machine and load per section", "",
            "| section | measured (UTC) | CPU | cores | load average (1 / 5 / 15 min) at start | at end | wall s |",
            "| --- | --- | --- | ---: | --- | --- | ---: |"]
    for name in SECTIONS:
        entries = ([(f"notebooks ({p})", sections["notebooks"][p]["run"]) for p in PROFILES
                    if p in sections.get("notebooks", {})] if name == "notebooks"
                   else [(name, sections[name]["run"])] if name in sections else [])
        for label, m in entries:
            mach = m.get("machine", {})
            out.append(f"| {label} | {m.get('date', '?')} | {mach.get('cpu', '?')} | "
                       f"{mach.get('usable_cores', '?')} | {_load_text(m.get('load_start'))} | "
                       f"{_load_text(m.get('load_end'))} | {m.get('wall_s')} |")
    out += ["", "## Targets", ""] + _targets(sections)
    out += ["", "## The training path: what was measured, and what to change", ""] + _findings(sections)
    out += ["", RECOMMENDATION]
    from benchmarks import (analysis_speed, notebooks_cost, separable_speed, time_to_accuracy,
                            training_speed)

    renderers = {
        "training": training_speed.render_training, "pipeline": training_speed.render_pipeline,
        "xla": training_speed.render_xla,
        "separable": lambda r: separable_speed.render(r, sections.get("training", {}).get("results")),
        "accuracy": time_to_accuracy.render, "analysis": analysis_speed.render,
        "widgets": _render_widgets,
    }
    for name in SECTIONS:
        out += ["", f"## {TITLES[name]}", ""]
        if name == "notebooks":
            nb = sections.get("notebooks", {})
            if not nb:
                out.append("Not measured yet: `python -m benchmarks --only notebooks`.")
                continue
            merged = {p: {**nb[p]["results"], "run": nb[p]["run"]} for p in nb}
            out += notebooks_cost.render(merged)
            continue
        if name not in sections:
            out.append(f"Not measured yet: `python -m benchmarks --only {name}`.")
            continue
        s = sections[name]
        out += [_meta_line(s["run"]), ""]
        if "error" in s:
            out.append(f"**The section failed:** `{s['error']}`")
            continue
        out += renderers[name](s["results"])
    return "\n".join(out) + "\n"


def _render_widgets(res: dict) -> list[str]:
    lines = [f"`benchmarks/widget_latency.py`: each control moved through evenly spaced values, "
             f"{res['moves']} changes per widget; latency = the assignment that redraws the figure "
             "and encodes it to PNG (wall clock; CPU time beside it, which leaves out waiting for a "
             "core). Target: p95 < 100 ms for the analytic widgets (not the data-driven "
             f"{', '.join(res['data_driven'])}).", "",
             "| widget | kind | drawn | refused | p50 ms | p95 ms | CPU p50 ms | CPU p95 ms | target |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for name, r in res["widgets"].items():
        target = ("pass" if r["p95_ms"] < 100 else "FAIL") if r["analytic"] else "-"
        lines.append(f"| {name} | {'analytic' if r['analytic'] else 'data-driven'} | {r['drawn']} | "
                     f"{r['refused']} | {r['p50_ms']:.0f} | {r['p95_ms']:.0f} | {r['cpu_p50_ms']:.0f} | "
                     f"{r['cpu_p95_ms']:.0f} | {target} |")
    leaks = {n: r for n, r in res["widgets"].items() if "rss_growth_mb" in r}
    if leaks:
        lines += ["", "Memory: resident memory of the process before and after more control changes "
                  "(after a warm-up, garbage collected), target < 50 MB:", "",
                  "| widget | changes | memory growth MB | target |", "| --- | ---: | ---: | --- |"]
        lines += [f"| {n} | {r['leak_moves']:,} | {r['rss_growth_mb']:+.1f} | "
                  f"{'pass' if r['rss_growth_mb'] < 50 else 'FAIL'} |" for n, r in leaks.items()]
    return lines


# --------------------------------------------------------------------------- command line


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", default=",".join(SECTIONS),
                   help=f"comma-separated sections (default: all): {', '.join(SECTIONS)}")
    p.add_argument("--profiles", default="quick,class",
                   help="notebook profiles (default: quick,class; class takes many minutes per notebook)")
    p.add_argument("--models", default=None,
                   help="teaching models for training/pipeline/xla (default: all / baseline,mobilenet)")
    p.add_argument("--seconds", type=float, default=1.5,
                   help="CPU seconds per timed training call (default 1.5)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    p.add_argument("--steps", type=int, default=None,
                   help="fixed training steps per timed call instead of --seconds (e.g. 300)")
    p.add_argument("--jit", default="train", choices=("train", "false", "true", "auto"),
                   help="jit_compile of the training/pipeline sections (default: as train())")
    p.add_argument("--moves", type=int, default=60, help="control changes per widget")
    p.add_argument("--leak-moves", type=int, default=1000,
                   help="control changes of the widgets' memory check (0: skip)")
    p.add_argument("--cifar", default=None, help="CIFAR-10 copy for the notebooks (default: $CONVVIZ_CIFAR10)")
    p.add_argument("--timeout", type=int, default=3600, help="seconds per notebook")
    p.add_argument("--notebooks", default=None,
                   help="comma-separated notebook names (default: all); the others keep their last figures")
    p.add_argument("--save-outputs", action="store_true",
                   help="write each executed notebook, with its outputs, back over the committed one")
    p.add_argument("--keep-runs", default=None,
                   help="keep the notebooks' trained run folders here (<dir>/<profile>/<name>)")
    p.add_argument("--results", default=None, help="experiment records folder (default: results/)")
    p.add_argument("--runs", default=None, help="run folders (default: runs/)")
    p.add_argument("--out", default=str(HERE), help="where REPORT.md and report.json go")
    p.add_argument("--render", action="store_true", help="only rewrite REPORT.md from report.json")
    return p


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)
    only = [ALIASES.get(s.strip(), s.strip()) for s in args.only.split(",") if s.strip()]
    unknown = [s for s in only if s not in SECTIONS]
    if unknown or not only:
        parser.error(f"--only must name sections from {', '.join(SECTIONS)}; got {unknown or only}")
    profiles = [p.strip() for p in args.profiles.split(",") if p.strip()]
    if not profiles or any(p not in PROFILES for p in profiles):
        parser.error(f"--profiles must name profiles from {', '.join(PROFILES)}; got {args.profiles!r}")
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / "report.json", out_dir / "REPORT.md"
    report = _load(json_path)
    report.setdefault("sections", {})
    status = 0
    if not args.render:
        options = {k: v for k, v in vars(args).items()
                   if k not in ("out", "render", "only", "cifar", "results", "runs", "notebooks",
                                "save_outputs", "keep_runs")}
        for name in only:
            print(f"\n=== {name} ===", flush=True)
            if name == "notebooks":
                from benchmarks import notebooks_cost

                chosen = args.notebooks.split(",") if args.notebooks else None
                for profile in profiles:
                    load0, t0 = load_average(), time.perf_counter()
                    res = notebooks_cost.run([profile], chosen, timeout=args.timeout, cifar=args.cifar,
                                             save=args.save_outputs, keep_runs=args.keep_runs)[profile]
                    earlier = report["sections"].get("notebooks", {}).get(profile, {})
                    if chosen and earlier:  # a few notebooks: the others keep their last figures
                        kept = notebooks_cost.current(earlier.get("results", {}).get("notebooks", {}))
                        res["notebooks"] = {**kept, **res["notebooks"]}
                        res["notebooks"] = dict(sorted(res["notebooks"].items()))
                    report["sections"].setdefault("notebooks", {})[profile] = {
                        "run": meta(load0, t0, False, {"timeout": args.timeout}), "results": res}
                    _write(report, json_path, md_path)
                continue
            load0, t0 = load_average(), time.perf_counter()
            try:
                res, error = run_section(name, args), None
            except Exception as err:  # noqa: BLE001 - record it, go on with the next section
                traceback.print_exc()
                res, error, status = None, f"{type(err).__name__}: {err}", 1
            entry = {"run": meta(load0, t0, name not in ("accuracy", "widgets"), options),
                     "results": res}
            if error:
                entry["error"] = error
            report["sections"][name] = entry
            _write(report, json_path, md_path)
    _write(report, json_path, md_path)
    print(f"\nwrote {md_path} and {json_path}")
    return status


def _write(report: dict, json_path: Path, md_path: Path):
    report["updated"] = now()
    for path, text in ((json_path, json.dumps(report, indent=1)), (md_path, render(report))):
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text)
        os.replace(tmp, path)


if __name__ == "__main__":
    sys.exit(main())
