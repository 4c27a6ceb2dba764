"""Drive hypothesis against the device, one area at a time, within the bounds.

For each area, :func:`hypothesis.find` looks for a case after which the device does not come
back (no fresh association and C-ECHO within the give-up time) and, when it finds one,
shrinks it to a minimal reproducer. Every case sent is judged (:mod:`.judge`): warnings
(slow recovery, invalid input accepted) are collected along the way, one per kind of case,
each with its case saved. The search is seeded (``--seed``: the same cases in the same order
against the same device) and keeps its example database in the output folder, so a rerun
starts from the failing cases already found.

Bounds: ``max_cases`` cases generated per area, ``shrink_limit`` cases sent while shrinking,
one wall-clock deadline for everything. A case already sent is never sent again (its result
is remembered), and past a bound hypothesis is told "no failure" without anything being sent.
While shrinking, the device must come back (within ``return_wait``) before each case; if it
does not, shrinking stops and the smallest failing case so far is saved, marked as such.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from random import Random

from hypothesis import HealthCheck, Phase, Verbosity, find, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase
from hypothesis.errors import HypothesisException, NoSuchExample

from conformance.findings import Finding
from conformance.fuzz import case as case_files
from conformance.fuzz.case import Case
from conformance.fuzz.judge import down, judge
from conformance.fuzz.liveness import Liveness, wait_alive
from conformance.fuzz.send import Reaction, send_case
from conformance.wire.target import Target


class OutOfTime(Exception):
    """The deadline passed while generating: hypothesis is stopped by this exception."""


@dataclass(frozen=True)
class Bounds:
    """How much and how long. Seconds are wall-clock."""

    max_cases: int = 100
    deadline: float = float("inf")          # time.monotonic() value
    shrink_limit: int = 100
    seed: int = 0


@dataclass(frozen=True)
class Waits:
    """Seconds: ``answer`` for the device's reaction to a case, ``give_up`` for it to answer a
    fresh association and C-ECHO after a case (longer: it stopped answering), ``slow`` above
    which its recovery is reported, ``back`` for it to return before a shrinking step,
    ``connect`` and ``acse`` for the case's own connection and set-up association."""

    answer: float = 1.0
    give_up: float = 10.0
    slow: float = 2.0
    back: float = 30.0
    connect: float = 5.0
    acse: float = 5.0


@dataclass
class AreaResult:
    """What fuzzing one area found."""

    area: str
    findings: list[Finding] = field(default_factory=list)
    sent: int = 0
    shrink_sent: int = 0
    saved: list[Path] = field(default_factory=list)
    crash: Case | None = None
    first_crash: Case | None = None
    device_lost: bool = False
    out_of_time: bool = False


