"""Turn pydantic's ValidationError into one readable line per problem, with the field path."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

_TAGS = {"dense", "dropout", "batch_norm"}


_FIELD_WORDS = {
    "buyer_tower_layers": "Buyer tower",
    "product_tower_layers": "Product tower",
    "rating_head_layers": "Rating head",
    "output_embedding_dim": "output embedding dimension",
    "l2_reg": "L2 regularization",
    "rate": "dropout rate",
    "learning_rate": "learning rate",
    "batch_size": "batch size",
    "model_type": "model type",
}


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


def field_words(loc: tuple[int | str, ...]) -> str:
    """('buyer_tower_layers', 0, 'dense', 'units') -> 'Buyer tower, layer 1: Units'."""
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts[-1:] = [f"{parts[-1]}, layer {part + 1}" if parts else f"item {part + 1}"]
        elif part in _TAGS:
            continue
        else:
            parts.append(_FIELD_WORDS.get(str(part), str(part).replace("_", " ")))
    if not parts:
        return "The config"
    head, *rest = parts
    head = head[:1].upper() + head[1:]
    return head + (": " + " ".join(rest) if rest else "")


def _our_words(error: Any) -> str:
    """pydantic's message for one error, said as we say it ('must be at least 1 (got 0)')."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    got = f" (got {error.get('input')!r})" if "input" in error else ""
    if kind == "extra_forbidden":
        return "is not a known field"
    if kind == "missing":
        return "is required"
    if "ge" in ctx:
        return f"must be at least {ctx['ge']}{got}"
    if "gt" in ctx:
        return f"must be greater than {ctx['gt']}{got}"
    if "le" in ctx:
        return f"must be at most {ctx['le']}{got}"
    if "lt" in ctx:
        return f"must be less than {ctx['lt']}{got}"
    if kind == "literal_error" and "expected" in ctx:
        return f"must be one of {ctx['expected']}{got}"
    if kind == "union_tag_invalid":
        tag = ctx.get("tag", "")
        return f"has an unknown layer type {tag!r}; use {ctx.get('expected_tags', 'dense')}"
    if kind.startswith("int_"):
        return f"must be a whole number{got}"
    if kind.startswith("float_"):
        return f"must be a number{got}"
    return error["msg"][:1].lower() + error["msg"][1:]


def friendly_errors(exc: ValidationError) -> list[str]:
    """One line per problem in our words, naming the field as the screen does."""
    return [
        f"{field_words(tuple(error['loc']))} {_our_words(error)}"
        for error in exc.errors(include_url=False)
    ]
