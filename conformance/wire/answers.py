"""The device's answer to the harness's A-ASSOCIATE-RQ, checked against PS3.8 9.3.3-9.3.4:
each deviation is a :class:`~conformance.wire.outcome.Violation` saying what the device sent
(pure; :func:`conformance.wire.requestor.open_association` records them on the target).

- A-ASSOCIATE-AC: the codec's problems of form (an item running past the PDU, a maximum
  length sub-item that is not 4 bytes, an AE title with characters PS3.5 does not allow...);
  a presentation context ID that was never proposed (PS3.8 9.3.3.2: the ID of the proposed
  context; the harness proposes odd IDs 1, 3, ...), which includes every even ID; an
  accepted transfer syntax that was not proposed in that context (PS3.8 9.3.3.2, Table 9-18:
  one of the proposed transfer syntaxes); a proposed context left without an answer (PS3.8
  7.1.1.13: the result list conveys the acceptance or rejection of each context proposed).
- A-ASSOCIATE-RJ: a body that is not 4 bytes; a result other than 1 (permanent) or 2
  (transient); a (source, reason) pair Table 9-21 does not define.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from conformance.wire.outcome import REJECT_REASONS, Violation
from conformance.wire.pdu import AssociateAccept, AssociateReject, RequestedContext

AC_REFERENCE = "PS3.8 9.3.3"
RJ_REFERENCE = "PS3.8 9.3.4, Table 9-21"


def accept_violations(ac: AssociateAccept, proposed: Sequence[RequestedContext]) -> list[Violation]:
    """What is wrong with an A-ASSOCIATE-AC answering *proposed*."""
    out = [Violation("protocol.malformed-pdu", f"an A-ASSOCIATE-AC out of form: {p}", AC_REFERENCE, key=p)
           for p in ac.problems]
    offered = {c.id: c for c in proposed}
    for answer in ac.contexts:
        ctx = offered.get(answer.id)
        if ctx is None:
            parity = " (an even ID: proposed IDs are odd)" if answer.id % 2 == 0 else ""
            out.append(Violation(
                "protocol.context-id-not-proposed",
                f"an A-ASSOCIATE-AC answering presentation context ID {answer.id}{parity}, which the harness "
                f"never proposed (it proposed {_ids(offered)})", "PS3.8 9.3.3.2, 9.3.2.2"))
            continue
        if answer.result == 0 and answer.transfer_syntax not in ctx.transfer_syntaxes:
            out.append(Violation(
                "protocol.transfer-syntax-not-proposed",
                f"an A-ASSOCIATE-AC accepting presentation context {answer.id} in transfer syntax "
                f"{answer.transfer_syntax!r}, which was not proposed for it (proposed: "
                f"{', '.join(ctx.transfer_syntaxes)})", "PS3.8 9.3.3.2, Table 9-18"))
    answered = {a.id for a in ac.contexts}
    missing = [i for i in offered if i not in answered]
    if missing and not ac.problems:
        out.append(Violation(
            "protocol.context-not-answered",
            f"an A-ASSOCIATE-AC without an answer for {len(missing)} of the {len(offered)} presentation "
            f"contexts proposed (IDs {_ids(missing)}); the harness counts them as rejected",
            "PS3.8 7.1.1.13, 9.3.3.2"))
    return out


def reject_violations(rj: AssociateReject) -> list[Violation]:
    """What is wrong with an A-ASSOCIATE-RJ."""
    out = [Violation("protocol.malformed-pdu", f"an A-ASSOCIATE-RJ out of form: {p}", RJ_REFERENCE, key=p)
           for p in rj.problems]
    if not rj.problems:
        if rj.result not in (1, 2):
            out.append(Violation("protocol.undefined-value",
                                 f"an A-ASSOCIATE-RJ with result {rj.result} (defined: 1 permanent, 2 transient)",
                                 RJ_REFERENCE, key="result"))
        if (rj.source, rj.reason) not in REJECT_REASONS:
            out.append(Violation("protocol.undefined-value",
                                 f"an A-ASSOCIATE-RJ with source {rj.source} and reason {rj.reason}, a pair "
                                 "Table 9-21 does not define", RJ_REFERENCE, key="source-reason"))
    return out


def _ids(offered: Iterable[int]) -> str:
    ids = sorted(offered)
    if len(ids) > 4:
        return f"{ids[0]}, {ids[1]}, ... {ids[-1]}"
    return ", ".join(map(str, ids)) or "none"
