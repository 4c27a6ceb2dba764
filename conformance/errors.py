"""Errors for bad input: each says what is wrong and where (file, line, key path)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, located to the line and key."""

    message: str
    file: str | None = None
    line: int | None = None
    key: str | None = None

    def __str__(self) -> str:
        where = ":".join(str(p) for p in (self.file, self.line) if p is not None)
        key = f" [{self.key}]" if self.key else ""
        return f"{where}:{key} {self.message}" if where else f"{key.strip()} {self.message}".strip()


class InputError(Exception):
    """Bad input (exit code 2). Carries every problem found, not only the first."""

    def __init__(self, problems: "list[Problem] | Problem"):
        self.problems = problems if isinstance(problems, list) else [problems]
        super().__init__("\n".join(str(p) for p in self.problems))
