"""Storage SCP (PS3.4 Annex B): keep each instance as a PS3.10 file, answer C-STORE-RSP.

The network thread does no DICOM parsing of the data set: the fragments go to a temporary
file behind a File Meta Information header made from the command's Affected SOP Class and
Instance UIDs (PS3.10 7.1) and the presentation context's transfer syntax; the file is
renamed ``<SOP Instance UID>.dcm`` once complete (see :mod:`conformance.listen.store` for the
naming rule). Validation happens elsewhere, off this thread
(:mod:`conformance.listen.session`).

Status: Success 0x0000; 0xC000 "cannot understand" (PS3.4 Table B.2-1) when the Affected
SOP Instance UID is not a valid UID (nothing is stored); 0xA700 "Refused: Out of Resources"
(PS3.4 B.2.3, Table B.2-1) when the data set is larger than the session's store size cap
(``Limits.max_store``: the bytes beyond it are read and dropped, the partial file removed);
or the status a misbehaviour asks for, in which case a failure status means the instance is
not kept. A C-STORE cut by an A-ABORT, a reset or an A-RELEASE-RQ leaves no file behind
(:meth:`StorageSCP.discard`, called by the association).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import BinaryIO, cast

from conformance.findings import Finding, Severity
from conformance.listen.misbehaviour import Misbehaviour
from conformance.listen.server import Association
from conformance.listen.store import Store, StoredInstance, file_header, safe_uid
from conformance.services.status import FAILURE, classify
from conformance.wire import dimse
from conformance.wire.dimse import Message

#: Refused: Out of Resources (PS3.4 Table B.2-1).
OUT_OF_RESOURCES = 0xA700


class CappedSink:
    """A file that takes at most *cap* data set bytes; past the cap it drops what comes (the
    association keeps reading, so the next message stays in step) and remembers it was over."""

    def __init__(self, fp: BinaryIO, cap: int | None) -> None:
        self.fp, self.cap = fp, cap
        self.written = 0
        self.over = False

    def write(self, data: bytes | memoryview) -> int:
        if self.over:
            return 0
        if self.cap is not None and self.written + len(data) > self.cap:
            self.over = True
            self.fp.truncate(0)          # nothing more of it on disk than needed
            return 0
        self.written += len(data)
        return self.fp.write(data)

    def close(self) -> None:
        self.fp.close()


#: What the session hears per C-STORE: (association, item or None, status, findings).
Arrival = Callable[[Association, "StoredInstance | None", int, list[Finding], Message], None]


class StorageSCP:
    def __init__(self, store: Store, on_arrival: Arrival, misbehaviour: Misbehaviour = Misbehaviour(),
                 max_store: int | None = None) -> None:
        self.store, self.on_arrival, self.misbehaviour = store, on_arrival, misbehaviour
        self.max_store = max_store
        self._lock = threading.Lock()
        self._answered = 0

    def open_sink(self, assoc: Association, msg: Message) -> BinaryIO | None:
        """Called when a C-STORE-RQ command set is complete: where its data set goes."""
        if msg.command.field != dimse.C_STORE_RQ:
            return None
        cmd = msg.command
        temp = self.store.temp_path()
        sink = open(temp, "wb", buffering=1 << 16)
        req = assoc.request
        sink.write(file_header(cmd.text(0x0002), cmd.text(0x1000), assoc.transfer_syntax(msg.context_id),
                               req.calling_ae if req else ""))
        msg.extra["temp"] = temp
        if self.max_store is None:
            return sink
        return cast(BinaryIO, CappedSink(sink, self.max_store))     # write and close are all it needs

    def discard(self, msg: Message) -> None:
        if msg.sink is not None:
            msg.sink.close()
        temp = msg.extra.get("temp")
        if temp is not None:
            try:
                os.unlink(temp)
            except OSError:
                pass

    def _status(self) -> int:
        mis = self.misbehaviour
        if mis.store_status is None:
            return 0x0000
        with self._lock:
            self._answered += 1
            if mis.store_status_count is None or self._answered <= mis.store_status_count:
                return mis.store_status
        return 0x0000

    def __call__(self, assoc: Association, msg: Message) -> None:
        cmd = msg.command
        if cmd.field != dimse.C_STORE_RQ:
            assoc.respond(msg, cmd.field | 0x8000, 0x0211)     # unrecognized operation
            return
        if msg.sink is None:                                    # a C-STORE-RQ without data set
            assoc.respond(msg, dimse.C_STORE_RSP, 0xC000)
            self.on_arrival(assoc, None, 0xC000, [Finding(
                "listen.store-no-data-set", Severity.ERROR, "A C-STORE-RQ came without a data set.",
                reference="PS3.7 9.3.1.1")], msg)
            return
        msg.sink.close()
        sop_class, uid = cmd.text(0x0002), cmd.text(0x1000)
        findings: list[Finding] = []
        if isinstance(msg.sink, CappedSink) and msg.sink.over:
            self.discard(msg)
            assoc.respond(msg, dimse.C_STORE_RSP, OUT_OF_RESOURCES)
            self.on_arrival(assoc, None, OUT_OF_RESOURCES, [Finding(
                "listen.store-too-large", Severity.WARNING,
                f"The data set of {msg.data_length:,} bytes is larger than the session's store size cap "
                f"({self.max_store:,} bytes, --max-store-size): answered 0xA700 Refused: Out of Resources, "
                "not kept, not validated.", reference="PS3.4 B.2.3, Table B.2-1; harness limit")], msg)
            return
        context_sop = assoc.abstract_syntax(msg.context_id)
        if sop_class != context_sop:
            findings.append(Finding(
                "listen.store-sop-class-context", Severity.ERROR,
                f"C-STORE-RQ Affected SOP Class UID {sop_class} is not the abstract syntax "
                f"{context_sop} of presentation context {msg.context_id}.", reference="PS3.7 9.1.1.1; PS3.8 9.3.2.2"))
        if not safe_uid(uid):
            self.discard(msg)
            assoc.respond(msg, dimse.C_STORE_RSP, 0xC000)
            findings.append(Finding(
                "listen.invalid-sop-instance-uid", Severity.ERROR,
                f"C-STORE-RQ Affected SOP Instance UID {uid[:80]!r} is not a valid UID; the instance "
                "was refused (0xC000) and not stored.", reference="PS3.5 9.1; PS3.7 9.3.1.1", tag="(0000,1000)"))
            self.on_arrival(assoc, None, 0xC000, findings, msg)
            return
        status = self._status()
        item = StoredInstance(sop_class, uid, assoc.transfer_syntax(msg.context_id), msg.extra["temp"],
                              assoc.request.calling_ae if assoc.request else "", assoc.number,
                              msg.data_length)
        if classify(status, "storage").category == FAILURE:
            self.discard(msg)
            assoc.respond(msg, dimse.C_STORE_RSP, status)
            self.on_arrival(assoc, item, status, findings, msg)
            return
        self.store.commit(msg.extra["temp"], item)
        assoc.respond(msg, dimse.C_STORE_RSP, status)
        self.on_arrival(assoc, item, status, findings, msg)
