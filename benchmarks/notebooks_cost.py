"""Wall time and peak memory of every notebook, run top to bottom in a given profile.

Each notebook is copied to a temporary folder and executed there by ``convviz.notebooks.run``
(nbclient, a fresh kernel, working directory ``notebooks/`` as in the tests) in a child
process, with ``CONVVIZ_PROFILE`` set and ``CONVVIZ_RUNS`` pointing to a fresh temporary
folder (no resuming from earlier checkpoints). A thread polls, every 0.1 s, the resident
memory (RSS) of the kernel process and of the whole process tree with psutil, and every 1 s
the proportional set size (PSS) of the kernel plus the training workers it starts
(:mod:`convviz.isolation`): PSS counts a page shared between processes (TensorFlow's
libraries, the memory-mapped images) once in all, as a container's memory limit does, where
summing RSS would count it in each process. The peaks are reported. The committed notebooks
are not touched.

Targets (class profile, 2 cores): at most 10 minutes, and under 2 GB of peak notebook memory
(kernel + workers, PSS).

    python -m benchmarks.notebooks_cost [--profiles quick] [--notebooks 00_cifar10.ipynb] [--timeout 3600]

The class profile trains on all 50,000 CIFAR-10 images: point ``CONVVIZ_CIFAR10`` (or
``--cifar``) at the full copy, and expect many minutes per notebook.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks import ROOT

TARGET_SECONDS = 600
TARGET_BYTES = 2 * 1024**3
RUNNER = ("import sys; from convviz.notebooks import run; "
          "run(sys.argv[1], profile=sys.argv[2], timeout=int(sys.argv[3]), cwd=sys.argv[4], "
          "timings=sys.argv[5])")


class PeakMemory(threading.Thread):
    """Polls the RSS of a process tree: the kernel (an ipykernel child) and the whole tree."""

    def __init__(self, pid: int, interval: float = 0.1, pss_every: int = 10):
        super().__init__(daemon=True)
        self.pid, self.interval, self.pss_every = pid, interval, pss_every
        self.kernel_peak = self.tree_peak = self.notebook_pss_peak = 0
        self.kernel_cpu: dict[int, float] = {}  # pid -> last seen user + system CPU seconds
        self.done = threading.Event()

    def run(self):
        import psutil

        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        tick = 0
        while not self.done.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                break
            tree = kernel = 0
            notebook = []  # the kernel and its descendants (training workers)
            for p in procs:
                try:
                    rss = p.memory_info().rss
                    tree += rss
                    if p.pid != self.pid and "ipykernel" in " ".join(p.cmdline()):
                        kernel += rss
                        notebook += [p, *p.children(recursive=True)]
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    pass
            for p in notebook:
                try:
                    t = p.cpu_times()
                    self.kernel_cpu[p.pid] = t.user + t.system
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    pass
            if tick % self.pss_every == 0:
                pss = 0
                for p in notebook:
                    try:
                        pss += p.memory_full_info().pss
                    except (psutil.NoSuchProcess, psutil.AccessDenied):
                        pass
                self.notebook_pss_peak = max(self.notebook_pss_peak, pss)
            tick += 1
            self.kernel_peak, self.tree_peak = max(self.kernel_peak, kernel), max(self.tree_peak, tree)
            self.done.wait(self.interval)


def cifar_size(path) -> int | None:
    """Training images in the CIFAR-10 copy that ``path`` (or CONVVIZ_CIFAR10) names."""
    try:
        from convviz.data import load_cifar10

        return len(load_cifar10(path=path, download=False).y_train)
    except Exception:  # noqa: BLE001 - reported as unknown
        return None


def _replace_tree(src: Path, dest: Path):
    """Copy folder ``src`` to ``dest`` under a temporary name, then swap it in."""
    tmp = dest.with_name(f".{dest.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(src, tmp)
    old = dest.with_name(f".{dest.name}.old")
    if dest.exists():
        os.replace(dest, old)
    os.replace(tmp, dest)
    shutil.rmtree(old, ignore_errors=True)


def run_notebook(path: Path, profile: str, timeout: int, env: dict, save: bool = False,
                 keep_runs: Path | None = None) -> dict:
    """Execute ``path`` in ``profile``; measure wall time, kernel CPU and peak memory.

    ``save``: on success, the executed copy (with its outputs, cleaned) replaces ``path``, so
    one run both measures a notebook and refreshes its committed outputs. ``keep_runs``: on
    success, the run folders it trained go to ``keep_runs/<profile>/<name>`` (for
    ``python -m convviz.experiments run --runs-dir``, which then loads them instead of training).
    """
    date = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
    load0 = os.getloadavg() if hasattr(os, "getloadavg") else None
    with tempfile.TemporaryDirectory(prefix="convviz-bench-") as tmp:
        copy = Path(tmp) / path.name
        shutil.copy(path, copy)
        env = {**env, "CONVVIZ_PROFILE": profile, "CONVVIZ_RUNS": str(Path(tmp) / "runs"),
               "MPLBACKEND": "Agg"}
        start = time.perf_counter()
        timings = Path(tmp) / "cells.json"
        proc = subprocess.Popen([sys.executable, "-c", RUNNER, str(copy), profile, str(timeout),
                                 str(ROOT / "notebooks"), str(timings)], env=env, cwd=str(ROOT),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        poll = PeakMemory(proc.pid)
        poll.start()
        try:
            output, _ = proc.communicate(timeout=timeout + 120)
        except subprocess.TimeoutExpired:
            proc.kill()
            output, _ = proc.communicate()
        wall = time.perf_counter() - start
        poll.done.set()
        poll.join()
        ok = proc.returncode == 0
        cells = json.loads(timings.read_text()) if ok and timings.is_file() else []
        if ok and save:
            staged = path.with_name(f".{path.name}.tmp")
            shutil.copy(copy, staged)
            os.replace(staged, path)
        trained = Path(tmp) / "runs" / profile
        if ok and keep_runs is not None and trained.is_dir():
            for folder in sorted(trained.iterdir()):
                (Path(keep_runs) / profile).mkdir(parents=True, exist_ok=True)
                _replace_tree(folder, Path(keep_runs) / profile / folder.name)
    load = [round(v, 2) for v in load0] if load0 else None
    return {"date": date, "load_start": load, "saved": bool(ok and save), "wall_s": round(wall, 1), "kernel_cpu_s": round(sum(poll.kernel_cpu.values()), 1),
            "kernel_peak_mb": round(poll.kernel_peak / 2**20),
            "tree_peak_mb": round(poll.tree_peak / 2**20),
            "notebook_pss_peak_mb": round(poll.notebook_pss_peak / 2**20), "ok": ok,
            "cells": cells,
            "error": None if ok else output.strip().splitlines()[-1][:300] if output.strip() else
            f"exit status {proc.returncode}"}


def current(rows: dict) -> dict:
    """The rows of notebooks that still exist under ``notebooks/`` (not renamed or removed
    since they were measured)."""
    return {name: r for name, r in rows.items() if (ROOT / "notebooks" / name).is_file()}


def memory_mb(row: dict) -> int:
    """The memory a notebook needs: kernel + workers (PSS) where measured; rows from before the
    training workers existed have only the kernel's RSS, which then was all of it."""
    return row.get("notebook_pss_peak_mb") or row["kernel_peak_mb"]


