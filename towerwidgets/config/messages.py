"""Turn pydantic's ValidationError into one readable line per problem, with the field path."""

from __future__ import annotations

from pydantic import ValidationError

_TAGS = {"dense", "dropout", "batch_norm"}


def field_path(loc: tuple[int | str, ...]) -> str:
    """('buyer_tower_layers', 0, 'dense', 'units') -> 'buyer_tower_layers[0].units'."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part in _TAGS:  # the discriminated union's tag is not part of the user's path
            continue
        else:
            text += ("." if text else "") + str(part)
    return text or "(config)"


def friendly_errors(exc: ValidationError) -> list[str]:
    lines = []
    for error in exc.errors(include_url=False):
        message = error["msg"]
        ctx = error.get("ctx") or {}
        if error["type"] == "extra_forbidden":
            message = "is not a known field"
        elif {"ge", "le"} & ctx.keys() or {"gt", "lt"} & ctx.keys():
            message = f"{message} (got {error.get('input')!r})"
        lines.append(f"{field_path(tuple(error['loc']))}: {message}")
    return lines
