"""DICOM conformance harness.

Machine-readable conformance statements (PS3.2) drive a scenario runner that negotiates
associations with a device under test (PS3.7 Annex D, PS3.8 section 9), exercises its
declared services, validates the IODs it sees (PS3.3) and renders a compatibility report.
"""

__version__ = "0.1.0"
