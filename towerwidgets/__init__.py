"""towerwidgets: build, test and export TensorFlow Recommenders models from Jupyter widgets.

Importing the package is cheap: config models load eagerly, everything heavier (store,
codegen, runner, widgets) loads on first attribute access. TensorFlow is never imported
in the kernel; training runs in a worker process.
"""

from __future__ import annotations

import importlib
from typing import Any

from towerwidgets.config import (
    FeatureConfig,
    ModelConfig,
    QuickTest,
    layer_json_schema,
    presets,
)

__version__ = "0.1.0"

# Public name -> module that defines it. Loaded lazily to keep `import towerwidgets` light.
_LAZY: dict[str, str] = {
    "Store": "towerwidgets.store",
    "set_default_store": "towerwidgets.store",
    "generate_trainer_code": "towerwidgets.codegen",
    "generate_transform_code": "towerwidgets.codegen",
    "run_quick_test": "towerwidgets.runner",
    "start_quick_test": "towerwidgets.runner",
    "sweep": "towerwidgets.runner",
    "run_quick_tests": "towerwidgets.runner",
    "compare": "towerwidgets.results.comparison",
    "datasets": "towerwidgets.datasets",
    "pipeline": "towerwidgets.pipeline",
    "build_pipeline": "towerwidgets.pipeline",
    "compile_pipeline": "towerwidgets.pipeline",
    "run_local_pipeline": "towerwidgets.pipeline",
    "ModelWizard": "towerwidgets.widgets",
    "TowerBuilder": "towerwidgets.widgets",
    "ModelStructure": "towerwidgets.widgets",
    "QuickTestPanel": "towerwidgets.widgets",
    "MetricsTable": "towerwidgets.widgets",
    "ModelingPage": "towerwidgets.widgets",
    "CompareView": "towerwidgets.widgets",
    "FeatureEditor": "towerwidgets.widgets",
    "RecommendationPreview": "towerwidgets.widgets",
    "preview": "towerwidgets.widgets",
}

__all__ = [
    "FeatureConfig",
    "ModelConfig",
    "QuickTest",
    "__version__",
    "layer_json_schema",
    "presets",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'towerwidgets' has no attribute {name!r}")
    mod = importlib.import_module(module)
    value = mod if module.endswith("." + name) else getattr(mod, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
