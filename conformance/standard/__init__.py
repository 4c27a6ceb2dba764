"""Tables of the standard: UIDs (PS3.6 Annex A) and, later, IODs and modules (PS3.3)."""
