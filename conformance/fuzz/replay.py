"""``conformance fuzz --replay FILE``: send a saved case again, exactly as saved, and check the
device as after any case (its reaction, then a fresh association and C-ECHO)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from conformance.findings import Finding
from conformance.fuzz.campaign import Waits
from conformance.fuzz.case import Case, load
from conformance.fuzz.judge import judge
from conformance.fuzz.liveness import Liveness, wait_alive
from conformance.fuzz.send import Reaction, send_case
from conformance.wire.target import Target


@dataclass(frozen=True)
class Replay:
    """What replaying a case did: the device's state before, its reaction, liveness after."""

    case: Case
    before: Liveness
    reaction: Reaction | None = None
    after: Liveness | None = None
    findings: tuple[Finding, ...] = ()

    @property
    def device_down(self) -> bool:
        return self.after is not None and not self.after.alive


def replay(path: str | Path, target: Target, waits: Waits) -> Replay:
    """Replay the case saved at *path* against *target* (``InputError`` on a bad file). Nothing
    is sent when the device does not answer before (``before.alive`` false)."""
    case, _meta = load(path)
    before = wait_alive(target, waits.give_up)
    if not before.alive:
        return Replay(case, before)
    reaction = send_case(case, target.host, target.port, connect_timeout=waits.connect, acse_timeout=waits.acse,
                         answer_wait=waits.answer)
    after = wait_alive(target, waits.give_up)
    findings = judge(case, reaction, after, give_up=waits.give_up, slow=waits.slow, source=target.address)
    return Replay(case, before, reaction, after, tuple(findings))


def saved_device(path: str | Path) -> dict[str, object]:
    """The device a saved case was found against (host, port, AE titles), from its sidecar."""
    _case, meta = load(path)
    device = meta.get("device")
    return dict(device) if isinstance(device, dict) else {}
