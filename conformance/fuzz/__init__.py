"""``conformance fuzz``: robustness of the device under test (issue 16, item 4).

Malformed input built by hypothesis strategies from the wire stack's encoders
(:mod:`conformance.wire.pdu`, :mod:`conformance.wire.dimse`, used read-only), sent on raw
sockets, a liveness check (fresh association + C-ECHO) after every case, failing cases shrunk
by hypothesis and saved as the exact bytes sent with a JSON sidecar, replayable.

Modules, one job each: :mod:`.case` (a case and its files), :mod:`.profile` (AE titles, declared
Storage SOP classes, the set-up A-ASSOCIATE-RQ), :mod:`.send` (one case on a raw
socket, the device's reaction), :mod:`.liveness` (is the device back, how long it took),
:mod:`.judge` (findings from a case, its reaction and liveness; pure), the strategies
(:mod:`.assoc_cases`, :mod:`.pdata_cases`, :mod:`.command_cases`, :mod:`.dataset_cases`),
:mod:`.campaign` (hypothesis driven within the bounds), :mod:`.steps` (engine steps, so the
results land in the normal run report) and :mod:`.replay`.
"""
