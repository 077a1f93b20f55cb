"""``ModelingPage``: the three chapters — Features, Model Structure, Quick Test — on one page."""

from __future__ import annotations

from typing import Any, ClassVar

import traitlets

from towerwidgets.widgets._base import StoreWatching, TowerWidget, child_trait
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
    """The Modeling page: a Features summary, the Model Structure chapter, the Quick Test.

    Each part follows the store on its own (``StoreWatching``): a config saved in the
    Model Structure chapter, or anywhere else, shows up in the Quick Test chapter.
    """

    _view = traitlets.Unicode("modeling_page").tag(sync=True)
    title = traitlets.Unicode("Modeling").tag(sync=True)
    subtitle = traitlets.Unicode("").tag(sync=True)
    features = traitlets.List(traitlets.Dict()).tag(sync=True)
    compare = traitlets.Bool(False).tag(sync=True)
    structure = child_trait(ModelStructure)
    quick_test = child_trait(QuickTestPanel)

    _watch_tables: ClassVar[tuple[str, ...]] = ("feature_configs",)
    _commands: ClassVar[dict[str, str]] = {
        "toggle_compare": "_cmd_toggle_compare",
        "refresh": "_cmd_refresh",
    }

    def __init__(self, store: Any = None, data: Any = None, **kwargs: Any) -> None:
        if store is None:
            from towerwidgets.store import Store

            store = Store()
        self._store = store
        super().__init__(**kwargs)
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

    def _cmd_toggle_compare(self, msg: dict[str, Any]) -> None:
        self.compare = not self.compare

    def _cmd_refresh(self, msg: dict[str, Any]) -> None:
        self.refresh()

    def __repr__(self) -> str:
        return f"ModelingPage(title={self.title!r}, feature_configs={len(self.features)})"
