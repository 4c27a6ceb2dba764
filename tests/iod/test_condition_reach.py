"""The shipped index: a parsed condition names only attributes its run-time look-up sees
(issue 14: a condition evaluated where its attributes are out of sight is a false alarm)."""

from __future__ import annotations


def test_shipped_conditions_name_only_attributes_the_look_up_sees():
    """A parsed condition of an attribute names attributes of its own Item or of the top
    level (bin/build_standard_index.py keeps the others as text, not verifiable): the
    look-up of conformance.iod.modules sees nothing else."""
    import gzip
    import json

    from conformance.standard.conditions import tags_in
    from conformance.standard.iod_index import DEFAULT_INDEX, inline_modules
    data = json.loads(gzip.open(DEFAULT_INDEX).read())
    conditions = data["conditions"]
    modules = list(inline_modules(data).values())
    top = {node[0] for mod in modules for node in mod["attrs"]}
    outside = []

    def visit(nodes: list) -> None:
        siblings = {node[0] for node in nodes}
        for node in nodes:
            expr = conditions[node[2]]["expr"] if node[2] >= 0 else None
            if expr is not None and tags_in(expr) - siblings - top:
                outside.append(conditions[node[2]]["text"])
            visit(node[5])

    for mod in modules:
        visit(mod["attrs"])
    for iod in data["iods"].values():  # a module's condition: the top level only
        for _key, _usage, cid in iod["modules"]:
            expr = conditions[cid]["expr"] if cid >= 0 else None
            if expr is not None and tags_in(expr) - top:
                outside.append(conditions[cid]["text"])
    assert outside == []


def test_shipped_conditions_name_no_attribute_an_iod_has_only_inside_items():
    """Per IOD: an attribute the IOD has only inside Items (Referenced Image Sequence in the
    Referenced Image Functional Group of an enhanced image) is out of the look-up's sight
    for a condition evaluated elsewhere; the Icon Image Sequence is another image. Tags the
    look-up also finds in the Functional Groups Sequences (data rules) are in sight."""
    import gzip
    import json

    from conformance.standard.conditions import tags_in
    from conformance.standard.iod_index import DEFAULT_INDEX, inline_modules
    data = json.loads(gzip.open(DEFAULT_INDEX).read())
    conditions = data["conditions"]
    modules = inline_modules(data)

    def tags_of(nodes: list, acc: set) -> set:
        for node in nodes:
            acc.add(node[0])
            if node[0] != 0x00880200:
                tags_of(node[5], acc)
        return acc

    hidden_uses = []

    def visit(nodes: list, hidden: set, iod: str) -> None:
        siblings = {node[0] for node in nodes}
        for node in nodes:
            expr = conditions[node[2]]["expr"] if node[2] >= 0 else None
            if expr is not None and (tags_in(expr) - siblings) & hidden:
                hidden_uses.append((iod, conditions[node[2]]["text"]))
            visit(node[5], hidden, iod)

    from conformance.iod.specialisations import condition_tags_by_module
    seen_in_groups = condition_tags_by_module()     # the look-up finds these in the groups
    for key, iod in data["iods"].items():
        used = [m for m in iod["modules"] if m[0] in modules]
        top = {node[0] for m in used for node in modules[m[0]]["attrs"]}
        hidden = set().union(*(tags_of(modules[m[0]]["attrs"], set()) for m in used)) - top
        hidden -= {t for m in used for t in seen_in_groups.get(m[0], ())}
        for m in used:
            visit(modules[m[0]]["attrs"], hidden, key)
    assert hidden_uses == []
