"""Render a statement comparison (conformance.statement.compare) as HTML, JSON or a terminal table."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, select_autoescape

from conformance.standard import uids
from conformance.statement.compare import NOT_ACCEPTED, Comparison, Pairing


def cell(p: Pairing, ts: str) -> str:
    """State of one matrix cell: likely, common, scu-only, rejected or ''."""
    if p.state == NOT_ACCEPTED:
        return "rejected" if ts in p.scu_only else ""
    if ts == p.likely:
        return "likely"
    if ts in p.common:
        return "common"
    return "scu-only" if ts in p.scu_only else ""


def render_compare_html(c: Comparison) -> str:
    env = Environment(loader=PackageLoader("conformance.reporting", "templates"),
                      autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True)
    env.filters["keyword"] = uids.keyword_of
    directions = [(c.a, c.b, [p for p in c.pairings if p.scu == "A"]),
                  (c.b, c.a, [p for p in c.pairings if p.scu == "B"])]
    return env.get_template("compare.html.j2").render(
        c=c, directions=directions, columns=c.transfer_syntaxes(), cell=cell,
        name=uids.name_of, keyword=uids.keyword_of,
        warnings=[f for f in c.flags if f.severity in ("warning", "error")])
