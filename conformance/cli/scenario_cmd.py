"""``conformance scenario check|schema|list``."""

from __future__ import annotations

import json
import sys

import click

from conformance.cli.common import epilog, fail_on_input_error
from conformance.exitcodes import ExitCode
from conformance.scenario.check import check_against
from conformance.scenario.loader import load_scenario, schema
from conformance.statement import load_statement
from conformance.suite import default_scenarios


@click.group("scenario")
def scenario() -> None:
    """Work with scenario files (workflows as data)."""


@scenario.command("check", epilog=epilog(
    ["conformance scenario check my-workflow.yaml --statement pacs.yaml"],
    [(0, "every file is valid"), (2, "a file has problems (file:line: [key] message)")]))
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--statement", "statement_file", type=click.Path(dir_okay=False),
              help="Also check that every step uses what this statement declares (device as SCP).")
def check(files: tuple[str, ...], statement_file: str | None) -> None:
    """Validate scenario FILES against the schema (and a statement). Exit 2 on any problem."""
    statement = None
    if statement_file:
        with fail_on_input_error():
            statement = load_statement(statement_file)
    bad = False
    for file in files:
        with fail_on_input_error(exit_now=False) as failed:
            sc = load_scenario(file)
            problems = check_against(sc, statement) if statement else []
            for p in problems:
                click.echo(f"error: {p}", err=True)
            if not problems:
                what = f"family {sc.family}" if sc.family else f"{len(sc.steps)} steps"
                click.echo(f"{file}: ok ({sc.id}: {what})")
            bad = bad or bool(problems)
        bad = bad or failed.happened
    sys.exit(ExitCode.BAD_INPUT if bad else ExitCode.OK)


@scenario.command("schema", epilog=epilog(
    ["conformance scenario schema > scenario.schema.json"], [(0, "printed")]))
def print_schema() -> None:
    """Print the JSON Schema of scenario files."""
    click.echo(json.dumps(schema(), indent=2))


@scenario.command("list", epilog=epilog(
    ["conformance scenario list"], [(0, "listed"), (2, "a shipped scenario does not load")]))
def list_scenarios() -> None:
    """List the shipped scenarios that every run loads."""
    with fail_on_input_error():
        for sc in default_scenarios():
            click.echo(f"{sc.id}\t{sc.name}\t{sc.file}")


COMMANDS = [scenario]
