"""Pack presentation contexts into as few associations as the standard allows.

PS3.8 9.3.2.2: presentation context IDs are odd integers 1-255, so one A-ASSOCIATE-RQ
carries at most 128 presentation contexts. PS3.7 D.3.3.4: an SCP/SCU Role Selection item
applies to every context of its SOP class in the association, so contexts proposed with
role selection never share an association with contexts of the same SOP class without it.
Pure functions; no network.
"""

from __future__ import annotations

from typing import Iterable, Sequence

from conformance.negotiation.association import ProposedContext

MAX_CONTEXTS = 128


def pack(contexts: Iterable[ProposedContext], limit: int = MAX_CONTEXTS) -> list[list[ProposedContext]]:
    """Split *contexts* (deduplicated, order kept) into association-sized groups."""
    if not 1 <= limit <= MAX_CONTEXTS:
        raise ValueError(f"limit must be 1..{MAX_CONTEXTS}")
    unique = list(dict.fromkeys(contexts))
    plain = [c for c in unique if c.scu_role is None and c.scp_role is None]
    with_roles = [c for c in unique if not (c.scu_role is None and c.scp_role is None)]
    groups = [plain[i:i + limit] for i in range(0, len(plain), limit)]
    groups += [with_roles[i:i + limit] for i in range(0, len(with_roles), limit)]
    return [g for g in groups if g]


def per_sop_class(contexts: Iterable[ProposedContext]) -> list[list[ProposedContext]]:
    """One association per SOP class (and role-selection flavour): the naive strategy,
    kept for the benchmark that compares it with :func:`pack`."""
    groups: dict[tuple, list[ProposedContext]] = {}
    for c in dict.fromkeys(contexts):
        groups.setdefault((c.sop_class, c.scu_role, c.scp_role), []).append(c)
    out: list[list[ProposedContext]] = []
    for group in groups.values():
        out += [group[i:i + MAX_CONTEXTS] for i in range(0, len(group), MAX_CONTEXTS)]
    return out


def check_packing(groups: Sequence[Sequence[ProposedContext]]) -> None:
    """Assert the invariants above (used by tests and as a guard)."""
    for group in groups:
        assert 1 <= len(group) <= MAX_CONTEXTS
        plain = {c.sop_class for c in group if c.scu_role is None and c.scp_role is None}
        roles = {c.sop_class for c in group if not (c.scu_role is None and c.scp_role is None)}
        assert not plain & roles
