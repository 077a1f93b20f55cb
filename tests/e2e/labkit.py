"""A real JupyterLab driven by Playwright: the machinery behind the e2e fixtures
(``conftest.py``) and ``benchmarks/ui_latency.py``.

``start_lab(dir)`` starts JupyterLab on 127.0.0.1 (random free port, a token, a temporary
root, runtime, config and settings dir, and a temporary store for its kernels);
``launch_browser(playwright)`` starts Debian's Chromium headless; :class:`Notebook` opens a
notebook in its own workspace and runs it; :class:`Kernel` is a second client on the kernel
the page talks to, for reading values back.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("TOWERWIDGETS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
]
VIEWPORT = {"width": 1280, "height": 900}
# JupyterLab's two built-in themes, by the names the theme setting takes.
THEMES = {"light": "JupyterLab Light", "dark": "JupyterLab Dark"}
SERVER_START_TIMEOUT = 90.0
if str(REPO) not in sys.path:  # a source checkout without `pip install -e .`
    sys.path.append(str(REPO))
# JupyterLab's news/announcement toast and update check would cover widgets and call out.
DISABLED_EXTENSIONS = {
    "@jupyterlab/apputils-extension:announcements": True,
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ── the kernel behind a notebook ─────────────────────────────────────────────────────────


class KernelError(RuntimeError):
    """Code sent to the kernel raised; the message carries the kernel's exception."""


class Kernel:
    """A second client on the kernel the page talks to: run code, read values back.

    Requests queue behind whatever the notebook is running, so ``eval`` after ``run_all``
    also waits for the notebook's cells to finish.
    """

    def __init__(self, connection_file: Path) -> None:
        from jupyter_client import BlockingKernelClient

        self._client = BlockingKernelClient(connection_file=str(connection_file))
        self._client.load_connection_file()
        self._client.start_channels()
        self._client.wait_for_ready(timeout=120)

    def execute(self, code: str, timeout: float = 120.0, **expressions: str) -> dict[str, Any]:
        """Run ``code`` silently; return the named ``expressions`` evaluated afterwards."""
        msg_id = self._client.execute(
            code,
            silent=True,
            store_history=False,
            user_expressions={k: f"__import__('json').dumps({v})" for k, v in expressions.items()},
            allow_stdin=False,
        )
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"kernel did not answer within {timeout:.0f}s: {code[:80]!r}")
            reply = self._client.get_shell_msg(timeout=remaining)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        content = reply["content"]
        if content["status"] != "ok":
            raise KernelError(f"{content.get('ename')}: {content.get('evalue')}\n{code}")
        values = {}
        for name, result in content.get("user_expressions", {}).items():
            if result.get("status") != "ok":
                raise KernelError(f"{result.get('ename')}: {result.get('evalue')} in {name}")
            values[name] = json.loads(ast.literal_eval(result["data"]["text/plain"]))
        return values

    def eval(self, expression: str, timeout: float = 120.0) -> Any:
        """Evaluate one JSON-serialisable expression in the notebook's namespace."""
        return self.execute("", timeout=timeout, value=expression)["value"]

    def wait_for(self, expression: str, timeout: float = 60.0, interval: float = 0.2) -> Any:
        """Poll ``expression`` until it is truthy; return its value."""
        deadline = time.monotonic() + timeout
        value = None
        while time.monotonic() < deadline:
            value = self.eval(expression)
            if value:
                return value
            time.sleep(interval)
        raise TimeoutError(f"{expression!r} stayed falsy for {timeout:.0f}s (last: {value!r})")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._client.stop_channels()


# ── the server ───────────────────────────────────────────────────────────────────────────


