"""Kernel-side code generation: TFX Transform and Trainer modules from two configs.

Pure Python (Jinja2 templates); never imports TensorFlow. See docs/runtime-contract.md for
what the generated modules promise the runner.
"""

from towerwidgets.codegen.generator import (
    GeneratedCode,
    compatibility_errors,
    generate_trainer_code,
    generate_transform_code,
)
from towerwidgets.codegen.params import estimate_params_detailed, param_breakdown

__all__ = [
    "GeneratedCode",
    "compatibility_errors",
    "estimate_params_detailed",
    "generate_trainer_code",
    "generate_transform_code",
    "param_breakdown",
]
