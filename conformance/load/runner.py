"""Open the declared associations at once and store: one thread an association.

Each association is requested on the synchronous requestor (:func:`conformance.services.
wire.open_association`: one blocking socket, every read bounded by the ACSE or DIMSE timeout).
The threads wait for each other once their association is settled (accepted or not), so the
stores overlap as N modalities storing at once would, then each sends its instances one
C-STORE at a time (PS3.7 9.3.1) and times each, request sent to response read.  A thread stops
at its instance count, at the run's deadline, or when its association breaks.
"""

from __future__ import annotations

import threading
import time
from array import array
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from conformance.load.payload import Payloads, Template, uuid_uid
from conformance.negotiation.association import Establishment, ProposedContext
from conformance.negotiation.target import Target
from conformance.services.storage import store_wire
from conformance.services.wire import open_association


@dataclass
class LoadResult:
    """What a load run measured (everything the step judges and the report shows)."""

    requested: int
    accepted: int = 0
    rejections: list[dict[str, Any]] = field(default_factory=list)
    not_established: list[str] = field(default_factory=list)  # aborted, no connection, ...
    unreachable: int = 0        # no TCP connection, or no answer to A-ASSOCIATE-RQ
    contexts_refused: int = 0   # accepted, but none of the proposed presentation contexts
    broken: list[str] = field(default_factory=list)           # failed after being accepted
    statuses: Counter[str] = field(default_factory=Counter)    # "0x0000 success" -> count
    stored: Counter[str] = field(default_factory=Counter)      # SOP class UID -> instances
    attempted: int = 0
    succeeded: int = 0
    failed: int = 0
    latencies_ms: array = field(default_factory=lambda: array("d"))
    starts: array = field(default_factory=lambda: array("d"))   # seconds since the start
    first: float | None = None
    last: float | None = None
    stopped_by_time: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def seconds(self) -> float:
        return (self.last - self.first) if self.first is not None and self.last else 0.0

    @property
    def throughput(self) -> float:
        """Instances stored (success or warning) per second, all associations together."""
        return self.succeeded / self.seconds if self.seconds > 0 else 0.0

    @property
    def error_rate(self) -> float:
        return self.failed / self.attempted if self.attempted else 0.0


def _store_all(wire: Any, contexts: Sequence[tuple[ProposedContext, Template]], count: int,
               deadline: float, t0: float, out: LoadResult) -> None:
    for k in range(count):
        if time.monotonic() >= deadline:
            out.stopped_by_time = True
            return
        pc, tpl = contexts[k % len(contexts)]
        uid = uuid_uid()
        raw = tpl.instance(uid)
        start = time.perf_counter()
        ex = store_wire(wire, pc, tpl.sop_class, uid, tpl.transfer_syntax, raw, k % 65535 + 1)
        end = time.perf_counter()
        with out.lock:
            out.attempted += 1
            out.first = start if out.first is None else min(out.first, start)
            out.last = end if out.last is None else max(out.last, end)
            if ex.error:
                out.failed += 1
                out.statuses["no response / association broken"] += 1
                out.broken.append(ex.error)
                return
            obs = ex.observations[0]
            out.statuses[f"{obs['status']} {obs['category']}"] += 1
            out.latencies_ms.append((end - start) * 1000)
            out.starts.append(start - t0)
            if obs["category"] in ("success", "warning"):
                out.succeeded += 1
                out.stored[tpl.sop_class] += 1
            else:
                out.failed += 1


def run_load(target: Target, payloads: Payloads, associations: int, per_association: int,
             time_limit: float) -> LoadResult:
    """Open *associations* associations at once; each stores *per_association* instances,
    cycling through the payload templates whose presentation context was accepted."""
    proposed = [(ProposedContext(t.sop_class, (t.transfer_syntax,)), t)
                for t in payloads.templates.values()]
    out = LoadResult(requested=associations)
    settle = target.timeouts.connect + target.timeouts.acse + 5
    barrier = threading.Barrier(associations)
    t0 = time.perf_counter()
    deadline = time.monotonic() + time_limit

    def settle_one() -> Any:
        outcome, wire = open_association(target, [pc for pc, _ in proposed])
        with out.lock:
            if outcome.establishment is Establishment.ACCEPTED and wire is not None:
                out.accepted += 1
            elif outcome.establishment is Establishment.REJECTED:
                out.rejections.append({"result": outcome.reject_result,
                                       "source": outcome.reject_source,
                                       "reason": outcome.reject_reason,
                                       "meaning": outcome.reject_meaning})
            elif outcome.establishment is Establishment.ACCEPTED:
                out.contexts_refused += 1
                out.not_established.append("accepted, but with none of the proposed "
                                           "presentation contexts")
            else:
                if outcome.establishment in (Establishment.NO_CONNECTION,
                                             Establishment.NO_ANSWER):
                    out.unreachable += 1
                out.not_established.append(outcome.describe())
        return wire

    def one() -> None:
        wire = None
        try:
            try:
                wire = settle_one()
            except Exception as exc:  # noqa: BLE001 (recorded; the others must not wait)
                with out.lock:
                    out.not_established.append(f"{type(exc).__name__}: {exc}")
            try:
                barrier.wait(timeout=settle)
            except threading.BrokenBarrierError:
                pass  # a slow peer: store anyway, the figures still hold
            if wire is None:
                return
            usable = [(pc, t) for pc, t in proposed if pc in wire.context_ids]
            if not usable:
                with out.lock:
                    out.broken.append("no proposed presentation context was accepted")
                return
            _store_all(wire, usable, per_association, deadline, t0, out)
        except Exception as exc:  # noqa: BLE001 (a thread must report, never vanish)
            with out.lock:
                out.broken.append(f"{type(exc).__name__}: {exc}")
        finally:
            if wire is not None:
                try:
                    wire.release()
                except Exception:  # noqa: BLE001,S110 (the device may have gone already)
                    pass

    threads = [threading.Thread(target=one, name=f"load-{i}", daemon=True)
               for i in range(associations)]
    for t in threads:
        t.start()
    bound = time_limit + settle + target.timeouts.dimse + target.timeouts.acse
    for t in threads:
        t.join(timeout=max(0.1, bound - (time.perf_counter() - t0)))
    return out
