"""Each hostile fake device of the "hostile networks" issue (tests/hostile/devices.py) run
through `conformance run`, `discover` and `diff` (the real entry point, in a subprocess,
with short timeouts: connect 2 s, ACSE 3 s, DIMSE 3 s, or the defaults): a table case -> wall time, exit
code, the finding codes reported, and whether a traceback was printed.

    .venv/bin/python bin/bench_hostile_devices.py [CASE ...] [--commands run,discover,diff] [--default-timeouts]

A benchmark, not a test (tests/hostile/test_fake_devices.py asserts the behaviour).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.hostile.devices import CASES, TIMEOUTS, run_case  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cases", nargs="*", default=["good", *CASES])
    parser.add_argument("--commands", default="run,discover,diff")
    parser.add_argument("--limit", type=float, default=300.0, help="Seconds before a command is killed.")
    parser.add_argument("--default-timeouts", action="store_true",
                        help="The harness's default timeouts (connect 10 s, ACSE 30 s, DIMSE 30 s).")
    args = parser.parse_args()
    print("| case | command | wall (s) | exit | traceback | findings |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.cases:
            for command in args.commands.split(","):
                got = run_case(name, command, Path(tmp) / name / command, args.limit,
                               () if args.default_timeouts else TIMEOUTS)
                exit_code = "killed" if got.exit_code is None else str(got.exit_code)
                got.codes.sort(key=lambda c: not c.startswith(("protocol.", "dimse.", "verification.", "service.")))
                print(f"| {name} | {command} | {got.wall:.1f} | {exit_code} | {'yes' if got.traceback else 'no'} "
                      f"| {', '.join(got.codes[:4]) or '-'} |", flush=True)


if __name__ == "__main__":
    main()
