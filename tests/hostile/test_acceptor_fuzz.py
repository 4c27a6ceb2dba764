"""Property: whatever bytes a client sends to ``listen`` (garbage, or a valid A-ASSOCIATE-RQ
followed by garbage), the harness never fails inside (no "harness error" ending, no traceback),
ends each association within its deadlines, and leaves no partial file. Hypothesis, bounded:
30 cases on one session, 0.5 s deadlines (issue 16, item 6, acceptor side)."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.listen import ListenConfig, ListenSession
from conformance.listen.server import Limits
from tests.hostile.acceptor_clients import GOOD_REQUEST, statement

PDU_TYPES = st.sampled_from([0x01, 0x02, 0x04, 0x05, 0x06, 0x07, 0x00, 0xFF])


@st.composite
def pdus(draw: st.DrawFn) -> bytes:
    """A PDU header with a plausible or absurd length, and a body of random bytes."""
    body = draw(st.binary(max_size=300))
    length = draw(st.one_of(st.just(len(body)), st.integers(0, 0xFFFFFFFF)))
    return bytes([draw(PDU_TYPES), 0]) + length.to_bytes(4, "big") + body


STREAMS = st.one_of(
    st.binary(min_size=1, max_size=400),
    st.lists(pdus(), min_size=1, max_size=4).map(b"".join),
    st.lists(pdus(), max_size=3).map(lambda parts: GOOD_REQUEST + b"".join(parts)),
)


def test_no_bytes_make_the_acceptor_fail_inside(tmp_path: Path):
    out = tmp_path / "listen"
    session = ListenSession(ListenConfig(statement(), out, timeout=120, validate=False,
                                         limits=Limits(acse_timeout=0.5, idle_timeout=0.5))).start()
    sent = 0
    try:
        @settings(max_examples=30, deadline=None, derandomize=True,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
        @given(STREAMS)
        def one(data: bytes) -> None:
            nonlocal sent
            began = time.monotonic()
            with socket.create_connection(("127.0.0.1", session.port), timeout=5) as sock:
                try:
                    sock.sendall(data)
                    sock.settimeout(3)
                    while sock.recv(65536):         # until the harness closes
                        pass
                except (ConnectionResetError, BrokenPipeError, TimeoutError):
                    pass
            sent += 1
            assert time.monotonic() - began < 3.0

        one()
        deadline = time.monotonic() + 10
        while session.ended_associations < sent and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        results = session.stop("fuzz done")
    ends = [o for s in results.steps if s.id.startswith("listen/association/") for o in s.observations]
    assert len(ends) == sent
    assert not [o for o in ends if "harness error" in str(o.get("end_detail"))], ends
    assert not list((out / "instances").glob(".incoming-*"))
