"""What the strategies build cases for: the AE titles and the Storage SOP classes the
statement declares as SCP, and the well-formed A-ASSOCIATE-RQ a case sends first."""

from __future__ import annotations

from dataclasses import dataclass

from conformance.standard.uids import EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN, VERIFICATION
from conformance.wire.contexts import ProposedContext
from conformance.wire.requestor import associate_rq
from conformance.wire.target import Target

ECHO_CONTEXT = ProposedContext(VERIFICATION, (IMPLICIT_VR_LITTLE_ENDIAN,))
#: Presentation context IDs of the set-up request: Verification first, then storage.
ECHO_ID, STORE_ID = 1, 3


@dataclass(frozen=True)
class Profile:
    """The device as the cases address it."""

    called_ae: str
    calling_ae: str
    #: Storage SOP class UIDs the statement declares as SCP (the data-set cases use them).
    storage_classes: tuple[str, ...] = ()

    def target(self, host: str = "127.0.0.1", port: int = 0) -> Target:
        return Target(host, port, self.called_ae, self.calling_ae)

    def echo_setup(self) -> bytes:
        """A-ASSOCIATE-RQ proposing Verification in Implicit VR Little Endian (context 1)."""
        return associate_rq(self.target(), [ECHO_CONTEXT])

    def store_setup(self, sop_class: str) -> bytes:
        """A-ASSOCIATE-RQ proposing Verification (context 1) and *sop_class* in Explicit VR
        Little Endian (context 3)."""
        return associate_rq(self.target(), [ECHO_CONTEXT, store_context(sop_class)])


def store_context(sop_class: str) -> ProposedContext:
    return ProposedContext(sop_class, (EXPLICIT_VR_LITTLE_ENDIAN,))
