"""Association establishment and presentation-context negotiation (PS3.7 Annex D, PS3.8 section 9)."""
