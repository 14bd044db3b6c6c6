"""The widgets in a real browser: JupyterLab through the README's lab command, Voila lecture
mode, and an exported HTML file opened from disk. Headless Chromium driven by Playwright.

Chromium: Debian's (``apt-get install chromium``) or any ``chromium``/``google-chrome`` on PATH;
``CONVVIZ_CHROMIUM`` names another. Screenshots go to ``build/screenshots/``.
"""
from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "build" / "screenshots"
LECTURE = ROOT / "notebooks" / "lecture.ipynb"
N_LECTURE_WIDGETS = 5
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
INSTALL_HINT = ("no Chromium for the browser tests: install it with `apt-get install chromium` "
                "(Debian/Ubuntu; `brew install --cask chromium` on macOS) or set CONVVIZ_CHROMIUM "
                "to a Chromium/Chrome executable")
# Console lines that mean a widget failed in the page.
WIDGET_ERROR = re.compile(r"widget|Error displaying|model[ _]id|\bcomm\b", re.I)


def find_chromium():
    for candidate in (os.environ.get("CONVVIZ_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser"), shutil.which("google-chrome")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="session")
def chromium_path():
    path = find_chromium()
    if path is None and hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        # Root with apt (a fresh CI machine): one bounded try, refreshing the package lists
        # first when they are empty, then skip with the hint.
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]
        with contextlib.suppress(subprocess.TimeoutExpired, OSError):
            if subprocess.run(install, capture_output=True, timeout=300, env=env).returncode:
                subprocess.run(["apt-get", "update"], capture_output=True, timeout=180, env=env)
                subprocess.run(install, capture_output=True, timeout=300, env=env)
        path = find_chromium()
    if path is None:
        pytest.skip(INSTALL_HINT)
    return path


