"""Safe spellings of user text inside generated Python: literals, identifiers, comments.

Every user string (config names, descriptions, column names) reaches a generated module
through one of these functions, never as raw text:

- ``py_str`` — a string literal (quoted the way ``ruff format`` would quote it, so the
  output is already formatted);
- ``Namer.name`` — a sanitized, collision-free ASCII identifier;
- ``comment_text`` — a one-line, escaped rendering for comments (no raw newlines).
"""

from __future__ import annotations

import keyword
import re
import unicodedata

# TensorFlow's rule for op names; a SavedModel signature input must satisfy it.
TF_OP_NAME = re.compile(r"[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*")

MAX_IDENT_LENGTH = 20


def py_str(text: str) -> str:
    """A Python string literal for ``text``: double quotes unless that needs more escapes.

    Non-printable characters (newlines, line/paragraph separators, NUL, lone surrogates)
    are escaped exactly as ``repr`` escapes them, so the literal is always one line.
    """
    quote = "'" if text.count('"') > text.count("'") else '"'
    parts = []
    for char in text:
        if char == "\\":
            parts.append("\\\\")
        elif char == quote:
            parts.append("\\" + quote)
        elif char.isprintable():
            parts.append(char)
        else:
            parts.append(repr(char)[1:-1])
    return quote + "".join(parts) + quote


def py_value(value: object) -> str:
    """A Python literal for a str, int, float, bool or None (formatted like ruff would)."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, str):
        return py_str(value)
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"cannot write {value!r} as a Python literal")
        return repr(float(value))
    raise TypeError(f"no literal form for {type(value).__name__}")


def comment_text(text: object, limit: int = 60) -> str:
    """User text for a ``#`` comment: quoted, escaped, at most ``limit`` characters of it."""
    value = str(text)
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return py_str(value)


def sanitize(text: str, fallback: str = "f") -> str:
    """A lower-case ASCII identifier fragment for ``text`` (not yet unique).

    Accents are folded (``"Prénom"`` → ``"prenom"``), anything else outside ``[a-z0-9_]``
    becomes ``_``, runs of ``_`` collapse, and the result is cut to MAX_IDENT_LENGTH.
    """
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    ident = re.sub(r"[^a-z0-9]+", "_", folded.lower()).strip("_")
    ident = ident[:MAX_IDENT_LENGTH].rstrip("_")
    if not ident:
        ident = fallback
    if ident[0].isdigit():
        ident = f"{fallback}_{ident}"
    return ident


class Namer:
    """Hands out unique identifiers: the first ``x`` stays ``x``, later ones get ``x_2``…

    Deterministic: the same sequence of requests gives the same names.
    """

    def __init__(self, reserved: tuple[str, ...] | list[str] | set[str] = ()):
        self.used: set[str] = set(reserved)

    def name(self, base: str) -> str:
        candidate, n = base, 1
        while candidate in self.used or keyword.iskeyword(candidate):
            n += 1
            candidate = f"{base}_{n}"
        self.used.add(candidate)
        return candidate
