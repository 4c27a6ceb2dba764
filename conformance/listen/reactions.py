"""The closing steps of a listen session about its misbehaviours on purpose
(:mod:`conformance.listen.misbehaviour`): what the device did after the harness deviated.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from conformance.engine.model import Outcome, StepResult
from conformance.findings import Finding, Severity

if TYPE_CHECKING:
    from conformance.listen.session import ListenSession


def misbehaviour_steps(self: ListenSession) -> None:
    """One ``listen/misbehaviour/<kind>`` step per deviation made on purpose: what the harness
    did and how the device reacted (retries, further requests, how associations ended)."""
    mis = self.config.misbehaviour
    for kind in mis.active:
        obs: dict[str, Any] = {"kind": kind, "harness_did": mis.describe()}
        lines: list[str] = []
        exercised = True
        if kind == "reject":
            exercised = bool(self.rejections)
            later = [n for n, _e, req in self.association_ends if req]
            obs["rejected_contexts"] = len(self.rejections)
            lines.append(f"{len(self.rejections)} proposed context(s) rejected on purpose; the device then sent "
                         f"{self.instances} instance(s) on the contexts left, in {len(later)} association(s) "
                         "with requests.")
        elif kind == "store-status":
            exercised = bool(self.failures)
            failed_uids = {u for u, _s, _n in self.failures}
            retried = sorted(u for u in failed_uids if self.store.arrivals.get(u, 0) > 1)
            obs.update({"failed": len(self.failures), "retried": len(retried),
                        "requests_after_failure": self.after_failure["requests"]})
            lines.append(f"{len(self.failures)} C-STORE(s) answered with a failure status; the device re-sent "
                         f"{len(retried)} of those instance(s), and made {self.after_failure['requests']} further "
                         "successful C-STORE(s) after the first failure.")
        elif kind in ("delay", "abort-after"):
            ends = Counter(e for _n, e, _r in self.association_ends)
            exercised = any(r > (mis.abort_after or 0) for _n, _e, r in self.association_ends) \
                if kind == "abort-after" else any(r for _n, _e, r in self.association_ends)
            resent = sum(1 for c in self.store.arrivals.values() if c > 1)
            obs.update({"association_ends": dict(ends), "associations": len(self.association_ends),
                        "instances_resent": resent})
            lines.append(f"{len(self.association_ends)} association(s) ended as {dict(ends)}; "
                         f"{resent} instance(s) arrived more than once.")
        ends = Counter(e for _n, e, _r in self.association_ends)
        obs.setdefault("association_ends", dict(ends))
        if kind in ("reject", "store-status"):
            lines.append(f"Associations ended as: {', '.join(f'{n}x {e}' for e, n in ends.items()) or 'none'}.")
        findings = [Finding("listen.device-reaction", Severity.INFO, line, reference="PS3.4 B.2.3; PS3.8 7")
                    for line in lines]
        result = StepResult(findings=findings if exercised else [], observations=[obs],
                            message="; ".join(mis.describe()) if exercised else
                            "the device never sent anything this misbehaviour applies to",
                            outcome=None if exercised else Outcome.SKIPPED)
        self.report(f"listen/misbehaviour/{kind}", f"harness misbehaves on purpose: {kind}",
                    "PS3.4 B.2.3; PS3.8 7", result)