def slowest_cell(row: dict) -> str:
    """The code cell that took longest, e.g. ``4.1 min (cell 17: results = {})``; ``-`` for
    rows measured before cell times were recorded."""
    if not row.get("cells"):
        return "-"
    index, seconds, first = max(row["cells"], key=lambda c: c[1])
    first = first.replace("|", "\\|").replace("`", "")
    return f"{seconds / 60:.1f} min (cell {index}: `{first[:48]}`)"


def target_status(row: dict) -> str:
    """``pass`` or ``FAIL``, saying which of the two limits a failing notebook missed."""
    if not row["ok"]:
        return "FAIL (did not run through)"
    missed = [what for what, ok in (("time", row["wall_s"] <= TARGET_SECONDS),
                                    ("memory", memory_mb(row) * 2**20 < TARGET_BYTES)) if not ok]
    return "pass" if not missed else f"FAIL ({' and '.join(missed)})"


def run(profiles=("quick",), notebooks=None, timeout: int = 3600, cifar=None, log=print,
        save: bool = False, keep_runs=None) -> dict:
    paths = sorted((ROOT / "notebooks").glob("*.ipynb"))
    if notebooks:
        wanted = set(notebooks)
        paths = [p for p in paths if p.name in wanted or p.stem in wanted]
    env = dict(os.environ)
    if cifar:
        env["CONVVIZ_CIFAR10"] = str(cifar)
    n_train = cifar_size(cifar)
    out = {}
    for profile in profiles:
        rows = {}
        for path in paths:
            log(f"{profile}: running {path.name} ...")
            r = run_notebook(path, profile, timeout, env, save=save, keep_runs=keep_runs)
            if profile == "class":
                r["target"] = target_status(r)
            rows[path.name] = r
            log(f"{profile}: {path.name}: {'ok' if r['ok'] else 'FAILED'} {r['wall_s']:.0f} s "
                f"(kernel CPU {r['kernel_cpu_s']:.0f} s), "
                f"kernel peak {r['kernel_peak_mb']} MB, tree peak {r['tree_peak_mb']} MB, "
                f"notebook (kernel + workers, PSS) peak {r['notebook_pss_peak_mb']} MB"
                + (f" ({r['error']})" if r["error"] else ""))
        out[profile] = {"notebooks": rows, "cifar_train_images": n_train}
    return out