class AreaRun:
    """One area's search: the condition hypothesis calls, with its memory and bounds."""

    def __init__(self, area: str, target: Target, folder: Path, bounds: Bounds, waits: Waits,
                 on_case: Callable[[int, int], None] | None = None) -> None:
        self.area, self.target, self.folder, self.bounds, self.waits = area, target, folder, bounds, waits
        self.result = AreaResult(area)
        self.verdicts: dict[tuple[bytes, bytes], bool] = {}
        self.warned: set[tuple[str, str]] = set()
        self.lives: dict[tuple[bytes, bytes], Liveness] = {}
        self.on_case = on_case

    # --- the condition --------------------------------------------------------------------
    def fails(self, case: Case) -> bool:
        """True when the device did not come back after *case* (hypothesis looks for these)."""
        known = self.verdicts.get(case.key)
        if known is not None:
            return known
        r = self.result
        if r.device_lost:
            return False
        if time.monotonic() >= self.bounds.deadline:
            r.out_of_time = True
            if r.crash is None:
                raise OutOfTime     # ends the generation at once (nothing found to keep)
            return False
        shrinking = r.crash is not None
        if (not shrinking and r.sent >= self.bounds.max_cases) or (
                shrinking and r.shrink_sent >= self.bounds.shrink_limit):
            return False
        if shrinking:
            back = wait_alive(self.target, self.waits.back)
            if not back.alive:
                r.device_lost = True
                return False
        failed = self._try(case, shrinking)
        self.verdicts[case.key] = failed
        return failed

    def _try(self, case: Case, shrinking: bool) -> bool:
        w, r = self.waits, self.result
        reaction: Reaction = send_case(case, self.target.host, self.target.port, connect_timeout=w.connect,
                                       acse_timeout=w.acse, answer_wait=w.answer)
        live: Liveness = wait_alive(self.target, w.give_up)
        if shrinking:
            r.shrink_sent += 1
        else:
            r.sent += 1
            if self.on_case is not None:
                self.on_case(r.sent, self.bounds.max_cases)
        if reaction.kind == "setup-failed" and live.alive:
            return False
        findings = judge(case, reaction, live, give_up=w.give_up, slow=w.slow, source=self.target.address)
        if not live.alive:
            self.lives[case.key] = live
            if r.crash is None:
                r.first_crash = case
            if r.crash is None or (case.size, case.payload) < (r.crash.size, r.crash.payload):
                r.crash = case
            return True
        for f in findings:
            if (f.code, case.label) not in self.warned:
                self.warned.add((f.code, case.label))
                path = case_files.save(case, self.folder, f"{case.area}-{case.label}-{f.code.split('.')[-1]}",
                                       {"finding": f.to_dict(), "reaction": reaction.describe(), **self._device()})
                r.saved.append(path)
                r.findings.append(Finding(f.code, f.severity, f"{f.message}; replay: conformance fuzz --replay "
                                          f"{path}", f.reference, source=f.source,
                                          details={**f.details, "case": str(path)}))
        return False

    def _device(self) -> dict[str, object]:
        t = self.target
        return {"device": {"host": t.host, "port": t.port, "called_ae": t.called_ae, "calling_ae": t.calling_ae},
                "seed": self.bounds.seed}

    # --- the search -----------------------------------------------------------------------
    def run(self, strategy: st.SearchStrategy[Case]) -> AreaResult:
        db = DirectoryBasedExampleDatabase(str(self.folder / "hypothesis-db"))
        config = settings(max_examples=max(self.bounds.max_cases, 1), deadline=None, database=db,
                          suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet,
                          phases=(Phase.reuse, Phase.generate, Phase.shrink), report_multiple_bugs=False)
        try:
            minimal = find(strategy, self.fails, settings=config, random=Random(self.bounds.seed),
                           database_key=f"conformance-fuzz/{self.area}/{self.bounds.seed}".encode())
        except (NoSuchExample, OutOfTime):
            minimal = None
        except HypothesisException:
            minimal = self.result.crash
        r = self.result
        crash = minimal if minimal is not None and self.verdicts.get(minimal.key) else r.crash
        if crash is not None:
            self._save_crash(crash)
        return r

    def _save_crash(self, crash: Case) -> None:
        r, w = self.result, self.waits
        r.crash = crash
        first = r.first_crash or crash
        shrunk = "not shrunk: the device did not come back" if r.device_lost else (
            f"shrunk from {first.size} to {crash.size} bytes in {r.shrink_sent} further cases")
        live = self.lives.get(crash.key) or Liveness(False, w.give_up, how="no answer")
        base = down(crash, live, w.give_up, self.target.address)
        path = case_files.save(crash, self.folder, f"{crash.area}-crash",
                               {"finding": base.to_dict(), "first_case_bytes": first.size, "shrink": shrunk,
                                **self._device()})
        r.saved.append(path)
        r.findings.insert(0, Finding(base.code, base.severity,
                                     f"{base.message}; minimal case {crash.size} bytes ({shrunk}): "
                                     f"conformance fuzz --replay {path}", base.reference, source=base.source,
                                     details={**base.details, "case": str(path), "first_case_bytes": first.size}))
