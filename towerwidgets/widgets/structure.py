"""``ModelStructure``: the Model Structure chapter — config cards, View, Edit, Clone, Delete."""

from __future__ import annotations

from typing import Any, ClassVar

import traitlets

from towerwidgets.codegen.params import count_params, summary_rows, vocabulary_sizes
from towerwidgets.config.model_config import MODEL_TYPE_LABELS, OPTIMIZER_LABELS
from towerwidgets.widgets._base import StoreWatching, TowerWidget, child_trait
from towerwidgets.widgets._format import format_number, relative_time
from towerwidgets.widgets.wizard import ModelWizard

TYPE_LABELS = MODEL_TYPE_LABELS
TYPE_SUBTITLES = {
    "retrieval": "Two-Tower",
    "ranking": "Rating Head",
    "multitask": "Retrieval + Ranking",
}

PREVIEW_RATING_COLUMN = "rating"


def layer_text(layer: Any) -> dict[str, str]:
    """A layer as the read-only views show it: label and detail."""
    return {"type": layer.type, "label": layer.label(), "detail": layer.detail()}


def tower_extras(layers: Any) -> str:
    """What a dense-units summary leaves out: '+Dropout(0.2) +BatchNorm +L2' ('' if nothing)."""
    extras = [layer.label() for layer in layers if layer.type != "dense"]
    if any(getattr(layer, "l2_reg", 0) for layer in layers):
        extras.append("L2")
    return " ".join(f"+{extra}" for extra in dict.fromkeys(extras))


def config_card(cfg: Any, now: Any = None) -> dict[str, Any]:
    """What one card of the chapter shows."""
    return {
        "id": cfg.id,
        "name": cfg.name,
        "description": cfg.description,
        "model_type": cfg.model_type,
        "type_label": TYPE_LABELS[cfg.model_type],
        "type_subtitle": TYPE_SUBTITLES[cfg.model_type],
        "buyer_summary": cfg.get_buyer_tower_summary(),
        "product_summary": cfg.get_product_tower_summary(),
        "rating_head_summary": cfg.get_rating_head_summary(),
        "buyer_extras": tower_extras(cfg.buyer_tower_layers),
        "product_extras": tower_extras(cfg.product_tower_layers),
        "optimizer": OPTIMIZER_LABELS[cfg.optimizer],
        "learning_rate": format_number(cfg.learning_rate),
        "batch_size": cfg.batch_size,
        "epochs": cfg.epochs,
        "output_dim": cfg.output_embedding_dim,
        "updated": relative_time(cfg.updated_at, now) if cfg.updated_at else "not saved",
    }


def config_view(cfg: Any, feature_config: Any = None, data: Any = None) -> dict[str, Any]:
    """The read-only View: architecture, training parameters, the parameter count (the
    same figure as the wizard's and the panel's)."""
    sizes = vocabulary_sizes(feature_config, data)
    counts = count_params(
        cfg, feature_config, sizes, vocabularies_from="the whole data" if sizes else ""
    )
    dims = (
        (feature_config.buyer_tensor_dim, feature_config.product_tensor_dim)
        if feature_config is not None
        else (None, None)
    )
    return {
        **config_card(cfg),
        "buyer_layers": [layer_text(layer) for layer in cfg.buyer_tower_layers],
        "product_layers": [layer_text(layer) for layer in cfg.product_tower_layers],
        "rating_head_layers": [layer_text(layer) for layer in cfg.rating_head_layers],
        "share_tower_weights": cfg.share_tower_weights,
        "retrieval_weight": cfg.retrieval_weight,
        "ranking_weight": cfg.ranking_weight,
        "buyer_input_dim": dims[0],
        "product_input_dim": dims[1],
        "params_text": counts["text"],
        "params_assumption": counts["assumption"],
        "params_total": counts["total"],
        "summary_rows": summary_rows(cfg, feature_config, sizes),
        "tower_params": {
            part: counts[part]["text"] for part in ("buyer", "product", "rating_head")
        },
    }


