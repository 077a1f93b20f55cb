"""The layer schema of the spec: dense, dropout and batch_norm blocks of a tower."""

from __future__ import annotations

from typing import Annotated, Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

Activation = Literal["relu", "leaky_relu", "gelu", "tanh", "sigmoid"]
ACTIVATIONS: tuple[str | None, ...] = ("relu", "leaky_relu", "gelu", "tanh", "sigmoid", None)
ACTIVATION_LABELS = {
    "relu": "ReLU",
    "leaky_relu": "LeakyReLU",
    "gelu": "GELU",
    "tanh": "Tanh",
    "sigmoid": "Sigmoid",
    None: "Linear",
}


class _LayerBase(BaseModel):
    """Layers are small value objects; dict-style access keeps the spec's helper code valid."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    def __getitem__(self, key: str) -> Any:
        if key not in type(self).model_fields:
            raise KeyError(key)
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key, default) if key in type(self).model_fields else default

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class DenseLayer(_LayerBase):
    """Fully connected layer."""

    type: Literal["dense"] = "dense"
    units: int = Field(ge=1, le=2048, description="Number of neurons")
    activation: Activation | None = Field(
        default="relu", description="Activation function (null for linear)"
    )
    l2_reg: float = Field(default=0.0, ge=0, le=1, description="L2 regularization strength")

    def label(self) -> str:
        return f"Dense({self.units})"

    def detail(self) -> str:
        text = ACTIVATION_LABELS[self.activation]
        if self.l2_reg:
            text += f" • L2: {self.l2_reg:g}"
        return text


class DropoutLayer(_LayerBase):
    """Randomly drops units during training (regularization)."""

    type: Literal["dropout"] = "dropout"
    # The spec's schema lists rate as required yet gives it a default; we accept a missing
    # rate (the default applies) and export the schema as the spec wrote it.
    rate: float = Field(
        default=0.2,
        ge=0,
        le=0.9,
        description="Fraction of units to drop",
        json_schema_extra={"spec_required": True},
    )

    def label(self) -> str:
        return f"Dropout({self.rate:g})"

    def detail(self) -> str:
        return f"{round(self.rate * 100):d}% drop rate"


class BatchNormLayer(_LayerBase):
    """Normalizes layer activations."""

    type: Literal["batch_norm"] = "batch_norm"

    def label(self) -> str:
        return "BatchNorm"

    def detail(self) -> str:
        return "Normalize activations"


Layer = Annotated[DenseLayer | DropoutLayer | BatchNormLayer, Field(discriminator="type")]
LayerList = list[Layer]

_LAYERS = TypeAdapter(LayerList)


def parse_layers(value: Any) -> list[DenseLayer | DropoutLayer | BatchNormLayer]:
    """Validate a list of layer dicts (or layer objects) against the schema."""
    return _LAYERS.validate_python(value)


def dense_units(layers: list[Any]) -> list[int]:
    return [layer.units for layer in layers if layer.type == "dense"]


def last_dense_index(layers: list[Any]) -> int | None:
    for i in range(len(layers) - 1, -1, -1):
        if layers[i].type == "dense":
            return i
    return None


def layer_json_schema() -> dict[str, Any]:
    """The spec's "Tower Layer Configuration" JSON Schema (draft-07), generated from the models.

    Equal in meaning to the spec: an array of objects, one of dense / dropout / batch_norm,
    with the same bounds, enums and defaults.
    """
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Tower Layer Configuration",
        "type": "array",
        "items": {
            "type": "object",
            "required": ["type"],
            "oneOf": [
                _variant_schema(model) for model in (DenseLayer, DropoutLayer, BatchNormLayer)
            ],
        },
    }


def _variant_schema(model: type[_LayerBase]) -> dict[str, Any]:
    props: dict[str, Any] = {}
    required = ["type"]
    for name, field in model.model_fields.items():
        if name == "type":
            props["type"] = {"const": field.default}
            continue
        prop: dict[str, Any] = {}
        if name == "activation":
            prop["enum"] = list(ACTIVATIONS)
        else:
            prop["type"] = "integer" if field.annotation is int else "number"
        for meta in field.metadata:
            if hasattr(meta, "ge"):
                prop["minimum"] = meta.ge
            if hasattr(meta, "le"):
                prop["maximum"] = meta.le
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        if field.is_required() or extra.get("spec_required"):
            required.append(name)
        if not field.is_required():
            prop["default"] = field.default
        if field.description:
            prop["description"] = field.description
        props[name] = prop
    return {"properties": props, "required": required, "additionalProperties": False}


class StackParams(NamedTuple):
    """Parameters of a stack of layers: ``dense`` weights + biases, batch norm's trainable
    ``norm`` (gamma, beta) and ``frozen`` moving statistics, and the output ``width``."""

    dense: int
    norm: int
    frozen: int
    width: int

    @property
    def trainable(self) -> int:
        return self.dense + self.norm

    @property
    def total(self) -> int:
        """What Keras ``count_params()`` counts (moving statistics included)."""
        return self.dense + self.norm + self.frozen


def stack_params(layers: Any, input_dim: int) -> StackParams:
    """The one place the parameter arithmetic of a layer stack lives (the config's spec
    estimate, the exact count, the duration estimate all use it). Layers may be models or
    dicts."""
    dense = norm = frozen = 0
    width = int(input_dim)
    for layer in layers or []:
        kind = layer.get("type") if isinstance(layer, dict) else layer.type
        if kind == "dense":
            units = int(layer.get("units", 0) if isinstance(layer, dict) else layer.units)
            dense += width * units + units
            width = units
        elif kind == "batch_norm":
            norm += 2 * width
            frozen += 2 * width
    return StackParams(dense, norm, frozen, width)