@dataclass
class Lab:
    """A running JupyterLab: where it listens, its token, its dirs, its store."""

    url: str
    token: str
    root: Path
    runtime_dir: Path
    settings_dir: Path
    store_path: Path
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    _stores: list[Any] = field(default_factory=list)
    # The store of the running test (``use_store``); kernels started for it use this one.
    current_store: Path | None = None

    # REST
    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        import requests

        response = requests.request(
            method,
            f"{self.url}{path}",
            headers={"Authorization": f"token {self.token}"},
            timeout=30,
            **kwargs,
        )
        response.raise_for_status()
        return response.json() if response.content else None

    def page_url(self, path: str, workspace: str | None = None) -> str:
        """A URL that opens ``path`` (relative to the root) in its own, fresh workspace."""
        workspace = workspace or f"w{uuid.uuid4().hex[:10]}"
        return f"{self.url}/lab/workspaces/{workspace}/tree/{path}?reset&token={self.token}"

    # Files
    def write_notebook(self, name: str, cells: list[str], metadata: dict | None = None) -> Path:
        """Write a notebook of code cells (a cell starting with ``%md`` is Markdown)."""
        import nbformat

        nb = nbformat.v4.new_notebook()
        nb.metadata.update(
            {
                "kernelspec": {
                    "name": "python3",
                    "display_name": "Python 3 (ipykernel)",
                    "language": "python",
                },
                **(metadata or {}),
            }
        )
        for source in cells:
            if source.startswith("%md"):
                nb.cells.append(nbformat.v4.new_markdown_cell(source[3:].lstrip()))
            else:
                nb.cells.append(nbformat.v4.new_code_cell(source))
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
        return path

    # Kernels
    def session_for(self, path: str, timeout: float = 120.0) -> dict[str, Any]:
        """The server-side session (with its kernel) of the notebook at ``path``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for session in self.api("GET", "/api/sessions"):
                if session.get("path") == path and session.get("kernel"):
                    return session
            time.sleep(0.2)
        raise TimeoutError(f"no kernel session for {path} after {timeout:.0f}s")

    def wait_kernel_idle(self, kernel_id: str, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        state = None
        while time.monotonic() < deadline:
            state = self.api("GET", f"/api/kernels/{kernel_id}").get("execution_state")
            if state == "idle":
                return
            time.sleep(0.2)
        raise TimeoutError(f"kernel {kernel_id} not idle after {timeout:.0f}s (state {state})")

    def kernel(self, path: str) -> Kernel:
        session = self.session_for(path)
        kernel_id = session["kernel"]["id"]
        connection = self.runtime_dir / f"kernel-{kernel_id}.json"
        deadline = time.monotonic() + 60
        while not connection.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        return Kernel(connection)

    def shutdown_session(self, path: str) -> None:
        for session in self.api("GET", "/api/sessions"):
            if session.get("path") == path:
                with contextlib.suppress(Exception):
                    self.api("DELETE", f"/api/sessions/{session['id']}")

    # Settings (e.g. the theme) through JupyterLab's settings REST API
    def set_setting(self, plugin: str, values: dict[str, Any]) -> None:
        self.api("PUT", f"/lab/api/settings/{plugin}", json={"raw": json.dumps(values)})

    # The store the kernels write to
    def store(self) -> Any:
        """A Store on the lab's store file (opened in this test process)."""
        from towerwidgets.store import Store

        store = Store(self.current_store or self.store_path)
        self._stores.append(store)
        return store

    def use_store(self, path: Path | None) -> None:
        """Give the next notebooks (and ``store()``) their own store file; None: the lab's."""
        self.close_stores()
        self.current_store = path
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)

    def close_stores(self) -> None:
        while self._stores:
            with contextlib.suppress(Exception):
                self._stores.pop().close()


