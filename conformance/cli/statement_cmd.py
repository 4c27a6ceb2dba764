"""``conformance statement check|schema``."""

from __future__ import annotations

import json
import sys

import click

from conformance.cli.common import epilog, fail_on_input_error
from conformance.exitcodes import ExitCode
from conformance.statement import load_statement, schema
from conformance.statement.model import Role


@click.group("statement")
def statement() -> None:
    """Work with machine-readable conformance statements."""


@statement.command("check", epilog=epilog(
    ["conformance statement check my-device.yaml", "conformance statement check statements/*.yaml"],
    [(0, "every file is valid"), (2, "a file has problems (each printed as file:line: [key] message)")]))
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def check(files: tuple[str, ...]) -> None:
    """Validate statement FILES against the schema and the standard's UIDs (exit 2 on error)."""
    bad = False
    for file in files:
        with fail_on_input_error(exit_now=False) as failed:
            st = load_statement(file)
            scp = len(st.capabilities(Role.SCP))
            scu = len(st.capabilities(Role.SCU))
            click.echo(f"{file}: ok ({st.identity.title}; {scp} SOP classes as SCP, {scu} as SCU)")
        bad = bad or failed.happened
    sys.exit(ExitCode.BAD_INPUT if bad else ExitCode.OK)


@statement.command("schema", epilog=epilog(
    ["conformance statement schema > statement.schema.json"], [(0, "printed")]))
def print_schema() -> None:
    """Print the JSON Schema of the statement format."""
    click.echo(json.dumps(schema(), indent=2))


COMMANDS = [statement]
