"""Render the Transform and Trainer modules from a FeatureConfig and a ModelConfig.

Formatting: the templates emit code that is already in ``ruff format`` style (line length
88, ruff's quote choice, magic trailing commas wherever user text could make a line long),
so generation needs no formatter at run time — the kernel stays light and the bytes do not
depend on which ruff (if any) is installed. The tests assert that ``ruff format`` leaves
generated modules unchanged and that ``ruff check`` finds nothing.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jinja2

from towerwidgets.codegen.naming import comment_text, py_value
from towerwidgets.codegen.plan import (
    CANDIDATE_ID_KEY,
    LABEL_FEATURE_KEY,
    NUM_OOV_BUCKETS,
    Plan,
    build_plan,
    compatibility_problems,
)

LINE_LENGTH = 88
TEMPLATES = Path(__file__).parent / "templates"
OPTIMIZER_CLASSES = {"adagrad": "Adagrad", "adam": "Adam", "sgd": "SGD"}
MODEL_CLASSES = {
    "retrieval": "RetrievalModel",
    "ranking": "RankingModel",
    "multitask": "MultitaskModel",
}
MODEL_TITLES = {"retrieval": "Retrieval", "ranking": "Ranking", "multitask": "Multitask"}


@dataclass
class GeneratedCode:
    """The code-generation response of the spec (``POST /api/generate-trainer-code/``).

    Both code generators return it. When the inputs are invalid or incompatible,
    ``is_valid`` is False, ``validation_error`` has one sentence per problem (one per line;
    also in ``errors``), and both code fields are empty strings; nothing raises until you
    call ``raise_for_errors`` (or ``write``).
    """

    trainer_code: str
    transform_code: str
    is_valid: bool
    validation_error: str | None
    feature_config: dict[str, Any]
    model_config: dict[str, Any]
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "trainer_code": self.trainer_code,
            "transform_code": self.transform_code,
            "is_valid": self.is_valid,
            "validation_error": self.validation_error,
            "feature_config": self.feature_config,
            "model_config": self.model_config,
        }

    def raise_for_errors(self) -> GeneratedCode:
        """Raise ``ConfigValidationError`` (with ``problems``) if invalid; else return self."""
        from towerwidgets.errors import ConfigValidationError

        if not self.is_valid:
            raise ConfigValidationError("Config", self.errors or [self.validation_error or ""])
        return self

    def write(self, directory: str | Path) -> tuple[Path, Path]:
        """Write ``transform.py`` and ``trainer.py`` into ``directory`` (created if needed).

        Raises ``ConfigValidationError`` when the code is not valid.
        """
        self.raise_for_errors()
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        transform, trainer = out / "transform.py", out / "trainer.py"
        transform.write_text(self.transform_code, encoding="utf-8")
        trainer.write_text(self.trainer_code, encoding="utf-8")
        return transform, trainer


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=False,  # we emit Python, not HTML; user text goes through the filters
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["py"] = py_value
    env.filters["comment"] = comment_text
    env.globals["call"] = call_code
    return env


def _timestamp(generated_at: datetime | str | None) -> str:
    if generated_at is None:
        generated_at = datetime.now(timezone.utc)
    if isinstance(generated_at, datetime):
        if generated_at.tzinfo is not None:
            generated_at = generated_at.astimezone(timezone.utc).replace(tzinfo=None)
            return generated_at.isoformat(timespec="seconds") + "Z"
        return generated_at.isoformat(timespec="seconds")
    text = str(generated_at)
    return text if text.isprintable() and len(text) <= 64 else comment_text(text)


def _common(plan: Plan, feature_config: Any, generated_at: Any) -> dict[str, Any]:
    return {
        "plan": plan,
        "fc_name": comment_text(feature_config.name),
        "fc_id": comment_text(feature_config.id)
        if isinstance(feature_config.id, str)
        else py_value(feature_config.id),
        "generated_at": _timestamp(generated_at),
        "candidate_id_key": CANDIDATE_ID_KEY,
        "label_feature_key": LABEL_FEATURE_KEY,
        "num_oov_buckets": NUM_OOV_BUCKETS,
    }


def render_transform(plan: Plan, feature_config: Any, generated_at: Any = None) -> str:
    context = _common(plan, feature_config, generated_at)
    context["label_comment"] = (
        comment_text(plan.label_column) + " (passed through)" if plan.label_column else "none"
    )
    return _environment().get_template("transform.py.jinja").render(**context)


def width(line: str) -> int:
    """Display width as ruff measures it (wide East Asian characters count twice)."""
    total = 0
    for char in line:
        if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
            continue
        total += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return total


def call_code(func: str, args: list[str], indent: int, end: str = ",") -> str:
    """``func(a, b)`` at ``indent``; exploded one argument per line (with ruff's magic
    trailing comma) when it would not fit, so ``ruff format`` keeps it as it is."""
    pad = " " * indent
    one_line = f"{pad}{func}({', '.join(args)}){end}"
    if width(one_line) <= LINE_LENGTH:
        return one_line
    inner = " " * (indent + 4)
    return f"{pad}{func}(\n" + "".join(f"{inner}{a},\n" for a in args) + f"{pad}){end}"


def layer_code(layer: Any, indent: int) -> str:
    """One Keras layer as code, ending in ``,``; exploded when it would not fit one line."""
    kind = layer.type
    if kind == "dropout":
        args = [py_value(float(layer.rate))]
        name = "tf.keras.layers.Dropout"
    elif kind == "batch_norm":
        args = []
        name = "tf.keras.layers.BatchNormalization"
    elif kind == "dense":
        name = "tf.keras.layers.Dense"
        args = [str(int(layer.units))]
        if layer.activation is not None:
            args.append(f"activation={py_value(layer.activation)}")
        if layer.l2_reg:
            reg = f"tf.keras.regularizers.l2({py_value(float(layer.l2_reg))})"
            args.append(f"kernel_regularizer={reg}")
    else:  # the schema allows nothing else, but layer_code also takes plain objects
        raise ValueError(f"Unknown layer type: {kind}")
    return call_code(name, args, indent)


def render_trainer(
    plan: Plan, feature_config: Any, model_config: Any, generated_at: Any = None
) -> str:
    mc = model_config
    retrieval = mc.model_type in ("retrieval", "multitask")
    ranking = mc.model_type in ("ranking", "multitask")
    towers = ("buyer",) if retrieval else ("buyer", "product")
    context = _common(plan, feature_config, generated_at)
    context.update(
        mc=mc,
        mc_name=comment_text(mc.name),
        mc_id=comment_text(mc.id) if isinstance(mc.id, str) else py_value(mc.id),
        retrieval=retrieval,
        ranking=ranking,
        model_class=MODEL_CLASSES[mc.model_type],
        model_title=MODEL_TITLES[mc.model_type],
        optimizer_class=OPTIMIZER_CLASSES[mc.optimizer],
        serving_inputs=plan.serving_inputs(towers),
        rating_inputs=plan.serving_inputs(("buyer", "product")),
        tower_summary={
            "buyer": mc.get_buyer_tower_summary(),
            "product": mc.get_product_tower_summary(),
        },
        layer_code={
            "buyer": [layer_code(x, 16) for x in mc.buyer_tower_layers],
            "product": [layer_code(x, 16) for x in mc.product_tower_layers],
            "rating": [layer_code(x, 12) for x in mc.rating_head_layers],
        },
    )
    return _environment().get_template("trainer.py.jinja").render(**context)


# ── the public API ───────────────────────────────────────────────────────────────────────


def generate_transform_code(
    feature_config: Any, rating_column: str | None = None, generated_at: Any = None
) -> GeneratedCode:
    """The Transform module for a FeatureConfig (label passed through if ``rating_column``).

    Returns the same ``GeneratedCode`` as ``generate_trainer_code``, with
    ``transform_code`` set and ``trainer_code`` empty. An invalid config does not raise:
    ``is_valid`` is False and ``validation_error`` lists the problems (call
    ``raise_for_errors()`` to turn that into a ``ConfigValidationError``).
    """
    fc_summary = _feature_summary(feature_config)
    problems = [f"Feature config: {p}" for p in feature_config.validate()]
    problems += compatibility_problems(feature_config, rating_column)
    problems = list(dict.fromkeys(problems))
    if problems:
        return GeneratedCode(
            trainer_code="",
            transform_code="",
            is_valid=False,
            validation_error="\n".join(problems),
            feature_config=fc_summary,
            model_config={},
            errors=problems,
        )
    plan = build_plan(feature_config, rating_column)
    return GeneratedCode(
        trainer_code="",
        transform_code=render_transform(plan, feature_config, generated_at),
        is_valid=True,
        validation_error=None,
        feature_config=fc_summary,
        model_config={},
    )


def compatibility_errors(
    feature_config: Any, model_config: Any, rating_column: str | None = None, data: Any = None
) -> list[str]:
    """Every reason the pair cannot be generated (or run on ``data``), one sentence each."""
    errors = [f"Feature config: {p}" for p in feature_config.validate()]
    errors += [f"Model config: {p}" for p in model_config.validate()]
    errors += compatibility_problems(feature_config, rating_column)
    if model_config.model_type in ("ranking", "multitask") and not rating_column:
        errors.append(
            f"A {model_config.model_type} model needs a rating column: pick the column that "
            "holds the rating (rating_column=...)"
        )
    if model_config.share_tower_weights:
        buyer_dim = feature_config.buyer_tensor_dim
        product_dim = feature_config.product_tensor_dim
        if buyer_dim != product_dim:
            errors.append(
                f"Shared tower weights need equal tower inputs, but the buyer tower gets "
                f"{buyer_dim}D and the product tower {product_dim}D; change the features or "
                "turn weight sharing off"
            )
    if data is not None:
        errors += [f"Data: {p}" for p in feature_config.validate_against(data)]
        if rating_column and model_config.model_type in ("ranking", "multitask"):
            errors += _rating_column_problems(data, rating_column)
    return list(dict.fromkeys(errors))


def _rating_column_problems(data: Any, rating_column: str) -> list[str]:
    import pandas as pd

    if rating_column not in data.columns:
        return [f"Data: rating column {rating_column!r} is not in the data"]
    series = data[rating_column]
    if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return [
            f"Data: rating column {rating_column!r} has dtype {series.dtype}; a rating must be "
            "numeric"
        ]
    if len(series) and series.isna().all():
        return [f"Data: rating column {rating_column!r} has no values (all missing)"]
    return []


def generate_trainer_code(
    feature_config: Any,
    model_config: Any,
    rating_column: str | None = None,
    generated_at: datetime | str | None = None,
    data: Any = None,
) -> GeneratedCode:
    """Both modules for a FeatureConfig + ModelConfig, with the spec's response fields.

    ``generated_at`` (datetime or text) makes the output byte-for-byte reproducible;
    ``data`` (a DataFrame) adds the checks against the actual columns and dtypes. An invalid
    or incompatible pair does not raise: ``is_valid`` is False and ``validation_error`` holds
    the spec's messages (``raise_for_errors()`` raises them as ``ConfigValidationError``).
    """
    fc_summary = _feature_summary(feature_config)
    mc_summary = _model_summary(model_config)
    errors = compatibility_errors(feature_config, model_config, rating_column, data)
    if errors:
        return GeneratedCode(
            trainer_code="",
            transform_code="",
            is_valid=False,
            validation_error="\n".join(errors),
            feature_config=fc_summary,
            model_config=mc_summary,
            errors=errors,
        )
    # The label is passed through only when a task trains on it.
    label = rating_column if model_config.model_type != "retrieval" else None
    plan = build_plan(feature_config, label)
    return GeneratedCode(
        trainer_code=render_trainer(plan, feature_config, model_config, generated_at),
        transform_code=render_transform(plan, feature_config, generated_at),
        is_valid=True,
        validation_error=None,
        feature_config=fc_summary,
        model_config=mc_summary,
    )


def _feature_summary(feature_config: Any) -> dict[str, Any]:
    summary = getattr(feature_config, "summary", None)
    if callable(summary):
        return dict(summary())
    return {
        "id": feature_config.id,
        "name": feature_config.name,
        "buyer_tensor_dim": feature_config.buyer_tensor_dim,
        "product_tensor_dim": feature_config.product_tensor_dim,
    }


def _model_summary(model_config: Any) -> dict[str, Any]:
    summary = getattr(model_config, "summary_dict", None)
    if callable(summary):
        return dict(summary())
    return {
        "id": model_config.id,
        "name": model_config.name,
        "model_type": model_config.model_type,
        "buyer_tower_summary": model_config.get_buyer_tower_summary(),
        "product_tower_summary": model_config.get_product_tower_summary(),
    }