def start_lab(base: Path) -> Lab:
    root = base / "root"
    runtime = base / "runtime"
    config = base / "config"
    settings = base / "settings"
    workspaces = base / "workspaces"
    for path in (root, runtime, config / "labconfig", settings, workspaces):
        path.mkdir(parents=True, exist_ok=True)
    (config / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": DISABLED_EXTENSIONS})
    )
    store_path = base / "store" / "towerwidgets.db"
    store_path.parent.mkdir(parents=True, exist_ok=True)
    port = free_port()
    token = secrets.token_hex(24)
    env = {
        **os.environ,
        "TOWERWIDGETS_STORE": str(store_path),
        "JUPYTER_RUNTIME_DIR": str(runtime),
        "JUPYTER_CONFIG_DIR": str(config),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(workspaces),
        "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p),
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    }
    env.pop("JUPYTER_TOKEN", None)
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.allow_remote_access=False",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.news_url=None",
        "--ServerApp.terminals_enabled=False",
        "--MappingKernelManager.cull_idle_timeout=0",
        "--LabApp.extension_manager=readonly",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # CI containers run as root
        cmd.append("--allow-root")
    log_path = base / "jupyterlab.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    lab = Lab(
        url=f"http://127.0.0.1:{port}",
        token=token,
        root=root,
        runtime_dir=runtime,
        settings_dir=settings,
        store_path=store_path,
        log_path=log_path,
        process=process,
    )
    import requests

    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while True:
        if process.poll() is not None:
            raise RuntimeError(
                f"JupyterLab exited with {process.returncode}:\n{log_path.read_text()[-3000:]}"
            )
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{lab.url}/api/status?token={token}", timeout=2).ok:
                return lab
        if time.monotonic() > deadline:
            stop_lab(lab)
            raise TimeoutError(f"JupyterLab did not start:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.25)


def stop_lab(lab: Lab) -> None:
    lab.close_stores()
    process = lab.process
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(Exception):
        for session in lab.api("GET", "/api/sessions"):
            lab.api("DELETE", f"/api/sessions/{session['id']}")
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        # The server runs in its own session (start_new_session): end its group only.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def launch_browser(playwright: Any) -> Any:
    """Debian's Chromium, headless, with the flags a sandboxed CI container needs."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


# ── notebooks ────────────────────────────────────────────────────────────────────────────


class Notebook:
    """A notebook open in the page, with its kernel."""

    def __init__(self, lab: Lab, page: Any, path: str) -> None:
        self.lab = lab
        self.page = page
        self.path = path
        self._kernel: Kernel | None = None

    def open(self, workspace: str | None = None) -> Notebook:
        self.page.goto(self.lab.page_url(self.path, workspace))
        self.page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").first.wait_for(
            state="visible", timeout=120_000
        )
        session = self.lab.session_for(self.path)
        self.lab.wait_kernel_idle(session["kernel"]["id"])
        if self.lab.current_store is not None:  # before any cell runs: tw.Store() opens it
            self.kernel.execute(
                "import os as _os\n"
                f"_os.environ['TOWERWIDGETS_STORE'] = {str(self.lab.current_store)!r}\n"
                "del _os"
            )
        # The page shows the kernel as idle (ready to take cells) in its toolbar.
        self.page.locator(
            ".jp-NotebookPanel .jp-Notebook-ExecutionIndicator[data-status='idle']"
        ).first.wait_for(state="attached", timeout=120_000)
        return self

    @property
    def kernel(self) -> Kernel:
        if self._kernel is None:
            self._kernel = self.lab.kernel(self.path)
        return self._kernel

    def run_all(self) -> None:
        """Run → Run All Cells, through JupyterLab's menu."""
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        self.page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()

    def wait_done(self, timeout: float = 120.0) -> None:
        """Wait until every cell ran (the kernel answers only after the queued cells)."""
        self.kernel.eval("1", timeout=timeout)
        self.lab.wait_kernel_idle(self.lab.session_for(self.path)["kernel"]["id"], timeout)

    def output(self, index: int) -> Any:
        """The output area of the ``index``-th cell."""
        return (
            self.page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell")
            .nth(index)
            .locator(".jp-OutputArea")
        )

    def widget(self, selector: str, timeout: float = 60_000) -> Any:
        """A rendered widget (first match of ``selector`` in any output), once visible."""
        locator = self.page.locator(f".jp-OutputArea-output {selector}").first
        locator.wait_for(state="visible", timeout=timeout)
        return locator

    def close(self) -> None:
        if self._kernel is not None:
            self._kernel.close()
            self._kernel = None
        self.lab.shutdown_session(self.path)


# ── screenshots for the README ───────────────────────────────────────────────────────────


SCREENSHOTS_ENV = "TOWERWIDGETS_SCREENSHOTS"


def save_screenshot(target: Any, name: str, max_colors: int = 96) -> Path | None:
    """Write ``target`` (a page or locator) as ``<$TOWERWIDGETS_SCREENSHOTS>/<name>.png``.

    Only when the variable is set (``TOWERWIDGETS_SCREENSHOTS=docs/screenshots``), so an
    ordinary test run leaves the committed images alone. Images are palette-quantized to
    stay small in the repository.
    """
    folder = os.environ.get(SCREENSHOTS_ENV)
    if not folder:
        return None
    path = Path(folder) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page = getattr(target, "page", None)
    page = page if page is not None and not callable(page) else None
    size = page.viewport_size if page is not None else None
    if page is not None and size:
        # A tall widget must fit in JupyterLab's notebook area, or the shot shows its chrome.
        box = target.bounding_box() or {"height": 0}
        page.set_viewport_size({"width": size["width"], "height": int(box["height"]) + 400})
        target.scroll_into_view_if_needed()
        page.wait_for_timeout(200)
    try:
        png = target.screenshot(type="png", animations="disabled")
    finally:
        if page is not None and size:
            page.set_viewport_size(size)
    try:
        import io

        from PIL import Image

        image = Image.open(io.BytesIO(png)).convert("RGB")
        image = image.quantize(colors=max_colors, method=Image.Quantize.MEDIANCUT, dither=0)
        image.save(path, format="PNG", optimize=True)
    except ImportError:
        path.write_bytes(png)
    return path
