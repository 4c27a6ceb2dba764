"""The load family: does the device take the declared storage load? (``conformance run -k load``)

The statement's ``load`` section declares N associations open at once, each storing M
synthesized instances with unique UIDs, and targets (throughput, p95 latency of one C-STORE,
error rate).  One step, ``load/c-store``, opens the N associations together on the synchronous
C-STORE path (:mod:`conformance.services.wire`), stores, and reports throughput, latency
percentiles, failures by status, rejected associations (judged against the declared maximum
associations, PS3.8 Table 9-21) and latency over time.

- :mod:`.measure`: percentiles, time buckets, the judgements (pure);
- :mod:`.payload`: synthesized instances, one encoding each, a unique SOP Instance UID each;
- :mod:`.runner`: the associations, one thread each, bounded by count and time;
- :mod:`.plan`: statement → the step; :mod:`.view` + ``templates/load.html.j2``: the report.

Not covered: the device as SCU (it is the one loaded here), TLS, compressed syntaxes the
harness cannot encode (the step says so), and sustained soak tests beyond ``time_limit``.
"""