@pytest.fixture(scope="session")
def browser(chromium_path, tmp_path_factory):
    """One headless Chromium for the session with a fresh profile; Playwright's own download is not used."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    SHOTS.mkdir(parents=True, exist_ok=True)
    for stale in SHOTS.glob("*_failure.png"):  # left by an earlier failing run
        stale.unlink()
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=chromium_path,
            headless=True, args=CHROMIUM_ARGS, viewport={"width": 1280, "height": 900})
        try:
            yield context
        finally:
            context.close()


class Console:
    """Errors a page logs: console.error lines and uncaught exceptions."""

    def __init__(self, page):
        self.errors = []
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))

    def widget_errors(self):
        return [e for e in self.errors if WIDGET_ERROR.search(e)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, proc, log, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited with {proc.returncode} before answering:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:  # it answers, if only to say no
            return
        except OSError:
            pass
        time.sleep(0.3)
    pytest.fail(f"no answer from {url} within {timeout} s:\n{log.read_text()[-3000:]}")


def pids_mentioning(text) -> list[int]:
    """Processes whose command line holds ``text`` (this test's own folder): its kernels."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if text.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
    return found


@contextlib.contextmanager
def server(cmd, url, tmp, env=None, timeout=90):
    """Run ``cmd`` from the repo root in its own process group until ``url`` answers; always killed.

    Jupyter state (runtime files, config, lab settings) lives under ``tmp``, so the user's own
    config does not apply and the kernels started for the test can be found and ended.
    """
    runtime = tmp / "runtime"
    runtime.mkdir()
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(runtime), "JUPYTER_CONFIG_DIR": str(tmp / "config"),
           **(env or {})}
    env.pop("CONVVIZ_PROFILE", None)
    log = tmp / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_http(url, proc, log, timeout)
        yield log
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        # Kernels run in their own sessions; a server killed hard leaves them: end them by id.
        for pid in pids_mentioning(str(runtime)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def image_bytes(page, img) -> bytes:
    """The bytes behind an <img> (a blob: or data: URL), fetched inside the page."""
    b64 = img.evaluate("""async (el) => {
        const buf = await (await fetch(el.src)).arrayBuffer();
        let s = ""; new Uint8Array(buf).forEach((b) => { s += String.fromCharCode(b); });
        return btoa(s);
    }""")
    return base64.b64decode(b64)


def wait_changed(page, img, before_src, timeout_ms=30_000):
    page.wait_for_function("([el, src]) => el.src && el.src !== src", arg=[img.element_handle(), before_src],
                           timeout=timeout_ms)


def step_slider(page, widget, index):
    """Press ArrowRight on the ``index``-th slider handle of ``widget`` (ipywidgets' noUiSlider)."""
    handle = widget.locator(".noUi-handle").nth(index)
    handle.scroll_into_view_if_needed()
    handle.focus()
    page.keyboard.press("ArrowRight")


def check_no_error_outputs(page):
    stderr = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
    texts = stderr.all_inner_texts()
    assert not [t for t in texts if re.search(r"Traceback|Error", t)], texts
    body = page.locator("body").inner_text()
    assert "Error displaying widget" not in body


@pytest.fixture
def lecture_untouched():
    """Running the notebook in the browser must not write it back (autosave is off in the test).

    Opening a notebook makes Jupyter save a first checkpoint; the folder is removed again when
    the test created it.
    """
    before = LECTURE.read_bytes()
    checkpoints = LECTURE.parent / ".ipynb_checkpoints"
    existed = checkpoints.exists()
    yield
    if not existed:
        shutil.rmtree(checkpoints, ignore_errors=True)
    assert LECTURE.read_bytes() == before, "the browser test modified notebooks/lecture.ipynb"


def test_jupyterlab_runs_the_lecture_and_a_slider_redraws(browser, tmp_path, lecture_untouched):
    port, token = free_port(), secrets.token_hex(16)
    settings = tmp_path / "lab-settings"
    lab_settings = {"@jupyterlab/docmanager-extension/plugin": {"autosave": False},
                    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false",
                                                                     "checkForUpdates": False}}
    for plugin, values in lab_settings.items():
        file = settings / f"{plugin}.jupyterlab-settings"
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(json.dumps(values))
    lab_args = (f"--no-browser --ServerApp.ip=127.0.0.1 --IdentityProvider.token={token} "
                "--ServerApp.port_retries=0")
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers, CI: the server refuses root otherwise
        lab_args += " --allow-root"
    cmd = ["make", "--no-print-directory", "lab", f"PORT={port}", f"LAB_ARGS={lab_args}"]
    env = {"JUPYTERLAB_SETTINGS_DIR": str(settings), "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "ws")}
    base = f"http://127.0.0.1:{port}"
    with server(cmd, f"{base}/api/status?token={token}", tmp_path, env=env):
        page = browser.new_page()
        console = Console(page)
        try:
            page.goto(f"{base}/lab/tree/{LECTURE.name}?token={token}", timeout=60_000)
            page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=60_000)
            # Run only once the kernel is up: earlier, Lab asks which kernel to start.
            page.locator(".jp-StatusBar-Widget", has_text=re.compile(r"Python 3.*\|\s*Idle")).first.wait_for(
                timeout=60_000)
            page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
            page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
            page.wait_for_function(f"document.querySelectorAll('.jp-OutputArea-output img.widget-image[src]')"
                                   f".length >= {N_LECTURE_WIDGETS}", timeout=90_000)
            page.screenshot(path=str(SHOTS / "lab_before.png"))
            widget = page.locator(".jp-OutputArea-output .widget-vbox").filter(
                has=page.locator("img.widget-image")).first
            img = widget.locator("img.widget-image")
            readout = widget.locator(".widget-readout").first
            before_src, before_value = img.get_attribute("src"), readout.inner_text()
            before = image_bytes(page, img)
            step_slider(page, widget, 0)
            wait_changed(page, img, before_src)
            assert readout.inner_text() == str(int(before_value) + 1)
            after = image_bytes(page, img)
            assert after[:8] == b"\x89PNG\r\n\x1a\n" and after != before
            page.screenshot(path=str(SHOTS / "lab_after.png"))
            check_no_error_outputs(page)
            assert console.widget_errors() == [], console.errors
        except Exception:
            page.screenshot(path=str(SHOTS / "lab_failure.png"))
            raise
        finally:
            page.close()


