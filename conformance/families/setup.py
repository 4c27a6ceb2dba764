"""Is an abort the device's refusal, or the site's set-up? Checked once per run.

A device that does not know the harness' calling AE title typically accepts the association
and then aborts every query, retrieve and commitment request (Orthanc answers C-ECHO and
C-STORE from any AE title, and aborts the rest); a device that knows the harness but forbids
one service aborts only that one. The check sends one harmless request
(:mod:`conformance.families.probes`) for each kind of service the statement claims, and
C-ECHO under the harness' calling AE title and under a second one:

- no probed service answers, and at least two kinds were probed: a set-up problem;
- C-ECHO is refused for the harness' calling AE title but answered for the second one:
  a set-up problem (the device treats the harness' AE title specially);
- otherwise some command works for the harness: an abort is the device's refusal of that
  service (a failure, :mod:`conformance.families.verdict`).
"""

from __future__ import annotations

from conformance.engine.model import RunContext, StepResult
from conformance.families.probes import ProbeResult, echo, probe_sop_class
from conformance.families.session import destination, harness_port
from conformance.families.verdict import Reply, Unanswered, harness_address, judge
from conformance.services import commitment as scs
from conformance.services import mpps as pps
from conformance.services import query as qr
from conformance.services import worklist as mwl
from conformance.standard import uids

#: The second calling AE title of the check (PS3.8 9.3.2: 16 characters at most).
SECOND_CALLING_AE = "CONFORMANCE-ALT"

_KEY = "setup.calling-ae"
REACHED = "setup.reached"


def claimed_probes(ctx: RunContext) -> list[str]:
    """One claimed (performed) SOP class per kind of service that has a harmless probe."""
    st = ctx.statement
    kinds: list[list[str]] = [[str(m[0]) for m in qr.MODELS.values()], [mwl.MWL_FIND],
                              [str(m[1]) for m in qr.MODELS.values()],
                              [str(m[2]) for m in qr.MODELS.values() if m[2]],
                              [pps.MPPS], [scs.PUSH_MODEL]]
    out = []
    for sops in kinds:
        sop = next((s for s in sops if st.performs(s)), None)
        if sop is not None:
            out.append(sop)
    # A commitment probe makes the device send a report later; only used when there is
    # too little else to tell from.
    if len(out) > 2 and out[-1] == scs.PUSH_MODEL:
        out.pop()
    return out


def calling_ae_problem(ctx: RunContext) -> str | None:
    """The set-up message when the device refuses the harness' calling AE title for every
    command, else ``None``. Cached in ``ctx.shared`` (one check per run)."""
    if _KEY in ctx.shared:
        return ctx.shared[_KEY]  # type: ignore[no-any-return]
    target = ctx.target
    results: list[ProbeResult] = []
    for sop in claimed_probes(ctx):
        found = probe_sop_class(target, sop, destination(ctx.statement))
        if found is not None:
            results.append(found)
    mine, other = echo(target), echo(target.with_calling_ae(SECOND_CALLING_AE))
    answered = [r for r in results if r.answered]
    refused = [r for r in results if r.refused or r.reply is None]
    echo_differs = not mine.answered and other.answered
    problem = None
    if echo_differs or (not answered and len(refused) >= 2):
        seen = "; ".join(r.describe() for r in [*results, mine])
        works = "" if not mine.answered else " (it answers C-ECHO)"
        if echo_differs:
            works = f" (C-ECHO from {SECOND_CALLING_AE!r} is answered, from {target.calling_ae!r} not)"
        problem = (f"set-up problem: the device refuses every command from the harness' calling AE "
                   f"title {target.calling_ae!r}{works}: {seen}. Add the harness to the device's "
                   f"known AEs ({harness_address(target, harness_port(ctx), target.calling_ae)}), "
                   "or run with the calling AE title the device knows (--calling-ae or "
                   "harness.ae_title)")
    ctx.shared[_KEY] = problem
    return problem


def judge_unanswered(ctx: RunContext, request: str, sop_class: str, un: Unanswered) -> StepResult:
    """The verdict for a claimed service's request that got no status (one place:
    :func:`conformance.families.verdict.judge`), with the set-up check made first when
    the device ended the association."""
    claim = f"{request} ({uids.keyword_of(sop_class)})"
    setup = calling_ae_problem(ctx) if un.reply in (Reply.ABORTED, Reply.CLOSED) else None
    return judge(claim, un, setup=setup, declared=ctx.statement.services.refusal(sop_class))


def note_reached(ctx: RunContext, calling_aes: list[str]) -> None:
    """Remember that the device opened an association to the harness in this run (the
    harness' address is configured on it)."""
    if calling_aes:
        ctx.shared[REACHED] = True


def reached(ctx: RunContext) -> bool:
    return bool(ctx.shared.get(REACHED))
