"""The model-config editor the wizard and the tower builder share, and ``TowerBuilder``.

The draft ``ModelConfig`` lives in Python (``.config``); its JSON is mirrored in the synced
``config_data`` trait. Every edit — a front-end ``set_state`` or a command message — goes
through the config model, and ``errors``, ``warnings`` and ``estimates`` are synced back.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, ClassVar

import traitlets

from towerwidgets.codegen.params import count_params, vocabulary_sizes
from towerwidgets.runner.estimates import estimate_quick_test, format_duration
from towerwidgets.widgets._base import TowerWidget

TOWER_FIELDS = {
    "buyer": "buyer_tower_layers",
    "product": "product_tower_layers",
    "rating_head": "rating_head_layers",
}
LAYER_DEFAULTS: dict[str, dict[str, Any]] = {
    "dense": {"type": "dense", "units": 64, "activation": "relu", "l2_reg": 0.0},
    "dropout": {"type": "dropout", "rate": 0.2},
    "batch_norm": {"type": "batch_norm"},
}
LAYER_TYPE_ALIASES = {"batchnorm": "batch_norm", "batch_normalization": "batch_norm"}


def _config_class() -> Any:
    from towerwidgets.config import ModelConfig

    return ModelConfig


def _preset_catalogue(
    feature_config: Any = None, n_rows: int | None = None
) -> list[dict[str, Any]]:
    """The presets as the builder's cards show them (key, label, summaries, time): the
    time is the one duration estimate (the wizard's, the panel's, the CLI's) for this data."""
    from towerwidgets.config import presets

    cards = []
    for key, preset in presets().items():
        cfg = _config_class()(
            buyer_tower_layers=preset["buyer_tower_layers"],
            product_tower_layers=preset["product_tower_layers"],
            output_embedding_dim=preset["output_embedding_dim"],
        )
        extras = []
        layers = preset["buyer_tower_layers"]
        if any(layer["type"] == "dropout" for layer in layers):
            extras.append("+Dropout")
        if any(layer.get("l2_reg") for layer in layers):
            extras.append("+L2 reg")
        cards.append(
            {
                "key": key,
                "name": preset["name"],
                "description": preset["description"],
                "buyer_summary": cfg.get_buyer_tower_summary(),
                "product_summary": cfg.get_product_tower_summary(),
                "symmetric": cfg.towers_are_identical(),
                "extras": extras,
                "output_embedding_dim": preset["output_embedding_dim"],
                "estimated_time": format_duration(
                    estimate_quick_test(feature_config, cfg, n_rows=n_rows).seconds, approx=True
                ),
            }
        )
    return cards


def _dim(feature_config: Any, name: str) -> int | None:
    if feature_config is None:
        return None
    value = getattr(feature_config, name, None)
    try:
        value = value() if callable(value) else value
        return int(value) if value else None
    except Exception:
        return None


class ConfigEditor(TowerWidget):
    """Holds a draft ModelConfig and answers every edit with errors, warnings and estimates."""

    config_data = traitlets.Dict().tag(sync=True)
    errors = traitlets.List(traitlets.Unicode()).tag(sync=True)
    warnings = traitlets.List(traitlets.Unicode()).tag(sync=True)
    estimates = traitlets.Dict().tag(sync=True)
    presets = traitlets.List(traitlets.Dict()).tag(sync=True)
    preset = traitlets.Unicode("custom").tag(sync=True)
    input_dims = traitlets.Dict().tag(sync=True)
    notice = traitlets.Unicode("").tag(sync=True)

    _commands: ClassVar[dict[str, str]] = {
        "apply_preset": "_cmd_apply_preset",
        "custom": "_cmd_custom",
        "add_layer": "_cmd_add_layer",
        "move_layer": "_cmd_move_layer",
        "remove_layer": "_cmd_remove_layer",
        "update_layer": "_cmd_update_layer",
        "copy_from_buyer": "_cmd_copy_from_buyer",
        "set_output_dim": "_cmd_set_output_dim",
    }

    def __init__(
        self, config: Any = None, feature_config: Any = None, data: Any = None, **kwargs: Any
    ) -> None:
        ModelConfig = _config_class()
        if config is None:
            draft = ModelConfig.from_preset("standard")
        elif isinstance(config, ModelConfig):
            draft = config.model_copy(deep=True)
        elif isinstance(config, dict):
            draft = ModelConfig.from_dict(config)
        else:
            raise TypeError(f"config must be a ModelConfig or a dict, not {type(config).__name__}")
        self._config = draft
        self._feature_config = feature_config
        # With data, the vocabularies (embedding tables) and the row count are known.
        self._rows = len(data) if data is not None else None
        self._vocabularies = vocabulary_sizes(feature_config, data)
        self._syncing = False
        super().__init__(**kwargs)
        self.presets = _preset_catalogue(feature_config, self._rows)
        self.input_dims = {
            "buyer": _dim(feature_config, "buyer_tensor_dim"),
            "product": _dim(feature_config, "product_tensor_dim"),
            "feature_config": getattr(feature_config, "name", None),
        }
        self.preset = self._detect_preset()
        self._sync()

    # ── the draft ───────────────────────────────────────────────────────────────────────

    @property
    def config(self) -> Any:
        """The draft ModelConfig (edit it through the methods, or assign a new one)."""
        return self._config

    @config.setter
    def config(self, value: Any) -> None:
        ModelConfig = _config_class()
        self._config = (
            value.model_copy(deep=True)
            if isinstance(value, ModelConfig)
            else ModelConfig.from_dict(value)
        )
        self.preset = self._detect_preset()
        self._sync()

    @property
    def feature_config(self) -> Any:
        return self._feature_config

    @traitlets.validate("config_data")
    def _validate_config_data(self, proposal: Any) -> dict[str, Any]:
        if self._syncing:
            return proposal["value"]
        data = dict(proposal["value"])
        before = self._config
        try:
            draft = _config_class().from_dict({**before.to_dict(), **data})
        except ValueError as exc:
            from towerwidgets.widgets._base import _message

            raise traitlets.TraitError(_message(exc)) from exc
        self._adjust_for_model_type(before, draft)
        if (draft.buyer_tower_layers, draft.product_tower_layers, draft.output_embedding_dim) != (
            before.buyer_tower_layers,
            before.product_tower_layers,
            before.output_embedding_dim,
        ):
            self.preset = self._detect_preset(draft) if self.preset != "custom" else "custom"
        self._config = draft
        return draft.to_dict()

    @traitlets.observe("config_data")
    def _on_config_data(self, change: Any) -> None:
        if not self._syncing:
            self.notice = ""
            self._sync()

    def _refused(self, name: str, message: str) -> None:
        self.notice = f"Not applied: {message}"

    def _command_failed(self, kind: str, exc: BaseException) -> None:
        from towerwidgets.widgets._base import _message

        self.notice = f"Not applied: {_message(exc)}"

    @staticmethod
    def _adjust_for_model_type(before: Any, draft: Any) -> None:
        """Switching to ranking/multitask brings the default rating head and balanced weights."""
        if draft.model_type == before.model_type:
            return
        if draft.model_type in ("ranking", "multitask") and not draft.rating_head_layers:
            draft.rating_head_layers = _config_class().get_default_rating_head()
        if draft.model_type == "multitask" and (draft.retrieval_weight, draft.ranking_weight) == (
            1.0,
            0.0,
        ):
            draft.retrieval_weight, draft.ranking_weight = 0.5, 0.5

    def _detect_preset(self, cfg: Any = None) -> str:
        from towerwidgets.config import presets

        cfg = cfg or self._config
        ModelConfig = _config_class()
        for key, preset in presets().items():
            other = ModelConfig(
                buyer_tower_layers=preset["buyer_tower_layers"],
                product_tower_layers=preset["product_tower_layers"],
            )
            if (
                other.buyer_tower_layers == cfg.buyer_tower_layers
                and other.product_tower_layers == cfg.product_tower_layers
                and preset["output_embedding_dim"] == cfg.output_embedding_dim
            ):
                return key
        return "custom"

    def _sync(self) -> None:
        """Push the draft and everything derived from it to the front end, in one comm
        message: the view re-renders once, with the config and its estimates together."""
        cfg = self._config
        with self.hold_sync():
            self._syncing = True
            try:
                self.config_data = cfg.to_dict()
            finally:
                self._syncing = False
            self.errors = cfg.validate()
            self.warnings = cfg.warnings()
            self.estimates = self._estimates()
            self._after_sync()

    def _after_sync(self) -> None:
        """Hook for subclasses (the wizard refreshes its step errors)."""

    def _estimates(self) -> dict[str, Any]:
        cfg = self._config
        counts = count_params(
            cfg,
            self._feature_config,
            self._vocabularies,
            vocabularies_from="the whole data" if self._vocabularies else "",
        )
        towers = {}
        for tower in ("buyer", "product"):
            towers[tower] = {
                "layers": cfg.count_layers(tower),
                "params": counts[tower]["params"],
                "params_text": counts[tower]["text"],
                "embedding_params": counts[tower]["embeddings"],
                "summary": getattr(cfg, f"get_{tower}_tower_summary")(),
            }
        head_units = [layer.units for layer in cfg.rating_head_layers if layer.type == "dense"]
        towers["rating_head"] = {
            "layers": len(cfg.rating_head_layers),
            "summary": cfg.get_rating_head_summary(),
            "input_dim": cfg.output_embedding_dim * 2,
            "units": head_units,
            "params": counts["rating_head"]["params"],
            "params_text": counts["rating_head"]["text"],
        }
        estimate = estimate_quick_test(self._feature_config, cfg, n_rows=self._rows)
        return {
            "total_params": counts["total"],
            "total_params_text": counts["text"],
            "params_exact": counts["exact"],
            "params_assumption": counts["assumption"],
            "quick_test_time": format_duration(estimate.seconds, approx=True),
            "towers_identical": cfg.towers_are_identical(),
            **towers,
        }

    # ── the Python face ─────────────────────────────────────────────────────────────────

    def _edit(self, change: Callable[[Any], None], *, custom: bool = True) -> None:
        draft = self._config.model_copy(deep=True)
        change(draft)
        self._config = _config_class().from_dict(draft.to_dict())  # full validation
        if custom:
            self.preset = "custom"
        self.notice = ""
        self._sync()

    def _layers(self, tower: str) -> list[dict[str, Any]]:
        if tower not in TOWER_FIELDS:
            raise ValueError(f"Unknown tower {tower!r}; use 'buyer', 'product' or 'rating_head'")
        return [layer.to_dict() for layer in getattr(self._config, TOWER_FIELDS[tower])]

    def _set_layers(self, draft: Any, tower: str, layers: list[dict[str, Any]]) -> None:
        setattr(draft, TOWER_FIELDS[tower], layers)

    @staticmethod
    def _fixed_head_end(tower: str, layers: list[dict[str, Any]]) -> bool:
        """The rating head's final Dense(1) is fixed: it cannot move or be removed."""
        return (
            tower == "rating_head"
            and bool(layers)
            and layers[-1]["type"] == "dense"
            and layers[-1]["units"] == 1
        )

    def _check_index(
        self, layers: list[Any], index: int, tower: str, *, allow_end: bool = False
    ) -> int:
        if not isinstance(index, int) or isinstance(index, bool):
            raise TypeError(f"Layer index must be an integer, not {type(index).__name__}")
        size = len(layers) + (1 if allow_end else 0)
        if index < 0:
            index += len(layers)
        if not 0 <= index < size:
            raise IndexError(f"{tower} layer index {index} is out of range (0-{size - 1})")
        return index

    def apply_preset(self, name: str) -> None:
        """Replace both towers and the output dimension with preset ``name``."""
        from towerwidgets.config import presets

        if name not in presets():
            raise ValueError(f"Unknown preset {name!r}; choose one of: {', '.join(presets())}")
        self._edit(lambda draft: draft.apply_preset(name), custom=False)
        self.preset = name

    def add_layer(
        self, tower: str, type: str = "dense", index: int | None = None, **params: Any
    ) -> int:
        """Insert a layer; by default just above the tower's output layer. Returns its index."""
        kind = LAYER_TYPE_ALIASES.get(type, type)
        if kind not in LAYER_DEFAULTS:
            raise ValueError(f"Unknown layer type {type!r}; use 'dense', 'dropout' or 'batch_norm'")
        layers = self._layers(tower)
        layer = {**copy.deepcopy(LAYER_DEFAULTS[kind]), **params}
        dense_at = [i for i, existing in enumerate(layers) if existing["type"] == "dense"]
        if index is None:
            if dense_at:
                index = dense_at[-1]  # just above the output layer (or the head's Dense(1))
            else:
                index = len(layers)
                if kind == "dense" and tower != "rating_head" and "units" not in params:
                    # the first Dense of an empty tower is its output layer
                    layer["units"] = self._config.output_embedding_dim
                    layer["activation"] = params.get("activation")
        else:
            index = self._check_index(layers, index, tower, allow_end=True)
            if self._fixed_head_end(tower, layers) and index == len(layers):
                index = len(layers) - 1
        layers.insert(index, layer)
        self._edit(lambda draft: self._set_layers(draft, tower, layers))
        return index

    def move_layer(self, tower: str, src: int, dst: int) -> None:
        """Move the layer at ``src`` to position ``dst`` (drag-and-drop, Alt+↑/↓)."""
        layers = self._layers(tower)
        src = self._check_index(layers, src, tower)
        dst = self._check_index(layers, dst, tower)
        if self._fixed_head_end(tower, layers) and len(layers) - 1 in (src, dst):
            raise ValueError("The rating head's final Dense(1) is fixed; it cannot move")
        layers.insert(dst, layers.pop(src))
        self._edit(lambda draft: self._set_layers(draft, tower, layers))

    def remove_layer(self, tower: str, index: int) -> None:
        layers = self._layers(tower)
        index = self._check_index(layers, index, tower)
        if self._fixed_head_end(tower, layers) and index == len(layers) - 1:
            raise ValueError("The rating head's final Dense(1) is fixed; it cannot be removed")
        del layers[index]
        self._edit(lambda draft: self._set_layers(draft, tower, layers))

    def update_layer(self, tower: str, index: int, **params: Any) -> None:
        """Change a layer's settings (the ⚙ modal's Apply).

        Changing the units of a tower's output layer changes the output embedding
        dimension, and with it the other tower's output layer, so they stay in step.
        """
        layers = self._layers(tower)
        index = self._check_index(layers, index, tower)
        if self._fixed_head_end(tower, layers) and index == len(layers) - 1:
            raise ValueError("The rating head's final Dense(1) is fixed")
        params.pop("type", None)
        layer = {**layers[index], **params}
        layers[index] = layer
        dense_at = [i for i, existing in enumerate(layers) if existing["type"] == "dense"]
        is_output = tower != "rating_head" and dense_at and dense_at[-1] == index
        new_dim = layer.get("units") if is_output else None

        def change(draft: Any) -> None:
            self._set_layers(draft, tower, layers)
            if new_dim and new_dim != draft.output_embedding_dim:
                self._set_output_dim(draft, new_dim)

        self._edit(change)

    @staticmethod
    def _set_output_dim(draft: Any, dim: int) -> None:
        draft.output_embedding_dim = dim
        for field in ("buyer_tower_layers", "product_tower_layers"):
            layers = [layer.to_dict() for layer in getattr(draft, field)]
            dense_at = [i for i, layer in enumerate(layers) if layer["type"] == "dense"]
            if dense_at:
                layers[dense_at[-1]]["units"] = dim
                setattr(draft, field, layers)

    def set_output_dim(self, dim: int) -> None:
        """Set the output embedding dimension and each tower's output layer with it."""
        if isinstance(dim, bool) or not isinstance(dim, int):
            raise TypeError(f"Output embedding dimension must be an integer, not {dim!r}")
        if not 1 <= dim <= 2048:
            raise ValueError(f"Output embedding dimension must be between 1 and 2048 (got {dim})")
        self._edit(lambda draft: self._set_output_dim(draft, dim))

    def copy_from_buyer(self) -> None:
        """Make the product tower a copy of the buyer tower."""
        layers = self._layers("buyer")
        self._edit(lambda draft: self._set_layers(draft, "product", layers))

    def set(self, **fields: Any) -> None:
        """Set config fields (name, model_type, optimizer…) as the front end would."""
        self.notice = ""  # a refusal from an earlier edit is not this edit's
        self.set_state({"config_data": {**self.config_data, **fields}})
        if self.notice.startswith("Not applied"):
            raise ValueError(self.notice.removeprefix("Not applied: "))

    # ── commands from the front end ─────────────────────────────────────────────────────

    def _cmd_apply_preset(self, msg: dict[str, Any]) -> None:
        self.apply_preset(msg["name"])

    def _cmd_custom(self, msg: dict[str, Any]) -> None:
        self.preset = "custom"

    def _cmd_add_layer(self, msg: dict[str, Any]) -> int:
        return self.add_layer(
            msg["tower"], msg.get("type", "dense"), msg.get("index"), **(msg.get("params") or {})
        )

    def _cmd_move_layer(self, msg: dict[str, Any]) -> None:
        self.move_layer(msg["tower"], msg["src"], msg["dst"])

    def _cmd_remove_layer(self, msg: dict[str, Any]) -> None:
        self.remove_layer(msg["tower"], msg["index"])

    def _cmd_update_layer(self, msg: dict[str, Any]) -> None:
        self.update_layer(msg["tower"], msg["index"], **(msg.get("params") or {}))

    def _cmd_copy_from_buyer(self, msg: dict[str, Any]) -> None:
        self.copy_from_buyer()

    def _cmd_set_output_dim(self, msg: dict[str, Any]) -> None:
        self.set_output_dim(msg["dim"])


class TowerBuilder(ConfigEditor):
    """Step 2 of the wizard on its own: presets, both towers, output embedding, rating head."""

    _view = traitlets.Unicode("tower_builder").tag(sync=True)

    def __init__(
        self, config: Any = None, feature_config: Any = None, data: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(config=config, feature_config=feature_config, data=data, **kwargs)

    def __repr__(self) -> str:
        cfg = self._config
        return (
            f"TowerBuilder(preset={self.preset!r}, buyer={cfg.get_buyer_tower_summary()!r}, "
            f"product={cfg.get_product_tower_summary()!r})"
        )
