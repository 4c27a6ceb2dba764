"""Packing presentation contexts into associations (PS3.8 9.3.2.2, PS3.7 D.3.3.4)."""

from __future__ import annotations

from hypothesis import given, strategies as st

from conformance.negotiation.association import ProposedContext
from conformance.negotiation.packing import MAX_CONTEXTS, check_packing, pack, per_sop_class

contexts = st.builds(
    ProposedContext,
    sop_class=st.sampled_from([f"1.2.3.{i}" for i in range(40)]),
    transfer_syntaxes=st.tuples(st.sampled_from(["1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.5"])),
    scu_role=st.sampled_from([None, False]),
    scp_role=st.sampled_from([None, True]),
).map(lambda c: c if (c.scu_role is None) == (c.scp_role is None) else ProposedContext(c.sop_class, c.transfer_syntaxes))


@given(st.lists(contexts, max_size=700))
def test_pack_keeps_every_context_once_within_limits(items):
    groups = pack(items)
    check_packing(groups)
    flat = [c for g in groups for c in g]
    assert flat == list(dict.fromkeys(flat)) and set(flat) == set(items)


@given(st.lists(contexts, min_size=1, max_size=700))
def test_pack_uses_the_fewest_associations(items):
    unique = set(items)
    plain = sum(1 for c in unique if c.scu_role is None)
    roles = len(unique) - plain
    expected = -(-plain // MAX_CONTEXTS) + -(-roles // MAX_CONTEXTS)
    assert len(pack(items)) == expected


def test_per_sop_class_makes_one_association_per_class():
    items = [ProposedContext(f"1.2.3.{i}", (ts,)) for i in range(5) for ts in ("1.2.840.10008.1.2", "1.2.840.10008.1.2.1")]
    groups = per_sop_class(items)
    assert len(groups) == 5 and all(len({c.sop_class for c in g}) == 1 for g in groups)
