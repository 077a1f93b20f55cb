"""What every towerwidgets widget shares: the bundle, strict kwargs, Python-as-authority state.

All widgets load one esbuild bundle (``static/widget.js``); its ``render`` dispatches on the
synced ``_view`` name. Commands from the front end arrive as custom messages
``{"kind": ..., "id": ...}`` and are answered with ``{"kind": "reply", "id": ..., "ok": ...}``.
"""

from __future__ import annotations

import contextlib
import logging
import pathlib
import threading
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import anywidget
import traitlets
from pydantic import ValidationError

from towerwidgets.config import friendly_errors

log = logging.getLogger(__name__)

STATIC = pathlib.Path(__file__).resolve().parent.parent / "static"
_BUNDLE_JS = STATIC / "widget.js"
_BUNDLE_CSS = STATIC / "widget.css"

# Shown instead of the widget when the front end was never built (a source checkout
# without `npm run build`). The Python face of every widget still works.
_MISSING_ESM = """
export default { render({ el }) {
  const p = document.createElement("p");
  p.textContent = "towerwidgets: the front-end bundle is missing. Run `npm install && npm run build` "
    + "in the repository (or install the wheel), then restart the kernel.";
  el.appendChild(p);
  return () => p.remove();
} };
"""


def _esm() -> pathlib.Path | str:
    return _BUNDLE_JS if _BUNDLE_JS.exists() else _MISSING_ESM


def _css() -> pathlib.Path | str:
    return _BUNDLE_CSS if _BUNDLE_CSS.exists() else ""


WIDGET_REF_PREFIX = "anywidget:"


def widget_ref(value: Any, _widget: Any = None) -> str | None:
    """Serialize a child widget as ``"anywidget:<model_id>"`` (anywidget's widget-ref form)."""
    if value is None:
        return None
    return f"{WIDGET_REF_PREFIX}{value.model_id}"


def child_trait(klass: type | str) -> traitlets.Instance:
    """A synced trait holding a child widget, sent to the front end as a widget ref."""
    return traitlets.Instance(klass, allow_none=True).tag(
        sync=True, to_json=widget_ref, from_json=lambda value, _w: None
    )


