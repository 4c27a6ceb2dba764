"""Shared CLI plumbing: turning InputError into a clear message and exit code 2, and the
parameter types of AE titles and hosts (checked before any network step, exit 2)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import click

from conformance import addresses, limits
from conformance.errors import InputError
from conformance.exitcodes import ExitCode


@dataclass
class _Flag:
    happened: bool = False


@contextmanager
def fail_on_input_error(exit_now: bool = True) -> Iterator[_Flag]:
    """Print the problems of an InputError as ``file:line: [key] message`` on stderr: the first
    ``limits.MAX_PROBLEMS_SHOWN`` of them, long values quoted shortened."""
    flag = _Flag()
    try:
        yield flag
    except InputError as exc:
        flag.happened = True
        for problem in exc.problems[:limits.MAX_PROBLEMS_SHOWN]:
            click.echo(f"error: {limits.shorten_message(str(problem))}", err=True)
        if len(exc.problems) > limits.MAX_PROBLEMS_SHOWN:
            click.echo(f"error: ... and {len(exc.problems) - limits.MAX_PROBLEMS_SHOWN} more problems "
                       "(fix these first)", err=True)
        if exit_now:
            sys.exit(ExitCode.BAD_INPUT)


class CheckedText(click.ParamType):
    """A text option checked by *problem_of* (which returns what is wrong, or None); a bad
    value is a usage error, exit 2."""

    def __init__(self, name: str, problem_of: Callable[[str], str | None]) -> None:
        self.name = name
        self.problem_of = problem_of

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value)
        problem = self.problem_of(text)
        if problem:
            self.fail(problem, param, ctx)
        return text


#: The parameter types every command uses for AE titles and hosts.
#: AE title: PS3.5 Table 6.2-1 (VR AE). Host: an IPv4/IPv6 literal or an RFC 1123 host name.
AE_TITLE = CheckedText("AE_TITLE", addresses.ae_title_problem)
HOST = CheckedText("HOST", addresses.host_problem)


def epilog(examples: list[str], codes: list[tuple[int, str]]) -> str:
    """``--help`` epilog: examples, then the command's own exit codes (click keeps the
    lines of a paragraph that starts with ``\\b`` as written)."""
    lines = ["\b", "Examples:", *[f"  {e}" for e in examples], "", "\b", "Exit codes:"]
    lines += [f"  {code:<3} {meaning}" for code, meaning in codes]
    return "\n".join(lines) + "\n"
