"""Exceptions a user can cause, each with a message that says what to do."""

from __future__ import annotations


class TowerwidgetsError(Exception):
    """Base class: every error towerwidgets raises on purpose."""


class ConfigValidationError(TowerwidgetsError, ValueError):
    """A config failed validation; ``problems`` lists one readable sentence per problem."""

    def __init__(self, what: str, problems: list[str]):
        self.problems = list(problems)
        super().__init__(f"{what} is not valid: " + "; ".join(self.problems))


class NotFoundError(TowerwidgetsError, LookupError):
    """A record id does not exist in the store."""

    def __str__(self) -> str:  # LookupError would quote the message like a key
        return str(self.args[0]) if self.args else "not found"


class StoreError(TowerwidgetsError):
    """The store cannot be read or written (closed, locked, corrupt, or a refused delete)."""


class InvalidTransitionError(TowerwidgetsError, ValueError):
    """A quick test was asked to move to a status its current status cannot reach."""
