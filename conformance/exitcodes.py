"""Process exit codes, one meaning each. Documented in README.md and ``conformance --help``."""

from enum import IntEnum


class ExitCode(IntEnum):
    #: Every selected step passed (and, with ``--strict``, no warnings).
    OK = 0
    #: The device deviates from its statement or from the standard (at least one step failed).
    DEVIATION = 1
    #: Bad input: a statement, scenario, results file or command-line argument is wrong.
    BAD_INPUT = 2
    #: The harness could not test: device unreachable, hung, or a step could not be run;
    #: no deviation was found in what could be tested.
    COULD_NOT_TEST = 3
    #: A set-up problem at the site (the device does not know the harness' AE title, port or
    #: move destination); the messages say what to configure. No deviation was found.
    SETUP_PROBLEM = 4
    #: Interrupted (Ctrl-C or SIGTERM): the partial reports were written (128 + SIGINT).
    INTERRUPTED = 130


EXIT_CODES_HELP = """\
\b
Exit codes:
  0  all selected steps passed
  1  the device deviates from its statement or the standard (a step failed;
     with --strict, warnings count too)
  2  bad input (statement, scenario, results file, arguments)
  3  the harness could not test (device unreachable or hung; steps ended as error;
     or nothing was tested at all)
  4  set-up problem at the site: the device does not know the harness (AE title,
     port, move destination); the messages say what to configure
  130 interrupted (Ctrl-C or SIGTERM); the partial reports were written
"""
