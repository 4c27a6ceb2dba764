"""DICOMweb (PS3.18): the device as origin server, checked against its statement.

``client`` (one bounded HTTP exchange as data), ``multipart`` (multipart/related bodies,
PS3.18 8.6.1.2), ``jsonmodel`` (the DICOM JSON Model, PS3.18 F.2), one module of checks per
service (``stow``, ``qido``, ``wado``, ``capabilities``), ``agree`` (web and DIMSE faces of
one device), ``data`` (what the run stores), ``plan`` (the ``dicomweb`` scenario family).
"""
