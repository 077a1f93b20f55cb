"""Pre-warm: start the spare worker when a quick test becomes likely, not when it starts.

The first quick test of a kernel otherwise waits for a fresh worker to import TensorFlow,
tensorflow-transform and Beam (seconds). A notebook that shows a ``QuickTestPanel`` is
about to run one, so the panel calls :func:`prewarm_on_display`: the kernel's one spare
worker (``LocalBackend``'s) starts importing while the user reads the panel, and the first
test finds it warm. Bounded like any spare: at most one per kernel, none when memory is
short, imported at low CPU priority, and gone after ``idle_timeout`` seconds unused.

Off with ``TOWERWIDGETS_PREWARM=0``. Nothing here runs at ``import towerwidgets``; outside
a Jupyter kernel (scripts, tests) the display hook does nothing, since there is no panel a
person is looking at.
"""

from __future__ import annotations

import os
import sys
import threading

__all__ = ["PREWARM_ENV", "prewarm", "prewarm_enabled", "prewarm_on_display"]

PREWARM_ENV = "TOWERWIDGETS_PREWARM"
_OFF = ("0", "false", "no", "off")
_lock = threading.Lock()
_displayed = False  # the display hook fired in this process


def prewarm_enabled() -> bool:
    """False when ``TOWERWIDGETS_PREWARM`` says off (0/false/no/off)."""
    return os.environ.get(PREWARM_ENV, "1").strip().lower() not in _OFF


def prewarm(idle_timeout: float = 600.0, nice: int = 10) -> int | None:
    """Start the spare worker now (unless one is alive, memory is short, or pre-warm is
    off) and return its pid, or None. Never blocks on the import."""
    if not prewarm_enabled():
        return None
    from towerwidgets.runner.backends import LocalBackend

    backend = LocalBackend(idle_timeout=idle_timeout, warm_nice=nice)
    backend.prewarm(beside_a_test=nice > 0)  # niced: nobody is waiting for it yet
    return LocalBackend.spare_pid()


def _in_kernel() -> bool:
    """A Jupyter kernel is running this process (not a script or a test run)."""
    if "ipykernel" not in sys.modules:
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def prewarm_on_display(force: bool = False) -> int | None:
    """The panel's hook: pre-warm once per process, in a kernel only (``force`` skips the
    kernel check, for tests). Later panels find the spare (or the first test's) alive."""
    global _displayed
    if not prewarm_enabled() or not (force or _in_kernel()):
        return None
    with _lock:
        if _displayed:
            return None
        _displayed = True
    try:
        return prewarm()
    except Exception:  # a faster first test is a nicety: never break the panel for it
        return None


def _reset_for_tests() -> None:
    global _displayed
    with _lock:
        _displayed = False
