"""The notebook benchmark's accounting: what it counts as a notebook's memory, and its verdicts."""
import subprocess
import sys
import textwrap
import time

import pytest

psutil = pytest.importorskip("psutil")

from benchmarks.notebooks_cost import (TARGET_BYTES, PeakMemory, memory_mb, slowest_cell,
                                       target_status)


def _row(**kw):
    return {"ok": True, "wall_s": 300.0, "kernel_peak_mb": 900, "tree_peak_mb": 2500,
            "notebook_pss_peak_mb": 1500, **kw}


def test_verdicts_name_the_limit_missed():
    assert target_status(_row()) == "pass"
    assert target_status(_row(wall_s=601)) == "FAIL (time)"
    assert target_status(_row(notebook_pss_peak_mb=2048)) == "FAIL (memory)"
    assert target_status(_row(wall_s=900, notebook_pss_peak_mb=3000)) == "FAIL (time and memory)"
    assert target_status(_row(ok=False)) == "FAIL (did not run through)"
    # the notebook's memory is kernel + workers where measured, else the kernel's own
    assert memory_mb(_row()) == 1500
    assert memory_mb(_row(notebook_pss_peak_mb=None)) == 900
    assert TARGET_BYTES == 2 * 1024**3


def test_the_slowest_cell_is_named_in_a_markdown_safe_way():
    cells = [[3, 12.0, "import convviz"], [17, 301.5, "x = a | b  # `code`"], [18, 2.0, "plot()"]]
    assert slowest_cell(_row(cells=cells)) == "5.0 min (cell 17: `x = a \\| b  # code`)"
    assert slowest_cell(_row()) == "-"  # rows measured before cell times were recorded


def test_a_workers_memory_counts_as_the_notebooks():
    """A stand-in kernel (its command line names ipykernel) starts a worker holding 300 MB:
    the worker's memory is in the notebook's peak, not in the kernel's."""
    worker = "import time; b = bytearray(300 * 2**20); b[::4096] = b'x' * len(b[::4096]); time.sleep(4)"
    kernel = textwrap.dedent(f"""
        # ipykernel stand-in
        import subprocess, sys
        subprocess.run([sys.executable, "-c", {worker!r}])
    """)
    runner = subprocess.Popen([sys.executable, "-c", f"import subprocess, sys; "
                               f"subprocess.run([sys.executable, '-c', {kernel!r}])"])
    poll = PeakMemory(runner.pid, interval=0.1, pss_every=2)
    poll.start()
    runner.wait(timeout=60)
    time.sleep(0.3)
    poll.done.set()
    poll.join()
    assert poll.notebook_pss_peak > 300 * 2**20
    assert poll.kernel_peak < 150 * 2**20  # the stand-in kernel itself is a bare interpreter
    assert poll.tree_peak > 300 * 2**20
