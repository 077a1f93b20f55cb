"""ModelConfig: how the towers process the features, and how training runs (the spec's model)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator

from towerwidgets.config.base import StoredModel
from towerwidgets.config.layers import (
    ACTIVATION_LABELS,
    LayerList,
    dense_units,
    last_dense_index,
    stack_params,
)
from towerwidgets.config.presets import DEFAULT_RATING_HEAD, get_preset

if TYPE_CHECKING:
    from towerwidgets.config.summary import ModelSummary

ModelType = Literal["retrieval", "ranking", "multitask"]
Optimizer = Literal["adagrad", "adam", "sgd"]
Tower = Literal["buyer", "product"]

MODEL_TYPE_LABELS = {"retrieval": "Retrieval", "ranking": "Ranking", "multitask": "Multitask"}
OPTIMIZER_LABELS = {"adagrad": "Adagrad", "adam": "Adam", "sgd": "SGD"}
# The learning-rate ranges the spec's step-3 optimizer cards recommend.
RECOMMENDED_LR = {"adagrad": (0.05, 0.1), "adam": (0.001, 0.01), "sgd": (0.01, 0.1)}
MAX_BATCH_SIZE = 65536
MAX_EPOCHS = 1000


class ModelConfig(StoredModel):
    """Neural network architecture and training configuration, independent of any dataset.

    Drafts are allowed: values that ``validate()`` reports on (empty towers, an output
    dimension out of range, zero loss weights…) still construct, so a wizard can hold them.
    Only structurally impossible values (wrong types, layers outside the schema) are refused.
    """

    name: str = Field(default="", max_length=255)
    description: str = ""
    model_type: ModelType = "retrieval"
    buyer_tower_layers: LayerList = Field(default_factory=list)
    product_tower_layers: LayerList = Field(default_factory=list)
    rating_head_layers: LayerList = Field(default_factory=list)
    output_embedding_dim: int = 32
    share_tower_weights: bool = False
    optimizer: Optimizer = "adagrad"
    learning_rate: float = 0.1
    batch_size: int = 4096
    epochs: int = 5
    retrieval_weight: float = 1.0
    ranking_weight: float = 0.0

    @field_validator("model_type", "optimizer", mode="before")
    @classmethod
    def _lowercase(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    def __str__(self) -> str:
        """The ``model.summary()``-style table (see ``summary``)."""
        return str(self.model_summary())

    def _repr_html_(self) -> str:
        return self.model_summary()._repr_html_()

    @property
    def label(self) -> str:
        """'Name (Retrieval)': the one-line name used in lists."""
        return f"{self.name} ({MODEL_TYPE_LABELS[self.model_type]})"

    # ── constructors ────────────────────────────────────────────────────────────────────

    @classmethod
    def from_preset(cls, preset: str, **fields: Any) -> ModelConfig:
        """A config with a preset's towers; ranking/multitask get the default rating head."""
        if preset not in PRESET_KEYS:
            raise ValueError(f"Unknown preset {preset!r}; choose one of: {', '.join(PRESET_KEYS)}")
        config = cls(**fields)
        config.apply_preset(preset)
        if config.model_type != "retrieval" and not config.rating_head_layers:
            config.rating_head_layers = cls.get_default_rating_head()
        if config.model_type == "multitask" and "ranking_weight" not in fields:
            config.retrieval_weight, config.ranking_weight = 0.5, 0.5
        return config

    def apply_preset(self, preset: str) -> None:
        """Replace both towers and the output dimension with a preset's."""
        values = get_preset(preset)
        self.buyer_tower_layers = values["buyer_tower_layers"]
        self.product_tower_layers = values["product_tower_layers"]
        self.output_embedding_dim = values["output_embedding_dim"]

    # ── the spec's helpers ──────────────────────────────────────────────────────────────

    def get_buyer_tower_summary(self) -> str:
        """Human-readable summary like '128→64→32'."""
        units = dense_units(self.buyer_tower_layers)
        return "→".join(map(str, units)) if units else "Empty"

    def get_product_tower_summary(self) -> str:
        units = dense_units(self.product_tower_layers)
        return "→".join(map(str, units)) if units else "Empty"

    def get_rating_head_summary(self) -> str:
        units = dense_units(self.rating_head_layers)
        return "→".join(map(str, units)) if units else "None"

    def count_layers(self, tower: str = "buyer") -> int:
        layers = self.buyer_tower_layers if tower == "buyer" else self.product_tower_layers
        return len(layers)

    def towers_are_identical(self) -> bool:
        """Both towers have identical architecture (required for weight sharing)."""
        return self.buyer_tower_layers == self.product_tower_layers

    def estimate_params(
        self, buyer_input_dim: int | None = None, product_input_dim: int | None = None
    ) -> int:
        """The spec's dense-only estimate of trainable parameters (weights + biases).

        Embeddings, batch norm and the exact input widths are not counted; see
        ``estimate_params_detailed`` for the exact count of the generated model.
        """
        total = 0
        total += _dense_params(self.buyer_tower_layers, buyer_input_dim or 100)
        if not self.share_tower_weights:
            total += _dense_params(self.product_tower_layers, product_input_dim or 50)
        if self.model_type in ("ranking", "multitask") and self.rating_head_layers:
            total += _dense_params(self.rating_head_layers, self.output_embedding_dim * 2)
        return total

    def tower_params(self, tower: Tower, input_dim: int | None = None) -> int:
        """The spec's estimate for one tower alone (the builder's footer)."""
        if tower == "buyer":
            return _dense_params(self.buyer_tower_layers, input_dim or 100)
        return _dense_params(self.product_tower_layers, input_dim or 50)

    def estimate_params_detailed(
        self, feature_config: Any, vocabulary_sizes: dict[str, int]
    ) -> int:
        """Exact trainable parameters of the generated model, embeddings included."""
        from towerwidgets.codegen.params import estimate_params_detailed

        return estimate_params_detailed(feature_config, vocabulary_sizes, self)

    def validate(self) -> list[str]:  # type: ignore[override]  # pydantic's is deprecated
        """Blocking problems, one readable sentence each (the spec's messages, verbatim)."""
        errors: list[str] = []
        if not self.name.strip():
            errors.append("Model name is required")
        if not self.buyer_tower_layers:
            errors.append("Buyer tower must have at least one layer")
        if not self.product_tower_layers:
            errors.append("Product tower must have at least one layer")
        if self.share_tower_weights and not self.towers_are_identical():
            errors.append("Weight sharing requires identical tower architectures")

        if self.model_type in ("ranking", "multitask"):
            if not self.rating_head_layers:
                errors.append("Rating head layers required for ranking/multitask models")
            else:
                last = self.rating_head_layers[-1]
                if last.type != "dense" or last.units != 1:
                    errors.append("Rating head must end with Dense(1) for scalar output")

        if self.model_type == "multitask":
            if self.retrieval_weight == 0 and self.ranking_weight == 0:
                errors.append("At least one loss weight must be greater than 0")
        for label, weight in (
            ("Retrieval", self.retrieval_weight),
            ("Ranking", self.ranking_weight),
        ):
            if not 0 <= weight <= 1:
                errors.append(f"{label} loss weight must be between 0 and 1 (got {weight:g})")

        if self.output_embedding_dim < 8:
            errors.append("Output embedding dimension should be at least 8")
        if self.output_embedding_dim > 512:
            errors.append("Output embedding dimension should not exceed 512")

        for tower, layers in (
            ("Buyer", self.buyer_tower_layers),
            ("Product", self.product_tower_layers),
        ):
            if not layers:
                continue
            last = last_dense_index(layers)
            if last is None:
                errors.append(f"{tower} tower must contain at least one Dense layer")
            elif layers[last].units != self.output_embedding_dim:
                errors.append(
                    f"{tower} tower's output layer has {layers[last].units} units but the output "
                    f"embedding dimension is {self.output_embedding_dim}; they must match"
                )

        if not self.learning_rate > 0:
            errors.append(f"Learning rate must be greater than 0 (got {self.learning_rate:g})")
        elif self.learning_rate > 10:
            errors.append(f"Learning rate must be at most 10 (got {self.learning_rate:g})")
        if not 1 <= self.batch_size <= MAX_BATCH_SIZE:
            errors.append(
                f"Batch size must be between 1 and {MAX_BATCH_SIZE} (got {self.batch_size})"
            )
        if not 1 <= self.epochs <= MAX_EPOCHS:
            errors.append(f"Epochs must be between 1 and {MAX_EPOCHS} (got {self.epochs})")
        return errors

    def is_valid(self) -> bool:
        return not self.validate()

    def warnings(self) -> list[str]:
        """Non-blocking advice: the config runs, but probably not the way you want."""
        notes: list[str] = []
        for tower, layers in (
            ("Buyer", self.buyer_tower_layers),
            ("Product", self.product_tower_layers),
        ):
            last = last_dense_index(layers)
            if last is None:
                continue
            if layers[last].activation == "relu":
                notes.append(
                    f"{tower} tower's output layer uses ReLU: embeddings can collapse to zero. "
                    "The TFRS tutorials keep the output layer linear (activation None)."
                )
            trailing = [layer for layer in layers[last + 1 :] if layer.type == "dropout"]
            if trailing:
                notes.append(
                    f"{tower} tower has Dropout after its output layer: it zeroes random embedding "
                    "dimensions during training. Put Dropout between hidden layers instead."
                )
        low, high = RECOMMENDED_LR[self.optimizer]
        if self.learning_rate > 0 and not low / 10 <= self.learning_rate <= high * 10:
            notes.append(
                f"Learning rate {self.learning_rate:g} is far outside the range recommended for "
                f"{OPTIMIZER_LABELS[self.optimizer]} ({low:g} - {high:g})."
            )
        if self.model_type == "multitask" and (
            self.retrieval_weight == 0 or self.ranking_weight == 0
        ):
            if self.retrieval_weight != self.ranking_weight:
                task = "ranking" if self.ranking_weight == 0 else "retrieval"
                notes.append(
                    f"The {task} loss weight is 0: this multitask model trains only one task."
                )
        return notes

    # ── presentation ────────────────────────────────────────────────────────────────────

    def layer_lines(self, tower: Tower) -> list[str]:
        """'Dense(128) ReLU'-style lines for the configuration summary."""
        layers = self.buyer_tower_layers if tower == "buyer" else self.product_tower_layers
        lines = []
        for layer in layers:
            if layer.type == "dense":
                lines.append(f"{layer.label()} {ACTIVATION_LABELS[layer.activation]}")
            else:
                lines.append(layer.label())
        return lines

    def model_summary(
        self, feature_config: Any = None, vocabulary_sizes: dict[str, int] | None = None
    ) -> ModelSummary:
        """The rows and totals ``summary`` prints (a ``ModelSummary``)."""
        from towerwidgets.config.summary import model_summary

        return model_summary(self, feature_config, vocabulary_sizes)

    def summary(
        self,
        feature_config: Any = None,
        vocabulary_sizes: dict[str, int] | None = None,
        *,
        print_fn: Callable[[str], Any] = print,
    ) -> None:
        """Print a Keras-style table: layer, output shape, params, and the totals.

        With ``feature_config`` the embedding tables are included; vocabularies not in
        ``vocabulary_sizes`` are estimated and the counts marked "≈". The spec's summary
        dict is ``summary_dict``.
        """
        print_fn(str(self.model_summary(feature_config, vocabulary_sizes)))

    def summary_dict(self) -> dict[str, Any]:
        """The spec's model_config summary (code-generation response and config cards)."""
        return {
            "id": self.id,
            "name": self.name,
            "model_type": self.model_type,
            "buyer_tower_summary": self.get_buyer_tower_summary(),
            "product_tower_summary": self.get_product_tower_summary(),
            "rating_head_summary": self.get_rating_head_summary(),
            "output_embedding_dim": self.output_embedding_dim,
            "optimizer": self.optimizer,
            "learning_rate": self.learning_rate,
            "batch_size": self.batch_size,
            "epochs": self.epochs,
        }

    # ── the spec's classmethods ─────────────────────────────────────────────────────────

    @classmethod
    def get_default_layers(cls) -> list[dict[str, Any]]:
        """Default tower layers (the standard preset)."""
        return get_preset("standard")["buyer_tower_layers"]

    @classmethod
    def get_preset(cls, preset_name: str) -> dict[str, Any]:
        """A preset dict; unknown names give the standard preset, as in the spec."""
        return get_preset(preset_name)

    @classmethod
    def get_default_rating_head(cls) -> list[dict[str, Any]]:
        return copy.deepcopy(DEFAULT_RATING_HEAD)


PRESET_KEYS = ("minimal", "standard", "deep", "asymmetric", "regularized")


def _dense_params(layers: list[Any], input_dim: int) -> int:
    return stack_params(layers, input_dim).dense
