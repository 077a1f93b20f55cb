"""The TFX environment: which Python runs ``tfx_pipeline.py``, and running it.

tfx 1.21 cannot install beside the kernel's TensorFlow 2.21 stack on Debian 12, so the TFX
lane is its own environment (``make tfx-env`` builds ``.venv-tfx`` from the pinned
``image/requirements.txt``, the same set the pipeline image installs). The kernel reaches
it through a subprocess, as it reaches the quick-test worker: TensorFlow never loads in the
kernel. Where the kernel's own environment has tfx (a Vertex AI Workbench image), its own
Python runs the script.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from towerwidgets.errors import TowerwidgetsError

__all__ = ["PipelineError", "TFXEnvironmentError", "run_tfx", "tfx_python"]

SCRIPT = Path(__file__).with_name("tfx_pipeline.py")
REQUIREMENTS = Path(__file__).parent / "image" / "requirements.txt"
_SETUP_HINT = (
    "build it with `make tfx-env` in a towerwidgets checkout (a Python 3.10 venv with the "
    f"pinned set in {REQUIREMENTS}), or set TOWERWIDGETS_TFX_PYTHON to a Python that "
    "imports tfx 1.16 and tensorflow-recommenders"
)


class TFXEnvironmentError(TowerwidgetsError, RuntimeError):
    """No Python with tfx was found; the message says how to make one."""


class PipelineError(TowerwidgetsError, RuntimeError):
    """The TFX run or compilation failed; ``log_path`` holds the full log."""

    def __init__(self, message: str, log_path: Path | None = None, component: str = ""):
        self.log_path = log_path
        self.component = component
        super().__init__(message + (f" (full log: {log_path})" if log_path else ""))


def _candidates() -> list[Path]:
    root = Path(__file__).resolve().parents[2]  # a source checkout's root
    return [root / ".venv-tfx" / "bin" / "python", Path.cwd() / ".venv-tfx" / "bin" / "python"]


def tfx_python() -> str:
    """The interpreter for the TFX side: $TOWERWIDGETS_TFX_PYTHON, this Python if it has
    tfx, else a ``.venv-tfx`` beside the checkout or the working directory."""
    configured = os.environ.get("TOWERWIDGETS_TFX_PYTHON")
    if configured:
        if not Path(configured).is_file():
            raise TFXEnvironmentError(
                f"The TFX environment is missing: TOWERWIDGETS_TFX_PYTHON={configured!r} does "
                f"not exist; {_SETUP_HINT}"
            )
        return configured
    if importlib.util.find_spec("tfx") is not None:
        return sys.executable
    for candidate in _candidates():
        if candidate.is_file():
            return str(candidate)
    raise TFXEnvironmentError(f"The TFX environment is missing: {_SETUP_HINT}")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["TF_USE_LEGACY_KERAS"] = "1"  # TFRS needs Keras 2 on TF 2.16 too
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.pop("PYTHONPATH", None)  # the script imports tfx only, never this package
    return env


def run_tfx(
    command: str,
    *args: str,
    log_path: Path,
    on_event: Callable[[dict[str, Any]], None] | None = None,
    timeout: float | None = None,
) -> list[dict[str, Any]]:
    """Run ``tfx_pipeline.py COMMAND ARGS`` in the TFX environment; return its events.

    Events (JSON lines) reach ``on_event`` as they come; the libraries' logs go to
    ``log_path``. A failure raises :class:`PipelineError` with the reason and the log.
    """
    python = tfx_python()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    events: list[dict[str, Any]] = []
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [python, str(SCRIPT), command, *args],
            stdout=subprocess.PIPE,
            stderr=log,
            env=_env(),
            start_new_session=True,
        )
        timer = None
        if timeout:
            timer = threading.Timer(timeout, process.kill)
            timer.start()
        try:
            assert process.stdout is not None
            for line in process.stdout:
                with contextlib.suppress(ValueError):
                    event = json.loads(line)
                    events.append(event)
                    if on_event is not None:
                        on_event(event)
            code = process.wait()
        except BaseException:  # KeyboardInterrupt: stop the whole TFX process group
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, 9)
            process.wait()
            raise
        finally:
            if timer is not None:
                timer.cancel()
    errors = [e for e in events if e.get("event") == "error"]
    if errors or code != 0:
        running = [e["name"] for e in events if e.get("event") == "component"]
        component = running[-1] if running else ""
        if errors:
            message = errors[-1].get("message", "")
        else:
            message = f"the TFX process exited with code {code}: {_tail(log_path)}"
        where = f" in {component}" if component else ""
        raise PipelineError(f"TFX {command} failed{where}: {message}", log_path, component)
    return events


def _tail(path: Path, lines: int = 3) -> str:
    with contextlib.suppress(OSError):
        text = path.read_text(errors="replace").splitlines()
        return " | ".join(line for line in text[-lines:] if line.strip())
    return ""
