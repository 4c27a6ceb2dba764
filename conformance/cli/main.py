"""``conformance``: the command-line entry point. Each command lives in its own module;
this one only assembles them and maps errors to exit codes (see conformance.exitcodes)."""

from __future__ import annotations

import sys

import click

from conformance import __version__
from conformance.exitcodes import EXIT_CODES_HELP


class _Commands(click.Group):
    """Imports every command module only when needed: ``conformance validate`` (a command
    users start once per batch of files, often from scripts) does not pay for the network,
    engine and fuzzing modules (0.6 s of imports it never uses)."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name == "validate" and cmd_name not in self.commands:
            from conformance.cli import validate_cmd
            for command in validate_cmd.COMMANDS:
                self.add_command(command)
        if cmd_name not in self.commands:
            _register()
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        _register()
        return super().list_commands(ctx)


@click.group(cls=_Commands,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
             epilog=EXIT_CODES_HELP)
@click.version_option(__version__, prog_name="conformance")
def cli() -> None:
    """Test a DICOM device against its machine-readable conformance statement."""


_REGISTERED: list[bool] = []


def _register() -> None:
    # commands: one module each; add new ones here.
    if _REGISTERED:
        return
    _REGISTERED.append(True)
    from conformance.cli import listen_cmd, run_cmd, scenario_cmd, statement_cmd, tools_cmd, validate_cmd
    for command in (*run_cmd.COMMANDS, *statement_cmd.COMMANDS, *tools_cmd.COMMANDS, *validate_cmd.COMMANDS,
                    *listen_cmd.COMMANDS, *scenario_cmd.COMMANDS):
        cli.add_command(command)
    from conformance.cli import fuzz_cmd  # the fuzz command (issue 16), apart so merges stay easy
    cli.add_command(fuzz_cmd.fuzz)


def main() -> None:
    """Console-script entry point.  ``owns_process``: the command may shape this process (see
    ``validate``), which an embedding caller (pytest's CliRunner, a notebook) does not own."""
    sys.exit(cli.main(standalone_mode=True, obj={"owns_process": True}))
