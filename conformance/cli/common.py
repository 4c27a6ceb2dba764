"""Shared CLI plumbing: turning InputError into a clear message and exit code 2."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import click

from conformance.errors import InputError
from conformance.exitcodes import ExitCode


@dataclass
class _Flag:
    happened: bool = False


@contextmanager
def fail_on_input_error(exit_now: bool = True) -> Iterator[_Flag]:
    """Print every problem of an InputError as ``file:line: [key] message`` on stderr."""
    flag = _Flag()
    try:
        yield flag
    except InputError as exc:
        flag.happened = True
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        if exit_now:
            sys.exit(ExitCode.BAD_INPUT)


def epilog(examples: list[str], codes: list[tuple[int, str]]) -> str:
    """``--help`` epilog: examples, then the command's own exit codes (click keeps the
    lines of a paragraph that starts with ``\\b`` as written)."""
    lines = ["\b", "Examples:", *[f"  {e}" for e in examples], "", "\b", "Exit codes:"]
    lines += [f"  {code:<3} {meaning}" for code, meaning in codes]
    return "\n".join(lines) + "\n"
