"""``ModelWizard``: the spec's three-step "Create Model Configuration" dialog."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import traitlets

from towerwidgets.errors import NotFoundError
from towerwidgets.widgets.editor import ConfigEditor

STEP_TITLES = {1: "Basic Info & Model Type", 2: "Tower Architecture", 3: "Training Parameters"}
# The text fields the front end debounces (see js/wizard.js, `next`).
TYPED_FIELDS = ("name", "description")
_STEP3_WORDS = ("Learning rate", "Batch size", "Epochs", "loss weight")


def error_step(message: str) -> int:
    """Which wizard step shows (and fixes) a ``ModelConfig.validate()`` message."""
    if "name" in message.lower():
        return 1
    if any(word in message for word in _STEP3_WORDS):
        return 3
    return 2


class ModelWizard(ConfigEditor):
    """Create or edit a ModelConfig in three steps; ``save()`` puts it in the store."""

    _view = traitlets.Unicode("wizard").tag(sync=True)
    step = traitlets.Int(1).tag(sync=True)
    step_errors = traitlets.List(traitlets.Unicode()).tag(sync=True)
    mode = traitlets.Unicode("create").tag(sync=True)
    closed = traitlets.Bool(False).tag(sync=True)
    saved = traitlets.Dict().tag(sync=True)

    _commands: ClassVar[dict[str, str]] = {
        **ConfigEditor._commands,
        "continue": "_cmd_continue",
        "back": "_cmd_back",
        "cancel": "_cmd_cancel",
        "save": "_cmd_save",
        "goto": "_cmd_goto",
    }

    def __init__(
        self, store: Any = None, feature_config: Any = None, config: Any = None, **kwargs: Any
    ) -> None:
        self._store = store
        self._on_save: list[Callable[[Any], None]] = []
        self._on_cancel: list[Callable[[], None]] = []
        if config is None:
            from towerwidgets.widgets.editor import _config_class

            config = _config_class().from_preset("standard")
        editing = getattr(config, "id", None) is not None or (
            isinstance(config, dict) and config.get("id") is not None
        )
        if not editing and not isinstance(config, dict):
            config = config.copy_as_new() if hasattr(config, "copy_as_new") else config
        super().__init__(config=config, feature_config=feature_config, **kwargs)
        self.mode = "edit" if editing else "create"

    @traitlets.validate("step")
    def _validate_step(self, proposal: Any) -> int:
        value = proposal["value"]
        if not 1 <= value <= 3:
            raise traitlets.TraitError(f"step must be 1, 2 or 3 (got {value})")
        current = getattr(self, "_current_step", 1)  # self.step may already hold `value`
        if value > current:  # the front end may only go forward through valid steps
            for step in range(current, value):
                if self._errors_for(step):
                    raise traitlets.TraitError(f"Step {step} has problems; fix them first")
        return value

    @traitlets.observe("step")
    def _on_step(self, change: Any) -> None:
        self._current_step = change["new"]
        self.step_errors = []

    def _errors_for(self, step: int) -> list[str]:
        return [message for message in self._config.validate() if error_step(message) == step]

    def _after_sync(self) -> None:
        if self.step_errors:  # once shown, inline errors follow the edits that fix them
            self.step_errors = self._errors_for(self.step)

    def _refused(self, name: str, message: str) -> None:
        if name == "step":
            self.step_errors = self._errors_for(self.step) or [message]
        else:
            super()._refused(name, message)

    # ── the Python face ─────────────────────────────────────────────────────────────────

    @property
    def store(self) -> Any:
        return self._store

    def next_step(self) -> bool:
        """Continue →: go to the next step, or show this step's problems and stay."""
        problems = self._errors_for(self.step)
        if problems:
            self.step_errors = problems
            return False
        if self.step < 3:
            self.step += 1
        return True

    def back(self) -> None:
        """← Back."""
        if self.step > 1:
            self.step -= 1

    def cancel(self) -> None:
        """Cancel: close without saving."""
        self.closed = True
        for callback in list(self._on_cancel):
            callback()

    def save(self) -> Any:
        """Store the config and return the stored copy; ValueError lists what is wrong."""
        problems = self._config.validate()
        if problems:
            self.step_errors = problems
            from towerwidgets.errors import ConfigValidationError

            raise ConfigValidationError("Model config", problems)
        stored = self._config
        if self._store is not None:
            repo = self._store.model_configs
            try:
                stored = (
                    repo.update(self._config)
                    if self._config.id is not None
                    else repo.create(self._config)
                )
            except NotFoundError:
                # Deleted elsewhere (another cell, the CLI) while being edited: keep every
                # edit as a new draft, so the next Save stores it instead of failing again.
                self._config = self._config.model_copy(update={"id": None}, deep=True)
                self.mode = "create"
                self._sync()
                self.step_errors = [
                    f"“{self._config.name}” was deleted elsewhere while you edited it; "
                    "Save again to store your edits as a new configuration."
                ]
                raise ValueError(self.step_errors[0]) from None
            except Exception as exc:
                # The store refused (locked, closed, disk full…): say so where Save is, keep
                # every edit, and let the next Save try again.
                from towerwidgets.widgets._base import _message

                self.step_errors = [
                    f"Could not save “{self._config.name}”: {_message(exc)}. "
                    "Your edits are kept; Save again to retry."
                ]
                raise
        self._config = stored.model_copy(deep=True)
        self.mode = "edit" if self._config.id is not None else self.mode
        self.step_errors = []
        self._sync()
        self.saved = {"id": stored.id, "name": stored.name}
        self.closed = True
        for callback in list(self._on_save):
            callback(stored)
        return stored

    def on_save(self, callback: Callable[[Any], None]) -> None:
        """Call ``callback(config)`` after each successful save."""
        self._on_save.append(callback)

    def on_cancel(self, callback: Callable[[], None]) -> None:
        self._on_cancel.append(callback)

    # ── commands ────────────────────────────────────────────────────────────────────────

    def _typed_fields(self, msg: dict[str, Any]) -> None:
        """The text typed just before a command, carried by it: its state update may
        still be held back by the front end (one unanswered update at a time)."""
        fields = msg.get("fields")
        if isinstance(fields, dict):
            typed = {k: v for k, v in fields.items() if k in TYPED_FIELDS and isinstance(v, str)}
            if typed and any(self.config_data.get(k) != v for k, v in typed.items()):
                self.set_state({"config_data": {**self.config_data, **typed}})

    def _cmd_continue(self, msg: dict[str, Any]) -> bool:
        self._typed_fields(msg)
        if not self.next_step():
            raise ValueError("; ".join(self.step_errors))
        return True

    def _cmd_back(self, msg: dict[str, Any]) -> None:
        self.back()

    def _cmd_goto(self, msg: dict[str, Any]) -> None:
        self.step = int(msg["step"])

    def _cmd_cancel(self, msg: dict[str, Any]) -> None:
        self.cancel()

    def _cmd_save(self, msg: dict[str, Any]) -> dict[str, Any]:
        self._typed_fields(msg)
        stored = self.save()
        return {"id": stored.id, "name": stored.name}

    def _command_failed(self, kind: str, exc: BaseException) -> None:
        if kind in ("continue", "save", "goto"):
            return  # step_errors already show the problems inline
        super()._command_failed(kind, exc)

    def __repr__(self) -> str:
        return f"ModelWizard(step={self.step}, config={self._config.name!r}, mode={self.mode!r})"
