"""Probe what a real device accepts in association negotiation, to write its statement.

The shipped statements' ``[probe]`` claims (statements/orthanc-1.10.yaml,
statements/dcmtk-*.yaml) were made this way and can be re-made with::

    python -m conformance.testing.probe orthanc
    python -m conformance.testing.probe storescp-xa --role-selection

Every SOP class of the harness' tables (storage, Q/R, worklist, MPPS, storage commitment,
plus Verification) is proposed with every probed transfer syntax, one presentation context
each, packed 128 per association (PS3.8 9.3.2.2). The output groups SOP classes by the set of
transfer syntaxes accepted, as statement-ready keyword lists, and counts the rejection
results (PS3.8 Table 9-18). Traffic goes to loopback only, to a peer started here.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable

from conformance.negotiation.packing import pack
from conformance.standard import uids
from conformance.testing.peers import DcmQrSCP, Orthanc, Peer, StoreSCP, free_port
from conformance.wire.contexts import ProposedContext
from conformance.wire.requestor import negotiate
from conformance.wire.target import Target

#: sop class UID -> transfer syntax UID -> result (0 accepted, else PS3.8 Table 9-18 reason;
#: with role selection, an acceptance that refused the harness the SCP role counts as 1).
Matrix = dict[str, dict[str, int]]


def probe_sop_classes() -> list[str]:
    """Verification plus the storage and service SOP classes the harness knows (UIDs)."""
    table = {uids.VERIFICATION: None}
    for uid in list(uids.storage_sop_classes().values()) + list(uids.query_retrieve_sop_classes().values()):
        table[uid] = None
    return list(table)


def acceptance(target: Target, sop_classes: Iterable[str], transfer_syntaxes: Iterable[str],
               role_selection: bool = False) -> Matrix:
    """Propose every (SOP class, transfer syntax) pair as its own presentation context.

    With *role_selection*, each context carries an SCP/SCU Role Selection item with the
    harness as SCP (scu-role 0, scp-role 1), i.e. the device as SCU (PS3.7 D.3.3.4).
    """
    roles = {"scu_role": False, "scp_role": True} if role_selection else {}
    contexts = [ProposedContext(s, (t,), **roles) for s in sop_classes for t in transfer_syntaxes]
    matrix: Matrix = defaultdict(dict)
    for group in pack(contexts):
        outcome = negotiate(target, group)
        if not outcome.contexts:
            raise RuntimeError(f"probe failed: {outcome.describe()}")
        for c in outcome.contexts:
            result = c.result
            if role_selection and c.accepted and not c.as_scp:
                result = 1
            matrix[c.proposed.sop_class][c.proposed.transfer_syntaxes[0]] = result
    return dict(matrix)


def groups(matrix: Matrix) -> list[tuple[tuple[str, ...], list[str]]]:
    """``(accepted transfer syntaxes, SOP classes)`` pairs, largest group first (UIDs)."""
    by_ts: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for sop, row in matrix.items():
        by_ts[tuple(ts for ts, r in row.items() if r == 0)].append(sop)
    return sorted(by_ts.items(), key=lambda item: -len(item[1]))


def report(matrix: Matrix) -> str:
    """Human- and YAML-friendly summary of *matrix*."""
    lines = []
    for accepted, sops in groups(matrix):
        lines.append(f"# {len(sops)} SOP class(es) accepting {len(accepted)} transfer syntax(es)")
        lines.append("transfer_syntaxes: [" + ", ".join(uids.keyword_of(t) for t in accepted) + "]")
        lines.append("sop_classes:")
        lines += [f"  - {uids.keyword_of(s)}" for s in sorted(sops, key=_uid_key)]
        reasons = Counter(r for s in sops for r in matrix[s].values() if r)
        lines.append(f"# rejection results: {dict(sorted(reasons.items()))}")
        lines.append("")
    return "\n".join(lines)


def _uid_key(uid: str) -> list[int]:
    return [int(p) for p in uid.split(".") if p.isdigit()]


#: name -> launcher, configured as in tests/interop and the shipped statements.
PEERS = {
    "orthanc": lambda: Orthanc("ORTHANC", harness_ae_title="CONFORMANCE", harness_port=free_port()),
    "orthanc-worklists": lambda: Orthanc("ORTHANC", worklists=True),
    "storescp": lambda: StoreSCP("STORESCP"),
    "storescp-xa": lambda: StoreSCP("STORESCP", accept_all_transfer_syntaxes=True),
    "dcmqrscp": lambda: DcmQrSCP("DCMQRSCP", harness_ae_title="CONFORMANCE", harness_port=free_port()),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.testing.probe",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("peer", choices=sorted(PEERS))
    parser.add_argument("--role-selection", action="store_true",
                        help="propose each context with the harness as SCP (device as SCU)")
    args = parser.parse_args(argv)
    peer: Peer
    with PEERS[args.peer]() as peer:
        target = Target(peer.host, peer.port, peer.ae_title, "CONFORMANCE")
        matrix = acceptance(target, probe_sop_classes(), uids.probe_transfer_syntaxes().values(),
                            role_selection=args.role_selection)
    sys.stdout.write(report(matrix))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
