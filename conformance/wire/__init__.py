"""The harness's one DICOM network stack, both roles, blocking sockets (PS3.8 section 9, PS3.7).

- :mod:`~conformance.wire.identity`: implementation class UID, version name, maximum length
  (one place);
- :mod:`~conformance.wire.target`: where the device is, and the timeouts;
- :mod:`~conformance.wire.pdu`: the PDU codec, both directions, problems of form as data;
- :mod:`~conformance.wire.dimse`: command sets, messages, data set decoding;
- :mod:`~conformance.wire.contexts`: proposed presentation contexts and their results;
- :mod:`~conformance.wire.outcome`: how an association ended, typed, classified in one place;
- :mod:`~conformance.wire.association`: one association (PDUs, DIMSE reassembly, release,
  abort), the same for both roles;
- :mod:`~conformance.wire.requestor`: opening associations (probes, SCU services);
- :mod:`~conformance.wire.acceptor`: accepting them (``listen``, the C-MOVE destination and
  commitment-report receiver).

pynetdicom is not used on any run path; it remains the independent oracle of the tests and
the source of data set utilities and SOP class tables.
"""
