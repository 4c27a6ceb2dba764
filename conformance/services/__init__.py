"""DIMSE services of the device as SCP, exercised by the harness as SCU (PS3.4).

One module per service: :mod:`storage` (Annex B), :mod:`query` (Annex C, C-FIND),
:mod:`retrieve` (C-MOVE, C-GET), :mod:`worklist` (Annex K), :mod:`mpps` (Annex F),
:mod:`commitment` (Annex J); :mod:`status` holds the status tables, :mod:`encoding` the
transfer syntax encoders, :mod:`compare` the data integrity check, :mod:`listener` the
harness' own SCP, :mod:`plan` the scenario family.
"""