class ModelStructure(StoreWatching, TowerWidget):
    """The chapter: list the store's ModelConfigs; create, view, edit, clone and delete them.

    The cards follow the store: configs saved, edited or deleted elsewhere (another widget,
    code, the CLI) show up without a manual refresh; see ``StoreWatching``.
    """

    _view = traitlets.Unicode("model_structure").tag(sync=True)
    configs = traitlets.List(traitlets.Dict()).tag(sync=True)
    viewing = traitlets.Dict().tag(sync=True)
    feature_configs = traitlets.List(traitlets.Dict()).tag(sync=True)
    feature_config_id = traitlets.Int(None, allow_none=True).tag(sync=True)
    code = traitlets.Unicode("").tag(sync=True)
    code_error = traitlets.Unicode("").tag(sync=True)
    confirm_delete = traitlets.Dict().tag(sync=True)
    message = traitlets.Unicode("").tag(sync=True)
    wizard = child_trait(ModelWizard)

    _watch_tables: ClassVar[tuple[str, ...]] = ("feature_configs", "model_configs")
    _commands: ClassVar[dict[str, str]] = {
        "new": "_cmd_new",
        "view": "_cmd_view",
        "close_view": "_cmd_close_view",
        "edit": "_cmd_edit",
        "clone": "_cmd_clone",
        "delete": "_cmd_delete",
        "confirm_delete": "_cmd_confirm_delete",
        "cancel_delete": "_cmd_cancel_delete",
        "refresh": "_cmd_refresh",
    }

    def __init__(
        self, store: Any = None, feature_config: Any = None, data: Any = None, **kwargs: Any
    ) -> None:
        if store is None:
            from towerwidgets.store import Store

            store = Store()
        self._store = store
        self._feature_config = feature_config
        self._data = data  # for vocabulary sizes and row counts in counts and estimates
        self._on_change: list[Any] = []
        self._viewed_stamp: Any = None
        super().__init__(**kwargs)
        self._watch_store()
        self.refresh()

    @property
    def store(self) -> Any:
        return self._store

    def on_change(self, callback: Any) -> None:
        """Call ``callback()`` after configs were created, edited, cloned or deleted."""
        self._on_change.append(callback)

    def _changed(self) -> None:
        if self._watcher is None or not self._watcher.active:
            self.refresh()  # normally the store's change signal already did
        for callback in list(self._on_change):
            callback()

    def refresh(self) -> None:
        """Reload the cards (and feature configs for the code preview) from the store."""
        self._rebaseline()
        with self._store_lock:
            self._load_feature_configs()
            self._load_configs()

    def _store_changed(self, tables: set[str]) -> None:
        if "feature_configs" in tables:
            self._load_feature_configs()
        if "model_configs" in tables:
            self._load_configs()

    def _load_feature_configs(self) -> None:
        known = {fc["id"]: fc["name"] for fc in self.feature_configs}
        features = self._store.feature_configs.list()
        self.feature_configs = [{"id": fc.id, "name": fc.name} for fc in features]
        if self.feature_config_id is None and self._feature_config is not None:
            self.feature_config_id = getattr(self._feature_config, "id", None)
        selected = self.feature_config_id
        if selected is not None and selected not in {fc.id for fc in features}:
            self.feature_config_id = None
            if selected in known and self._elsewhere:
                self.message = f"Feature config {known[selected]!r} was deleted elsewhere"
            if self._feature_config is not None and getattr(self._feature_config, "id", None):
                self._feature_config = None  # do not bring the deleted one back
        if self.feature_config_id is None and len(features) == 1:
            self.feature_config_id = features[0].id  # the only one: nothing to choose

    def _load_configs(self) -> None:
        configs = self._store.model_configs.list()
        self.configs = [config_card(cfg) for cfg in configs]
        stamps = {cfg.id: cfg.updated_at for cfg in configs}
        if self.viewing:
            viewed = self.viewing.get("id")
            if viewed not in stamps:
                name = self.viewing.get("name", "")
                self.close_view()
                if self._elsewhere:
                    self.message = f"{name!r} was deleted elsewhere; its view was closed"
            elif stamps[viewed] != self._viewed_stamp:
                self.view(viewed)  # edited elsewhere: show what is stored now
        pending = self.confirm_delete.get("id") if self.confirm_delete else None
        if pending is not None and pending not in stamps:
            name = self.confirm_delete.get("name", "")
            self.confirm_delete = {}
            if self._elsewhere:
                self.message = f"{name!r} was already deleted elsewhere"

    # ── actions (the Python face; the buttons send the same as commands) ────────────────

    def new(self) -> ModelWizard:
        """+ New Model: open the wizard on a fresh draft."""
        return self._open_wizard(None)

    def edit(self, config_id: int) -> ModelWizard:
        return self._open_wizard(self._store.model_configs.get(config_id))

    def _open_wizard(self, config: Any) -> ModelWizard:
        self.close_view()
        wizard = ModelWizard(
            store=self._store,
            feature_config=self._selected_feature_config(),
            config=config,
            data=self._data,
        )
        wizard.on_save(lambda stored: self._wizard_done(f"Saved “{stored.name}”"))
        wizard.on_cancel(lambda: self._wizard_done(""))
        old, self.wizard = self.wizard, wizard
        if old is not None:  # reopening replaces the wizard: the old one stops following the store
            old.close()
        return wizard

    def _wizard_done(self, message: str) -> None:
        old, self.wizard = self.wizard, None
        self.message = message
        if old is not None:
            old.close()
        self._changed()

    def view(self, config_id: int) -> dict[str, Any]:
        """View: read-only architecture and parameters, plus generated code when a
        FeatureConfig is selected."""
        cfg = self._store.model_configs.get(config_id)
        fc = self._selected_feature_config()
        self._viewed_stamp = cfg.updated_at
        self.viewing = config_view(cfg, fc, self._data)
        self._render_code(cfg, fc)
        return self.viewing

    def close_view(self) -> None:
        self._viewed_stamp = None
        self.viewing = {}
        self.code = ""
        self.code_error = ""

    @traitlets.observe("feature_config_id")
    def _on_feature_config(self, change: Any) -> None:
        if self.viewing:
            self.view(self.viewing["id"])

    def _selected_feature_config(self) -> Any:
        if self.feature_config_id is None:
            return None
        try:
            return self._store.feature_configs.get(self.feature_config_id)
        except LookupError:
            return None

    def _render_code(self, cfg: Any, fc: Any) -> None:
        self.code, self.code_error = "", ""
        if fc is None:
            return
        from towerwidgets.codegen import generate_trainer_code

        rating_column = self._preview_rating_column(cfg)
        try:
            result = generate_trainer_code(fc, cfg, rating_column=rating_column)
        except Exception as exc:  # show why, never break the chapter
            self.code_error = f"Could not generate code: {exc}"
            return
        if result.is_valid:
            self.code = result.trainer_code
            if rating_column:
                self.message = (
                    f"Preview reads the rating from column {rating_column!r}; the Quick Test "
                    "chapter picks the real one."
                )
        else:
            self.code_error = result.validation_error or "The generated code is not valid."

    def _preview_rating_column(self, cfg: Any) -> str | None:
        """Ranking/multitask code needs a rating column: the one this config's latest quick
        test used, else a placeholder, so the preview shows the real model."""
        if cfg.model_type == "retrieval":
            return None
        for test in self._store.quick_tests.list(model_config_id=cfg.id, limit=10):
            if test.rating_column:
                return test.rating_column
        return PREVIEW_RATING_COLUMN

    def clone(self, config_id: int, name: str | None = None) -> Any:
        with self._own_write():
            copy = self._store.model_configs.clone(config_id, name)
        self.message = f"Cloned as {copy.name!r}"
        self._changed()
        return copy

    def delete(self, config_id: int) -> dict[str, Any]:
        """Del: ask for confirmation, naming the quick tests the delete removes."""
        cfg = self._store.model_configs.get(config_id)
        tests = self._store.quick_tests.list(model_config_id=config_id)
        self.confirm_delete = {
            "id": cfg.id,
            "name": cfg.name,
            "quick_tests": [f"#{t.id} {t.title()} ({t.status})" for t in tests],
        }
        return self.confirm_delete

    def confirm(self) -> int:
        """Delete the config awaiting confirmation; returns how many quick tests went with it."""
        if not self.confirm_delete:
            raise ValueError("Nothing is waiting for delete confirmation")
        pending, self.confirm_delete = self.confirm_delete, {}
        with self._own_write():
            removed = self._store.model_configs.delete(pending["id"], force=True)
        self.message = f"Deleted {pending['name']!r}" + (
            f" and {removed} quick test{'s' if removed != 1 else ''}" if removed else ""
        )
        if self.viewing.get("id") == pending["id"]:
            self.close_view()
        self._changed()
        return removed

    def cancel_delete(self) -> None:
        self.confirm_delete = {}

    # ── commands ────────────────────────────────────────────────────────────────────────

    def _cmd_new(self, msg: dict[str, Any]) -> None:
        self.new()

    def _cmd_view(self, msg: dict[str, Any]) -> None:
        self.view(int(msg["config_id"]))

    def _cmd_close_view(self, msg: dict[str, Any]) -> None:
        self.close_view()

    def _cmd_edit(self, msg: dict[str, Any]) -> None:
        self.edit(int(msg["config_id"]))

    def _cmd_clone(self, msg: dict[str, Any]) -> None:
        self.clone(int(msg["config_id"]))

    def _cmd_delete(self, msg: dict[str, Any]) -> None:
        self.delete(int(msg["config_id"]))

    def _cmd_confirm_delete(self, msg: dict[str, Any]) -> int:
        return self.confirm()

    def _cmd_cancel_delete(self, msg: dict[str, Any]) -> None:
        self.cancel_delete()

    def _cmd_refresh(self, msg: dict[str, Any]) -> None:
        self.refresh()

    def _command_failed(self, kind: str, exc: BaseException) -> None:
        from towerwidgets.widgets._base import _message

        self.message = f"Could not {kind.replace('_', ' ')}: {_message(exc)}"

    def __repr__(self) -> str:
        return f"ModelStructure(configs={len(self.configs)})"