def test_voila_lecture_mode_redraws_on_a_control(browser, tmp_path, lecture_untouched):
    port = free_port()
    cmd = [str(ROOT / ".venv" / "bin" / "voila"), str(LECTURE.relative_to(ROOT)), "--no-browser",
           f"--port={port}", "--Voila.ip=127.0.0.1", "--Voila.port_retries=0"]
    if not Path(cmd[0]).exists():
        cmd[0] = shutil.which("voila") or pytest.skip("voila is not installed (pip install voila)")
    base = f"http://127.0.0.1:{port}"
    with server(cmd, f"{base}/voila/static/", tmp_path):
        page = browser.new_page()
        console = Console(page)
        try:
            page.goto(base + "/", timeout=90_000)
            page.wait_for_function("document.querySelectorAll('img.widget-image[src]').length >= "
                                   f"{N_LECTURE_WIDGETS}", timeout=90_000)
            assert "PROFILE" not in page.locator("body").inner_text()  # lecture mode: no code
            widget = page.locator(".widget-vbox").filter(has=page.locator("img.widget-image")).nth(2)
            img = widget.locator("img.widget-image")
            before_src = img.get_attribute("src")
            before = image_bytes(page, img)
            step_slider(page, widget, 2)  # extreme Inception: kernel 3 -> 4
            wait_changed(page, img, before_src)
            assert image_bytes(page, img) != before
            img.scroll_into_view_if_needed()
            page.screenshot(path=str(SHOTS / "voila.png"))
            check_no_error_outputs(page)
            assert console.widget_errors() == [], console.errors
        except Exception:
            page.screenshot(path=str(SHOTS / "voila_failure.png"))
            raise
        finally:
            page.close()


def test_exported_html_from_disk_switches_pictures(browser, tmp_path):
    from convviz import export, widgets

    out = export.export_html(widgets.segment_diagram_widget(), tmp_path / "segments.html",
                             grid={"channels": [16], "segments": [1, 2, 4, 8, 16, 32], "kernel_size": [3, 5]},
                             title="Segments")
    tables = {"MobileNet": {"Conv 1x1": (0.95, 0.75), "Fully connected": (0.05, 0.25)},
              "other": {"Conv 3x3": (0.8, 0.5), "Fully connected": (0.2, 0.5)}}
    dropdown = export.export_html(widgets.layer_costs_widget(tables), tmp_path / "tables.html")
    page = browser.new_page()
    console = Console(page)
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    try:
        page.goto(out.as_uri())
        img, message = page.locator("img.figure"), page.locator(".message")
        img.wait_for(state="visible", timeout=10_000)
        assert page.locator("[data-control=segments] + datalist + output").inner_text() == "4"
        src = img.get_attribute("src")
        # The keyboard steps from one exported value to the next: 4 -> 8 (5, 6, 7 were not exported).
        page.locator("input[name=segments]").focus()
        page.keyboard.press("ArrowRight")
        wait_changed(page, img, src)
        assert page.locator("input[name=segments]").input_value() == "8"
        assert page.locator("#convviz").get_attribute("data-state") == "0,3,0"
        page.screenshot(path=str(SHOTS / "export_html.png"))
        # Dragging or typing anywhere lands on the nearest exported value.
        page.locator("input[name=segments]").fill("30")
        assert page.locator("input[name=segments]").input_value() == "32"
        assert img.is_hidden() and "32" in message.inner_text() and "16" in message.inner_text()
        page.screenshot(path=str(SHOTS / "export_html_refused.png"))
        page.locator("input[name=segments]").fill("2")
        page.locator("input[name=kernel_size]").fill("5")
        img.wait_for(state="visible")
        assert message.inner_text() == "" and page.locator("#convviz").get_attribute("data-state") == "0,1,1"
        assert page.locator("input[name=channels]").is_disabled()

        page.goto(dropdown.as_uri())
        img = page.locator("img.figure")
        src = img.get_attribute("src")
        page.locator("select[name=model]").select_option(label="other")
        wait_changed(page, img, src)
        assert all(u.startswith(("file:", "data:")) for u in requests), requests
        assert console.errors == []
    except Exception:
        page.screenshot(path=str(SHOTS / "export_html_failure.png"))
        raise
    finally:
        page.close()
