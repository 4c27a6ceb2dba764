"""Files shipped with the harness: example statements and scenarios.

In a wheel they are packed under ``conformance/_shipped/`` (see pyproject.toml); in a source
checkout (editable install) they are the top-level ``statements/`` and ``scenarios/``.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def shipped_dir(kind: str) -> Path:
    """Folder of the shipped *kind* ("statements" or "scenarios")."""
    for candidate in (_PACKAGE / "_shipped" / kind, _PACKAGE.parent / kind):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"the harness' shipped {kind} folder is missing from this installation")


def reference_statement() -> Path:
    """The built-in reference device's statement."""
    return shipped_dir("statements") / "reference-device.yaml"
