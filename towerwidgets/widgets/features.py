"""``FeatureEditor``: the Features chapter's editor — columns to towers, transforms, crosses.

Give it a DataFrame (or a .csv/.parquet path): it profiles the columns, proposes a
FeatureConfig (``towerwidgets.config.profile``) and lets the user change it column by
column. The draft lives in Python (``.config``); every edit goes through the config model
and comes back with ``errors`` (``validate()`` then ``validate_against(data)``, verbatim)
and the towers' input dimensions, in one comm message.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import traitlets

from towerwidgets.config import FeatureConfig
from towerwidgets.config.feature_config import Cross, Feature
from towerwidgets.config.profile import SAMPLE_ROWS, profile, read_table
from towerwidgets.errors import ConfigValidationError, NotFoundError
from towerwidgets.widgets._base import TowerWidget, _message

TOWERS = ("buyer", "product")
_PARAMS = ("embedding_dim", "num_buckets", "period")


class FeatureEditor(TowerWidget):
    """Build or edit a FeatureConfig from data; ``save()`` puts it in the store.

    ``editor.set_column("price", tower="product", transform="bucketize", num_buckets=10)``
    is what choosing those in the column's row does.
    """

    _view = traitlets.Unicode("feature_editor").tag(sync=True)
    # One profile per data column: dtype, distinct, nulls, histogram, proposal and why.
    columns = traitlets.List(traitlets.Dict()).tag(sync=True)
    # Where the data came from and how much of it was profiled, in words.
    source = traitlets.Unicode("").tag(sync=True)
    # The draft FeatureConfig as JSON (Python is the authority; edits come as commands).
    config_data = traitlets.Dict().tag(sync=True)
    # validate() then validate_against(data): the config model's messages, verbatim.
    errors = traitlets.List(traitlets.Unicode()).tag(sync=True)
    # The errors naming a column, by column (shown in that column's row).
    column_errors = traitlets.Dict().tag(sync=True)
    # The towers' input widths: {"buyer": 72, "product": 48}.
    dims = traitlets.Dict().tag(sync=True)
    # The last refused edit or failed save, in our words ("" when none).
    notice = traitlets.Unicode("").tag(sync=True)
    # "create" for a new config, "edit" for a stored one.
    mode = traitlets.Unicode("create").tag(sync=True)
    # True once saved or cancelled (a page then closes the editor).
    closed = traitlets.Bool(False).tag(sync=True)
    # {"id", "name"} of the last save.
    saved = traitlets.Dict().tag(sync=True)

    _commands: ClassVar[dict[str, str]] = {
        "set_column": "_cmd_set_column",
        "add_transform": "_cmd_add_transform",
        "update_transform": "_cmd_update_transform",
        "remove_transform": "_cmd_remove_transform",
        "set_field": "_cmd_set_field",
        "add_cross": "_cmd_add_cross",
        "remove_cross": "_cmd_remove_cross",
        "save": "_cmd_save",
        "cancel": "_cmd_cancel",
    }

    def __init__(
        self,
        data: Any,
        store: Any = None,
        config: FeatureConfig | dict[str, Any] | None = None,
        name: str | None = None,
        sample_rows: int = SAMPLE_ROWS,
        **kwargs: Any,
    ) -> None:
        df = read_table(data)
        self._data = df
        self._checked: dict[str, list[str]] = {}
        self._store = store
        self._on_save: list[Callable[[Any], None]] = []
        self._on_cancel: list[Callable[[], None]] = []
        if isinstance(config, dict):
            config = FeatureConfig.from_dict(config)
        rows, proposed = profile(
            df,
            buyer_id=config.buyer_id_column if config else None,
            product_id=config.product_id_column if config else None,
            limit=sample_rows,
        )
        if config is None:
            draft = proposed.model_copy(update={"name": name or _default_name(data)})
        else:
            draft = config.model_copy(deep=True)
            if name is not None:
                draft.name = name
        super().__init__(**kwargs)
        self._config = draft
        profiled = f"{len(df):,} rows"
        if len(df) > sample_rows:
            profiled += f" (statistics from a sample of {sample_rows:,})"
        where = f"{Path(data).name} · " if isinstance(data, str | Path) else ""
        with self.hold_sync():  # the front end gets the whole first state at once
            self.mode = "edit" if draft.id is not None else "create"
            self.columns = rows
            self.source = f"{where}{profiled} · {len(df.columns)} columns"
            self._sync()

    # ── state ───────────────────────────────────────────────────────────────────────────

    @property
    def config(self) -> FeatureConfig:
        """A copy of the draft FeatureConfig."""
        return self._config.model_copy(deep=True)

    @property
    def data(self) -> Any:
        return self._data

    @property
    def store(self) -> Any:
        return self._store

    def problems(self) -> list[str]:
        """What Save would refuse: the config's own problems, then those against the data."""
        found = self._config.validate() + self._against_data()
        return list(dict.fromkeys(found))

    def _against_data(self) -> list[str]:
        """``validate_against(data)``, remembered per set of column uses: its answer depends
        only on which columns are used where and how (not on names, dims or buckets), and on
        a million rows a text column's number check takes a second."""
        cfg = self._config
        key = repr(
            (
                cfg.buyer_id_column,
                cfg.product_id_column,
                [(t, f.column, f.transform) for t in TOWERS for f in cfg.features(t)],
                [(c.tower, tuple(c.columns)) for c in cfg.crosses],
            )
        )
        if key not in self._checked:
            if len(self._checked) >= 64:
                self._checked.pop(next(iter(self._checked)))
            self._checked[key] = cfg.validate_against(self._data)
        return list(self._checked[key])

    def _sync(self) -> None:
        cfg = self._config
        errors = self.problems()
        by_column: dict[str, list[str]] = {}
        for row in self.columns:
            named = [m for m in errors if repr(row["name"]) in m]
            if named:
                by_column[row["name"]] = named
        with self.hold_sync():
            self.config_data = cfg.to_dict()
            self.errors = errors
            self.column_errors = by_column
            self.dims = {"buyer": cfg.buyer_tensor_dim, "product": cfg.product_tensor_dim}

    def _edit(self, change: Callable[[dict[str, Any]], None]) -> None:
        """Apply ``change`` to the draft's JSON; the config model must accept the result,
        else nothing changes and ValueError says why in the config's words."""
        data = self._config.to_dict()
        change(data)
        try:
            draft = FeatureConfig.from_dict(data)
        except ValueError as exc:
            raise ValueError(_message(exc)) from None
        self._config = draft
        self.notice = ""
        self._sync()

    def _column(self, column: str) -> str:
        names = [row["name"] for row in self.columns]
        if column not in names:
            raise ValueError(f"Column {column!r} is not in the data; available: {', '.join(names)}")
        return column

    def tower_of(self, column: str) -> str | None:
        """The tower a column feeds ("buyer", "product"), or None when it is left out."""
        for tower in TOWERS:
            if any(f.column == column for f in self._config.features(tower)):
                return tower
        return None

    def transforms_of(self, column: str) -> list[Feature]:
        tower = self.tower_of(column)
        return [f for f in self._config.features(tower) if f.column == column] if tower else []

    # ── the Python face ─────────────────────────────────────────────────────────────────

    def set_column(
        self,
        column: str,
        tower: str | None = "keep",
        transform: str | None = None,
        **params: Any,
    ) -> None:
        """Put ``column`` in ``tower`` (None leaves it out) with ``transform`` and its
        parameters (embedding_dim, num_buckets, period); what is not given is kept, or
        taken from the proposal."""
        self._column(column)
        unknown = sorted(set(params) - set(_PARAMS))
        if unknown:
            raise TypeError(f"Unknown parameter(s) {', '.join(unknown)}; use {', '.join(_PARAMS)}")
        current_tower = self.tower_of(column)
        target = current_tower if tower == "keep" else tower
        if target not in (None, *TOWERS):
            raise ValueError(f"Unknown tower {tower!r}; use 'buyer', 'product' or None")
        features = [f.model_dump(exclude_none=True) for f in self.transforms_of(column)]
        if transform is not None or params or not features:
            base = features[0] if features else self._proposal(column)
            if transform is not None and transform != base.get("transform"):
                base = {"column": column, "transform": transform}
            features = [{**base, **params}, *features[1:]]
        if target is None:
            features = []

        def change(data: dict[str, Any]) -> None:
            for name in TOWERS:
                data[f"{name}_features"] = [
                    f for f in data[f"{name}_features"] if f["column"] != column
                ]
            if target is not None:
                data[f"{target}_features"] += features

        self._edit(change)

    def leave_out(self, column: str) -> None:
        """Take ``column`` out of both towers."""
        self.set_column(column, tower=None)

    def add_transform(self, column: str, transform: str, **params: Any) -> None:
        """Feed ``column`` through a second transform too (a time as z-score and cyclical)."""
        tower = self.tower_of(self._column(column))
        if tower is None:
            raise ValueError(f"Put column {column!r} in a tower first, then add a transform")
        feature = {"column": column, "transform": transform, **params}
        self._edit(lambda data: data[f"{tower}_features"].append(feature))

    def update_transform(self, column: str, index: int, **changes: Any) -> None:
        """Change the ``index``-th transform of ``column`` (its kind or parameters)."""
        tower, at = self._locate(column, index)

        def change(data: dict[str, Any]) -> None:
            old = data[f"{tower}_features"][at]
            if "transform" in changes and changes["transform"] != old["transform"]:
                old = {"column": column}  # the new kind brings its own defaults
            data[f"{tower}_features"][at] = {**old, **changes}

        self._edit(change)

    def remove_transform(self, column: str, index: int = 0) -> None:
        """Drop one transform of ``column``; the last one leaves the column out."""
        tower, at = self._locate(column, index)
        self._edit(lambda data: data[f"{tower}_features"].pop(at))

    def _locate(self, column: str, index: int) -> tuple[str, int]:
        tower = self.tower_of(self._column(column))
        if tower is None:
            raise ValueError(f"Column {column!r} is not in a tower")
        at = [i for i, f in enumerate(self._config.features(tower)) if f.column == column]
        if not isinstance(index, int) or not 0 <= index < len(at):
            raise IndexError(f"Column {column!r} has {len(at)} transform(s); no number {index}")
        return tower, at[index]

    def _proposal(self, column: str) -> dict[str, Any]:
        for row in self.columns:
            if row["name"] == column and row["proposed"]:
                return dict(row["proposed"])
        return {"column": column, "transform": "embedding"}

    def set_name(self, name: str) -> None:
        self._edit(lambda data: data.update(name=name))

    def set_ids(self, buyer: str | None = None, product: str | None = None) -> None:
        """Choose the id columns; an id not yet in its tower joins it as an embedding."""
        for column in (buyer, product):
            if column:
                self._column(column)

        def change(data: dict[str, Any]) -> None:
            for tower, column in (("buyer", buyer), ("product", product)):
                if column is None:
                    continue
                data[f"{tower}_id_column"] = column
                if column and not any(
                    f["column"] == column for t in TOWERS for f in data[f"{t}_features"]
                ):
                    data[f"{tower}_features"].insert(0, {"column": column})

        self._edit(change)

    def add_cross(
        self,
        columns: list[str],
        tower: str,
        hash_buckets: int | None = None,
        embedding_dim: int | None = None,
    ) -> None:
        """Add a hashed cross of two to four columns to ``tower``."""
        for column in columns:
            self._column(column)
        cross: dict[str, Any] = {"tower": tower, "columns": list(columns)}
        if hash_buckets is not None:
            cross["hash_buckets"] = hash_buckets
        if embedding_dim is not None:
            cross["embedding_dim"] = embedding_dim
        Cross.model_validate(cross)  # a clear message before anything changes
        self._edit(lambda data: data["crosses"].append(cross))

    def remove_cross(self, index: int) -> None:
        if not isinstance(index, int) or not 0 <= index < len(self._config.crosses):
            raise IndexError(f"There is no cross number {index}")
        self._edit(lambda data: data["crosses"].pop(index))

    def save(self) -> FeatureConfig:
        """Store the config (create, or update when editing) and return the stored copy;
        ConfigValidationError lists what is wrong and nothing is stored."""
        problems = self.problems()
        if problems:
            self.notice = "Not saved: fix the problems listed below."
            raise ConfigValidationError("Feature config", problems)
        stored = self._config
        if self._store is not None:
            repo = self._store.feature_configs
            try:
                stored = repo.update(stored) if stored.id is not None else repo.create(stored)
            except NotFoundError:
                self._config = self._config.model_copy(update={"id": None}, deep=True)
                self.mode = "create"
                self.notice = (
                    f"“{self._config.name}” was deleted elsewhere while you edited it; "
                    "Save again to store your edits as a new feature config."
                )
                self._sync()
                raise ValueError(self.notice) from None
            except Exception as exc:
                self.notice = (
                    f"Could not save “{self._config.name}”: {_message(exc)}. "
                    "Your edits are kept; Save again to retry."
                )
                raise
        self._config = stored.model_copy(deep=True)
        self.mode = "edit" if stored.id is not None else self.mode
        self.notice = ""
        self._sync()
        self.saved = {"id": stored.id, "name": stored.name}
        self.closed = True
        for callback in list(self._on_save):
            callback(stored)
        return stored

    def cancel(self) -> None:
        """Close without saving."""
        self.closed = True
        for callback in list(self._on_cancel):
            callback()

    def on_save(self, callback: Callable[[Any], None]) -> None:
        """Call ``callback(config)`` after each successful save."""
        self._on_save.append(callback)

    def on_cancel(self, callback: Callable[[], None]) -> None:
        self._on_cancel.append(callback)

    # ── commands from the front end ─────────────────────────────────────────────────────

    def _command_failed(self, kind: str, exc: BaseException) -> None:
        if kind == "save" and isinstance(exc, ConfigValidationError):
            return  # the notice and the listed errors already say it
        if kind == "save" and self.notice:
            return
        self.notice = f"Not applied: {_message(exc)}"

    def _cmd_set_column(self, msg: dict[str, Any]) -> None:
        params = {k: msg[k] for k in _PARAMS if msg.get(k) is not None}
        self.set_column(msg["column"], msg.get("tower", "keep"), msg.get("transform"), **params)

    def _cmd_add_transform(self, msg: dict[str, Any]) -> None:
        self.add_transform(msg["column"], msg["transform"])

    def _cmd_update_transform(self, msg: dict[str, Any]) -> None:
        changes = {k: msg[k] for k in ("transform", *_PARAMS) if k in msg}
        self.update_transform(msg["column"], int(msg.get("index", 0)), **changes)

    def _cmd_remove_transform(self, msg: dict[str, Any]) -> None:
        self.remove_transform(msg["column"], int(msg.get("index", 0)))

    def _cmd_set_field(self, msg: dict[str, Any]) -> None:
        field, value = msg["field"], msg.get("value")
        if field == "name":
            self.set_name(str(value))
        elif field == "buyer_id_column":
            self.set_ids(buyer=str(value or ""))
        elif field == "product_id_column":
            self.set_ids(product=str(value or ""))
        else:
            raise ValueError(f"Unknown field {field!r}")

    def _cmd_add_cross(self, msg: dict[str, Any]) -> None:
        self.add_cross(
            list(msg["columns"]), msg["tower"], msg.get("hash_buckets"), msg.get("embedding_dim")
        )

    def _cmd_remove_cross(self, msg: dict[str, Any]) -> None:
        self.remove_cross(int(msg["index"]))

    def _cmd_save(self, msg: dict[str, Any]) -> dict[str, Any]:
        stored = self.save()
        return {"id": stored.id, "name": stored.name}

    def _cmd_cancel(self, msg: dict[str, Any]) -> None:
        self.cancel()

    def __repr__(self) -> str:
        cfg = self._config
        return (
            f"FeatureEditor(config={cfg.name!r}, buyer={cfg.buyer_tensor_dim}D, "
            f"product={cfg.product_tensor_dim}D, mode={self.mode!r})"
        )


def _default_name(data: Any) -> str:
    if isinstance(data, str | Path):
        return f"{Path(data).stem} features"
    return "New features"
