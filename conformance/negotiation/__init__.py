"""Association establishment and presentation-context negotiation (PS3.7 Annex D, PS3.8 section 9)."""

import logging

# pynetdicom logs every association at WARNING/ERROR; without a handler Python would print
# them on stderr. Findings are our output, not log lines; `--debug` attaches a handler.
logging.getLogger("pynetdicom").addHandler(logging.NullHandler())
