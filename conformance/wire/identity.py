"""The harness's identity on the wire, from this one place (PS3.7 D.3.3.2, PS3.8 D.1, D.3.3.2).

Every association the harness requests or accepts, and every file it writes, shows a device the
same Implementation Class UID, Implementation Version Name and Maximum Length Received.
"""

from __future__ import annotations

#: DICOM Application Context Name (PS3.7 A.2.1).
APPLICATION_CONTEXT = "1.2.840.10008.3.1.1.1"
#: Implementation Class UID (PS3.7 D.3.3.2), under the project's UID root.
IMPLEMENTATION_CLASS_UID = "1.2.826.0.1.3680043.10.1375.2"
#: Implementation Version Name (PS3.7 D.3.3.2: 1-16 characters of the SH repertoire).
IMPLEMENTATION_VERSION = "CONFORMANCE_WIRE"
#: Maximum Length Received the harness announces, in both roles (PS3.8 D.1).
MAX_PDU_RECEIVE = 262144
