"""The harness as SCP for a device in its SCU role (``conformance listen``).

The device calls the harness; the harness plays the SCPs its SCU declarations need
(storage, Q/R find/move/get over what it received, Modality Worklist, MPPS, storage
commitment), checks every association request and message against the statement and the
standard, validates every received instance, and records it all as steps of one
event-driven run (:mod:`conformance.engine.live`), reported like any other run.

Modules: ``pdu`` and ``dimse`` (synchronous upper layer, acceptor side), ``negotiate``
(answer and checks of an A-ASSOCIATE-RQ, pure), ``server`` (acceptor, one thread per
association, bounds), ``store`` (received files, safe names), one module per service
(``storage``, ``query``, ``worklist``, ``mpps``, ``commitment``), ``requestor`` (the harness
opening associations: C-MOVE sub-operations, commitment reports), ``misbehaviour``,
``session`` (steps and events).
"""

from conformance.listen.session import ListenConfig, ListenSession

__all__ = ["ListenConfig", "ListenSession"]
