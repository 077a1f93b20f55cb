"""Helpers for widget-state tests (imported as ``widget_helpers``, like the other test dirs)."""

from __future__ import annotations

XSS = "<img src=x onerror=alert(1)>"


def front_end(widget, kind, **payload):
    """Send a command the way the front end does (a custom message with kind and id)."""
    widget._handle_custom_msg({"kind": kind, "id": f"t-{kind}", **payload}, [])