class TowerWidget(anywidget.AnyWidget):
    """Base class: one bundle, a view name, command dispatch, strict constructor kwargs."""

    _esm = _esm()
    _css = _css()
    _view = traitlets.Unicode("").tag(sync=True)

    # kind -> method name; subclasses extend. Each handler takes the message dict.
    _commands: ClassVar[dict[str, str]] = {}

    def __init__(self, **kwargs: Any) -> None:
        allowed = {name for name in self.trait_names() if not name.startswith("_")}
        unknown = sorted(set(kwargs) - allowed)
        if unknown:
            raise TypeError(
                f"{type(self).__name__}() got unexpected keyword argument(s): {', '.join(unknown)}"
            )
        super().__init__(**kwargs)
        self.on_msg(self._on_custom_msg)

    # ── Python is the authority ─────────────────────────────────────────────────────────

    def set_state(self, sync_data: dict[str, Any]) -> None:
        """Apply a front-end edit; a value the validators refuse is reported, then re-synced."""
        for name, value in sync_data.items():
            try:
                super().set_state({name: value})
            except traitlets.TraitError as exc:
                self._refused(name, str(exc))
                self.send_state(name)

    def close(self) -> None:
        """Close this widget and the child widgets it holds (a page's chapters, their
        wizard and metrics table), so none is left following the store."""
        children = [
            getattr(self, name)
            for name in self.trait_names(sync=True)
            if isinstance(getattr(self, name, None), anywidget.AnyWidget)
        ]
        for child in children:
            if child is not self:
                child.close()
        super().close()

    def _refused(self, name: str, message: str) -> None:
        """A front-end value was refused; subclasses show ``message`` to the user."""
        log.info("%s refused %s: %s", type(self).__name__, name, message)

    # ── commands ────────────────────────────────────────────────────────────────────────

    def _on_custom_msg(self, _widget: Any, content: Any, buffers: list[Any]) -> None:
        self._handle_command(content)

    def _handle_command(self, content: Any) -> None:
        if not isinstance(content, dict):
            return
        kind = content.get("kind")
        method_name = self._commands.get(kind) if isinstance(kind, str) else None
        if method_name is None:
            self._reply(content, ok=False, error=f"Unknown command {kind!r}")
            return
        handler: Callable[[dict[str, Any]], Any] = getattr(self, method_name)
        try:
            result = handler(content)
        except (ValueError, LookupError, TypeError, traitlets.TraitError) as exc:
            self._command_failed(kind, exc)
            self._reply(content, ok=False, error=_message(exc))
            return
        except Exception as exc:  # a bug: log it, tell the front end, keep the kernel alive
            log.exception("%s command %r failed", type(self).__name__, kind)
            self._command_failed(kind, exc)
            self._reply(content, ok=False, error=_message(exc))
            return
        self._reply(content, ok=True, result=result if _jsonable(result) else None)

    def _command_failed(self, kind: str, exc: BaseException) -> None:
        """Subclasses show the failure (e.g. in ``errors``)."""

    def _reply(self, content: dict[str, Any], **fields: Any) -> None:
        if content.get("id") is None:
            return
        self.send({"kind": "reply", "id": content["id"], **fields})

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class StoreWatching:
    """Mixin for widgets that list store contents: they follow writes made elsewhere.

    In-process writes (another widget, ``store.model_configs.create(...)``, a quick test
    finishing on the runner's thread) arrive as notifications; writes by other processes
    are looked for (one cheap ``PRAGMA data_version``) before each front-end command. The
    subclass sets ``_store``, lists ``_watch_tables`` and implements
    ``_store_changed(tables)``, which must only read the store (no refresh loops) and be
    idempotent: a widget's own writes notify it too.
    """

    _watch_tables: ClassVar[tuple[str, ...]] = ()
    _store: Any
    _watcher: Any = None

    def _watch_store(self) -> None:
        """Subscribe; call once ``_store`` is set, before the first refresh."""
        self._store_lock = threading.RLock()
        self._acting = 0
        from towerwidgets.store.changes import StoreWatcher

        self._watcher = StoreWatcher(self._store, self._on_store_change, self._watch_tables)

    @property
    def _elsewhere(self) -> bool:
        """False while this widget makes its own write (so no "deleted elsewhere" notice)."""
        return not getattr(self, "_acting", 0)

    @contextlib.contextmanager
    def _own_write(self) -> Iterator[None]:
        self._acting = getattr(self, "_acting", 0) + 1
        try:
            yield
        finally:
            self._acting -= 1

    def _on_store_change(self, tables: set[str]) -> None:
        # May run on the runner's thread: refreshes are serialized, like the quick-test
        # follower's trait updates they only assign synced traits.
        if getattr(self, "comm", True) is None:  # closed
            return
        with self._store_lock:
            self._store_changed(set(tables))

    def _store_changed(self, tables: set[str]) -> None:
        raise NotImplementedError

    def check_store(self) -> set[str]:
        """Pick up writes made by other processes (the CLI, another kernel) since the last
        look; returns the tables that changed (already refreshed)."""
        if self._watcher is None:
            return set()
        try:
            return self._watcher.check()
        except Exception:  # the store is busy or gone: the command itself will say so
            log.warning("%s could not check the store for changes", type(self).__name__)
            return set()

    def _rebaseline(self) -> None:
        """Before a full reload: later checks report only what changed after it."""
        if self._watcher is not None:
            try:
                self._watcher.baseline()
            except Exception:
                log.warning("%s could not read the store's change marker", type(self).__name__)

    def _handle_command(self, content: Any) -> None:
        kind = content.get("kind") if isinstance(content, dict) else None
        if kind != "refresh":  # "refresh" reloads everything anyway
            self.check_store()
        super()._handle_command(content)  # type: ignore[misc]

    def close(self) -> None:
        """Stop following the store, then close the widget."""
        if self._watcher is not None:
            self._watcher.close()
        super().close()  # type: ignore[misc]


def _message(exc: BaseException) -> str:
    problems = getattr(exc, "problems", None)
    if problems:
        return "; ".join(problems)
    if isinstance(exc, ValidationError):  # one line per problem, with the field path
        return "; ".join(friendly_errors(exc))
    text = str(exc.args[0]) if getattr(exc, "args", None) else str(exc)
    return text or type(exc).__name__


def _jsonable(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool | list | dict)
