"""Deviations the harness SCP makes on purpose, to see how the device under test reacts.

An acceptance engineer needs to know, before go-live, what a modality does when the PACS
refuses a presentation context, answers a C-STORE with a failure status, answers too late
for the modality's DIMSE timeout, or aborts: does it retry, does it go on, does it give up.
The harness makes the deviation and records, as observations, what the device did next
(see :mod:`conformance.listen.session`).

Written on the command line as ``KIND=VALUE`` (``--misbehave`` may repeat):

``reject=SOP`` or ``reject=SOP/TS``
    Reject every presentation context of that SOP class (result 3, abstract syntax not
    supported) or that transfer syntax of it (result 4 when no other proposed transfer
    syntax is acceptable; PS3.8 Table 9-18). SOP and TS by keyword or UID; SOP ``*`` = all.
``store-status=0xA700`` or ``store-status=0xA700:N``
    Answer every (or the first N) C-STORE with that status (PS3.4 Table B.2-1); with a
    failure status the instance is not kept.
``delay=SECONDS``
    Wait that long before answering each DIMSE request (to exceed the device's timeout).
``abort-after=N``
    Send an A-ABORT instead of answering the (N+1)th DIMSE request of each association.
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance.errors import InputError, Problem
from conformance.standard import uids


@dataclass(frozen=True)
class Misbehaviour:
    reject: frozenset[tuple[str, str]] = frozenset()
    store_status: int | None = None
    store_status_count: int | None = None
    delay: float = 0.0
    abort_after: int | None = None

    @property
    def active(self) -> list[str]:
        """The kinds switched on, as step-id words."""
        out = []
        if self.reject:
            out.append("reject")
        if self.store_status is not None:
            out.append("store-status")
        if self.delay:
            out.append("delay")
        if self.abort_after is not None:
            out.append("abort-after")
        return out

    def rejects(self, sop_class: str, transfer_syntax: str | None = None) -> bool:
        for sop, ts in self.reject:
            if sop in ("*", sop_class) and (ts == "*" if transfer_syntax is None
                                             else ts in ("*", transfer_syntax)):
                return True
        return False

    def describe(self) -> list[str]:
        out = []
        for sop, ts in sorted(self.reject):
            what = "every SOP class" if sop == "*" else uids.name_of(sop)
            out.append(f"reject {what}" + ("" if ts == "*" else f" in {uids.keyword_of(ts)}"))
        if self.store_status is not None:
            out.append(f"answer {'every' if self.store_status_count is None else f'the first {self.store_status_count}'}"
                       f" C-STORE with status 0x{self.store_status:04X}")
        if self.delay:
            out.append(f"answer each request after {self.delay:g} s")
        if self.abort_after is not None:
            out.append(f"abort each association after {self.abort_after} request(s)")
        return out


def _resolve(word: str, table: dict[str, str], what: str) -> str:
    if word == "*" or uids.is_valid_uid(word):
        return word
    if word in table:
        return table[word]
    hint = uids.suggest(word, list(table))
    raise InputError(Problem(f"--misbehave: unknown {what} {word!r}" + (f"; did you mean {hint}?" if hint else "")))


def parse(values: tuple[str, ...] | list[str]) -> Misbehaviour:
    """Parse ``--misbehave`` values; raises InputError (exit 2) on a bad one."""
    reject: set[tuple[str, str]] = set()
    status = count = abort_after = None
    delay = 0.0
    for value in values:
        kind, sep, arg = value.partition("=")
        if not sep or not arg:
            raise InputError(Problem(f"--misbehave {value!r}: expected KIND=VALUE"))
        try:
            if kind == "reject":
                sop, _s, ts = arg.partition("/")
                reject.add((_resolve(sop, uids.sop_class_keywords(), "SOP class"),
                            _resolve(ts, uids.transfer_syntax_keywords(), "transfer syntax") if ts else "*"))
            elif kind == "store-status":
                code, _s, n = arg.partition(":")
                status = int(code, 16)
                count = int(n) if n else None
                if not 0 <= status <= 0xFFFF or (count is not None and count < 1):
                    raise ValueError(arg)
            elif kind == "delay":
                delay = float(arg)
                if not 0 < delay <= 3600:
                    raise ValueError(arg)
            elif kind == "abort-after":
                abort_after = int(arg)
                if abort_after < 0:
                    raise ValueError(arg)
            else:
                raise InputError(Problem(f"--misbehave: unknown kind {kind!r} (reject, store-status, "
                                         "delay, abort-after)"))
        except ValueError:
            raise InputError(Problem(f"--misbehave {value!r}: bad value")) from None
    return Misbehaviour(frozenset(reject), status, count, delay, abort_after)
