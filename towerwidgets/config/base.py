"""What every stored config shares: an id, timestamps, an author, JSON round-trips."""

from __future__ import annotations

import getpass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import Self


def current_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name (some containers): stay anonymous rather than fail
        return ""


class StoredModel(BaseModel):
    """Mutable pydantic model; assignments are validated, unknown fields refused."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    id: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    created_by: str = Field(default_factory=current_user)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; ``from_dict`` turns it back into an equal model."""
        return self.model_dump(mode="json")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        return cls.model_validate(data)

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, text: str) -> Self:
        return cls.model_validate_json(text)

    def copy_as_new(self, **changes: Any) -> Self:
        """A copy without id and timestamps (a draft that has not been stored)."""
        data = self.to_dict()
        data.update(id=None, created_at=None, updated_at=None)
        data.update(changes)
        return type(self).from_dict(data)
