"""``ModelingPage``: the three chapters — Features, Model Structure, Quick Test — on one page."""

from __future__ import annotations

from typing import Any, ClassVar

import traitlets

from towerwidgets.widgets._base import StoreWatching, TowerWidget, child_trait
from towerwidgets.widgets.features import FeatureEditor
from towerwidgets.widgets.quick_test import QuickTestPanel
from towerwidgets.widgets.structure import ModelStructure


def feature_card(fc: Any) -> dict[str, Any]:
    return {
        "id": fc.id,
        "name": fc.name,
        "buyer_tensor_dim": fc.buyer_tensor_dim,
        "product_tensor_dim": fc.product_tensor_dim,
        "buyer_features": [f.describe() for f in fc.buyer_features],
        "product_features": [f.describe() for f in fc.product_features],
        "crosses": [c.describe() for c in fc.crosses],
        "valid": not fc.validate(),
    }


class ModelingPage(StoreWatching, TowerWidget):
    """The Modeling page: the Features chapter (stored configs as cards, + New Feature
    Config and Edit open a ``FeatureEditor`` on the page's ``data``), the Model Structure
    chapter, the Quick Test.

    Each part follows the store on its own (``StoreWatching``): a config saved in the
    Model Structure chapter, or anywhere else, shows up in the Quick Test chapter.
    """

    _view = traitlets.Unicode("modeling_page").tag(sync=True)
    title = traitlets.Unicode("Modeling").tag(sync=True)
    subtitle = traitlets.Unicode("").tag(sync=True)
    features = traitlets.List(traitlets.Dict()).tag(sync=True)
    compare = traitlets.Bool(False).tag(sync=True)
    # The Features chapter's editor while open (+ New Feature Config, Edit on a card).
    feature_editor = child_trait(FeatureEditor)
    # Whether the page was given data (the editor needs it to profile columns).
    has_data = traitlets.Bool(False).tag(sync=True)
    # The Features chapter's last outcome ("Saved “…”", or why the editor cannot open).
    features_message = traitlets.Unicode("").tag(sync=True)
    structure = child_trait(ModelStructure)
    quick_test = child_trait(QuickTestPanel)

    _watch_tables: ClassVar[tuple[str, ...]] = ("feature_configs",)
    _commands: ClassVar[dict[str, str]] = {
        "toggle_compare": "_cmd_toggle_compare",
        "refresh": "_cmd_refresh",
        "new_features": "_cmd_new_features",
        "edit_features": "_cmd_edit_features",
    }

    def __init__(self, store: Any = None, data: Any = None, **kwargs: Any) -> None:
        if store is None:
            from towerwidgets.store import Store

            store = Store()
        self._store = store
        self._data = data
        super().__init__(**kwargs)
        self.has_data = data is not None
        self._watch_store()
        self.structure = ModelStructure(store, data=data)
        self.quick_test = QuickTestPanel(store, data=data)
        self._load_features()

    @property
    def store(self) -> Any:
        return self._store

    def refresh(self) -> None:
        """Reload every chapter from the store (also picks up other processes' writes)."""
        self._rebaseline()
        with self._store_lock:
            self._load_features()
        self.structure.refresh()
        self.quick_test.refresh()

    def _load_features(self) -> None:
        self.features = [feature_card(fc) for fc in self._store.feature_configs.list()]

    def _store_changed(self, tables: set[str]) -> None:
        if "feature_configs" in tables:
            self._load_features()

    def check_store(self) -> set[str]:
        """Pick up other processes' writes, in the page and both chapters."""
        changed = super().check_store()
        for child in (self.structure, self.quick_test):
            if child is not None:
                changed |= child.check_store()
        return changed

    def close(self) -> None:
        """Close the page, its chapters and theirs (wizard, metrics table): none keeps
        following the store (``TowerWidget.close`` closes child widgets)."""
        super().close()

    # ── the Features chapter's editor ───────────────────────────────────────────────────

    def new_feature_config(self, name: str | None = None) -> FeatureEditor:
        """+ New Feature Config: open the editor on the page's data with a proposal."""
        return self._open_editor(None, name)

    def edit_feature_config(self, config_id: int) -> FeatureEditor:
        """Edit on a card: open the editor on the stored config and the page's data."""
        return self._open_editor(self._store.feature_configs.get(config_id), None)

    def _open_editor(self, config: Any, name: str | None) -> FeatureEditor:
        if self._data is None:
            self.features_message = (
                "Give the page data to build feature configs here: "
                "tw.ModelingPage(store, data=df) (a DataFrame or a .csv/.parquet path)."
            )
            raise ValueError(self.features_message)
        editor = FeatureEditor(self._data, store=self._store, config=config, name=name)
        editor.on_save(lambda stored: self._editor_done(f"Saved “{stored.name}”"))
        editor.on_cancel(lambda: self._editor_done(""))
        old, self.feature_editor = self.feature_editor, editor
        self.features_message = ""
        if old is not None:
            old.close()
        return editor

    def _editor_done(self, message: str) -> None:
        old, self.feature_editor = self.feature_editor, None
        self.features_message = message
        self._load_features()
        if old is not None:
            old.close()

    def _command_failed(self, kind: str, exc: BaseException) -> None:
        if kind in ("new_features", "edit_features"):
            from towerwidgets.widgets._base import _message

            self.features_message = _message(exc)

    def _cmd_new_features(self, msg: dict[str, Any]) -> None:
        self.new_feature_config()

    def _cmd_edit_features(self, msg: dict[str, Any]) -> None:
        self.edit_feature_config(int(msg["config_id"]))

    def _cmd_toggle_compare(self, msg: dict[str, Any]) -> None:
        self.compare = not self.compare

    def _cmd_refresh(self, msg: dict[str, Any]) -> None:
        self.refresh()

    def __repr__(self) -> str:
        return f"ModelingPage(title={self.title!r}, feature_configs={len(self.features)})"