def render(res: dict) -> list[str]:
    lines = ["Each notebook copied to a temporary folder and executed top to bottom on a fresh "
             "kernel (`convviz.notebooks.run`, working directory `notebooks/`), fresh `CONVVIZ_RUNS` "
             "(no resuming). Peak memory: RSS of the kernel process, and of the whole process tree "
             "(runner + kernel + training workers), polled every 0.1 s; notebook = PSS of the kernel "
             "and its training workers (`convviz.isolation`) summed, polled every 1 s: each shared "
             "page counted once, as a container's memory limit counts it. Kernel CPU = user + "
             "system seconds of the kernel and its workers "
             "(all threads; less sensitive to a busy machine than the wall time, which "
             "also counts waiting for a core). Class-profile target: <= 10 min (wall) and < 2 GB "
             "(notebook; for rows measured before training moved to workers, the kernel's RSS, "
             "which then held everything). Slowest cell: from the execution times nbclient records per "
             "cell (each training cell should also stay within 10 minutes)."]
    for profile in ("quick", "class", "full"):
        if profile not in res:
            continue
        entry = res[profile]
        meta = entry.get("run", {})
        n = entry.get("cifar_train_images")
        warn = ""
        if profile != "quick" and n is not None and n < 50000:
            warn = (f" **Warning: the CIFAR-10 copy had only {n:,} training images, so this is "
                    "not the real class budget.**")
        load = " -> ".join(" / ".join(f"{v:.2f}" for v in meta.get(k) or []) or "?"
                           for k in ("load_start", "load_end"))
        lines += ["", f"**Profile `{profile}`** (measured {meta.get('date', '?')}, load average "
                  f"{load}; CIFAR-10 "
                  f"training images available: {n if n is None else f'{n:,}'}).{warn}", "",
                  "| notebook | measured (UTC) | load at start | ran | wall time | kernel CPU s | "
                  "kernel peak MB | process tree peak MB | notebook peak MB (kernel + workers, PSS) | "
                  "slowest cell |" + (" target |" if profile == "class" else ""),
                  "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"
                  + (" --- |" if profile == "class" else "")]
        for name, r in current(entry["notebooks"]).items():
            ran = "ok" if r["ok"] else f"FAILED: {r['error']}"
            cpu = f"{r['kernel_cpu_s']:,.0f}" if r.get("kernel_cpu_s") is not None else "-"
            when = r.get("date", meta.get("date", "?"))
            at = " / ".join(f"{v:.2f}" for v in r["load_start"]) if r.get("load_start") else "?"
            pss = f"{r['notebook_pss_peak_mb']:,}" if r.get("notebook_pss_peak_mb") else "-"
            lines.append(f"| {name} | {when} | {at} | {ran} | {r['wall_s'] / 60:.1f} min ({r['wall_s']:.0f} s) | "
                         f"{cpu} | {r['kernel_peak_mb']:,} | {r['tree_peak_mb']:,} | {pss} | "
                         f"{slowest_cell(r)} |"
                         + (f" {target_status(r)} |" if profile == "class" else ""))
    if "class" not in res:
        lines += ["", "**Class profile not measured yet**: `CONVVIZ_CIFAR10=/path/to/full/"
                  "cifar-10-batches-py python -m benchmarks --only notebooks --profiles class` "
                  "(many minutes per notebook)."]
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", default="quick")
    parser.add_argument("--notebooks", default=None, help="comma-separated file names")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per notebook")
    parser.add_argument("--cifar", default=None, help="CIFAR-10 copy (default: $CONVVIZ_CIFAR10)")
    parser.add_argument("--save-outputs", action="store_true",
                        help="write each executed notebook (with its outputs) back over the original")
    parser.add_argument("--keep-runs", default=None, help="keep the trained run folders here")
    args = parser.parse_args(argv)
    res = run([p.strip() for p in args.profiles.split(",")],
              args.notebooks.split(",") if args.notebooks else None, args.timeout, args.cifar,
              save=args.save_outputs, keep_runs=args.keep_runs)
    print("\n".join(render(res)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
