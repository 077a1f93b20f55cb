"""Browser fixtures: one real JupyterLab per session, one Chromium per session.

``lab``      a JupyterLab server on 127.0.0.1 (random free port, a token, a temporary root dir,
             runtime dir, settings dir and store; ``TOWERWIDGETS_STORE`` points its kernels at
             that store). ``lab.store()`` opens the same store in the test process.
``browser``  Debian's Chromium (``/usr/bin/chromium``) driven by Playwright, headless.
``page``     a fresh browser context and page per test (closed afterwards; on failure a
             screenshot lands in the session's temporary dir).
``notebook`` a factory: ``notebook(cells, run=True)`` writes a notebook into the lab's root,
             opens it in its own JupyterLab workspace and returns a ``labkit.Notebook`` with
             ``run_all()``, ``output(i)``, ``widget(selector)`` and ``kernel`` (a second client on
             the very kernel the page talks to: ``kernel.eval(expr)``,
             ``kernel.wait_for(expr)``). Its kernel is shut down after the test.
``theme``    parametrized "light", then "dark": JupyterLab's theme set before the test's
             notebook opens (light again afterwards).
``shot``     ``shot(locator, name)`` writes a README screenshot when
             ``$TOWERWIDGETS_SCREENSHOTS`` is set (e.g. to docs/screenshots).

Tests assert on the store or the kernel, not only on the page. A kernel-side wait says only
that Python changed; before acting on (or reading) the page, wait for the page to show it
(``expect(locator)…`` or ``page.wait_for_function``). Timeouts are generous: CI shares a
loaded 2-core machine. The machinery lives in ``labkit.py`` (``benchmarks/ui_latency.py``
uses it too).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

sys.path.insert(0, str(Path(__file__).resolve().parent))

from labkit import (
    CHROMIUM,
    THEMES,
    VIEWPORT,
    Kernel,
    KernelError,
    Lab,
    Notebook,
    launch_browser,
    save_screenshot,
    start_lab,
    stop_lab,
)

__all__ = ["Kernel", "KernelError", "Lab", "Notebook"]

# Playwright's waits (actions, locators, ``expect``): generous for a loaded CI machine.
DEFAULT_TIMEOUT_MS = 30_000
expect.set_options(timeout=DEFAULT_TIMEOUT_MS)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """One JupyterLab server for the whole session."""
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing; `make chromium` installs Debian's chromium")
    lab = start_lab(tmp_path_factory.mktemp("jupyterlab"))
    try:
        yield lab
    finally:
        stop_lab(lab)


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright_instance: Any, lab: Lab) -> Iterator[Any]:
    """Debian's Chromium, headless; one for the session."""
    browser = launch_browser(playwright_instance)
    try:
        yield browser
    finally:
        browser.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def page(
    browser: Any, lab: Lab, request: pytest.FixtureRequest, tmp_path_factory: Any
) -> Iterator[Any]:
    """A fresh context and page; on failure keeps a screenshot and shows the server's log."""
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.page_errors = errors  # type: ignore[attr-defined]
    try:
        yield page
    finally:
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            out = tmp_path_factory.getbasetemp() / "failures"
            out.mkdir(exist_ok=True)
            name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)[-120:]
            with contextlib.suppress(Exception):
                page.screenshot(path=str(out / f"{name}.png"), full_page=True)
                print(f"\nscreenshot of the failed page: {out / f'{name}.png'}")
            if errors:
                print("page errors:\n  " + "\n  ".join(errors))
            with contextlib.suppress(OSError):
                tail = lab.log_path.read_text(errors="replace").splitlines()[-25:]
                print("JupyterLab log (last lines):\n  " + "\n  ".join(tail))
        context.close()


@pytest.fixture
def notebook(lab: Lab, page: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """``notebook(cells, name=None, run=False)`` → an opened ``Notebook``."""
    opened: list[Notebook] = []
    # Each test gets its own store: tw.Store() in its notebooks and lab.store() open it.
    stem = re.sub(r"[^\w]+", "_", request.node.name)[:60]
    lab.use_store(lab.store_path.parent / f"{stem}.db")

    def factory(cells: list[str], name: str | None = None, run: bool = False) -> Notebook:
        path = name or f"{stem}_{len(opened)}.ipynb"
        lab.write_notebook(path, cells)
        nb = Notebook(lab, page, path).open()
        opened.append(nb)
        if run:
            nb.run_all()
        return nb

    try:
        yield factory
    finally:
        for nb in opened:
            nb.close()
        lab.use_store(None)


@pytest.fixture
def shot() -> Any:
    """``shot(page_or_locator, name)``: a README screenshot (see ``labkit.save_screenshot``)."""
    return save_screenshot


@pytest.fixture(params=list(THEMES))
def theme(request: pytest.FixtureRequest, lab: Lab) -> Iterator[str]:
    """JupyterLab's light, then dark theme (set before the notebook opens)."""
    lab.set_setting("@jupyterlab/apputils-extension:themes", {"theme": THEMES[request.param]})
    try:
        yield request.param
    finally:
        lab.set_setting("@jupyterlab/apputils-extension:themes", {"theme": THEMES["light"]})
