"""Quick-test runner: trains the generated modules in a worker process, streams metrics.

Importing this package is light (no TensorFlow, no pandas): ``estimates`` is pure Python,
and the handle/backends load on first use. TensorFlow only ever loads in the worker
process (``python -m towerwidgets.runner.worker``).
"""

from __future__ import annotations

import importlib
from typing import Any

from towerwidgets.runner.estimates import Estimate, estimate_quick_test

_LAZY: dict[str, str] = {
    "run_quick_test": "towerwidgets.runner.api",
    "start_quick_test": "towerwidgets.runner.api",
    "sweep": "towerwidgets.runner.sweeps",
    "run_quick_tests": "towerwidgets.runner.sweeps",
    "QuickTestHandle": "towerwidgets.runner.api",
    "LocalBackend": "towerwidgets.runner.backends",
    "VertexBackend": "towerwidgets.runner.vertex",
    "VertexSettings": "towerwidgets.runner.vertex",
    "reattach_quick_test": "towerwidgets.runner.vertex",
    "Backend": "towerwidgets.runner.backends",
    "QuickTestEvent": "towerwidgets.runner.events",
    "prewarm": "towerwidgets.runner.warm",
}

__all__ = ["Estimate", "estimate_quick_test", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'towerwidgets.runner' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
