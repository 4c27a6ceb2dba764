"""Presentation contexts as the requestor proposes them and as the acceptor answers them
(PS3.8 9.3.2.2, 9.3.3.2, Table 9-18), with SCP/SCU role selection (PS3.7 D.3.3.4)."""

from __future__ import annotations

from dataclasses import dataclass

#: PS3.8 Table 9-18, presentation context result/reason.
CONTEXT_RESULTS = {
    0: "acceptance",
    1: "user-rejection",
    2: "no-reason (provider rejection)",
    3: "abstract-syntax-not-supported (provider rejection)",
    4: "transfer-syntaxes-not-supported (provider rejection)",
}

# Presentation context results (PS3.8 Table 9-18)
ACCEPTANCE, USER_REJECTION, NO_REASON = 0, 1, 2
ABSTRACT_SYNTAX_NOT_SUPPORTED, TRANSFER_SYNTAXES_NOT_SUPPORTED = 3, 4


@dataclass(frozen=True)
class ProposedContext:
    """A presentation context to propose: one abstract syntax, its transfer syntaxes, and
    optionally an SCP/SCU Role Selection item (PS3.7 D.3.3.4) from the harness' side."""

    sop_class: str
    transfer_syntaxes: tuple[str, ...]
    scu_role: bool | None = None
    scp_role: bool | None = None


@dataclass(frozen=True)
class ContextResult:
    """How the acceptor answered one proposed presentation context."""

    proposed: ProposedContext
    result: int                        # PS3.8 Table 9-18
    transfer_syntax: str | None = None  # the one accepted
    as_scu: bool | None = None         # harness' roles after role selection
    as_scp: bool | None = None

    @property
    def accepted(self) -> bool:
        return self.result == ACCEPTANCE


def agreed_roles(ctx: ProposedContext, reply: tuple[int, int] | None) -> tuple[bool, bool]:
    """The requestor's roles for an accepted context (PS3.7 D.3.3.4, Table D.3-12): with no
    role selection proposed, or none answered, the default (requestor SCU); otherwise a role
    is the requestor's when both proposed and accepted it."""
    if (ctx.scu_role is None and ctx.scp_role is None) or reply is None:
        return True, False
    scu, scp = reply
    return bool(ctx.scu_role) and bool(scu), bool(ctx.scp_role) and bool(scp)
