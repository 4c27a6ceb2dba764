"""AE titles and host names given by a user (command line, pytest options), checked before any
network step so a wrong one is bad input (exit 2) with a clear message, not a crash later.

- AE title: PS3.5 Table 6.2-1, VR AE: at most 16 characters of the Default Character
  Repertoire (PS3.5 6.1.2.1: ISO-IR 6, codes 20H-7EH here) without the backslash (5CH) and
  control characters; leading and trailing spaces are not significant; a value of spaces only
  shall not be used.
- Host: an IPv4 or IPv6 address literal, or a host name of RFC 1123 section 2.1 (RFC 952
  labels: letters, digits, hyphens, not starting or ending with a hyphen; each label at most
  63 characters, the name at most 253; a name whose last label is all digits must be an
  IPv4 address).

Not covered: whether the name resolves (that is the connection's job, with its timeout), and
AE titles inside statements (the statement schema checks those).
"""

from __future__ import annotations

import ipaddress
import re

from conformance.limits import shorten

#: PS3.5 Table 6.2-1: "16 bytes maximum".
AE_TITLE_MAX_LENGTH = 16
#: RFC 1123 2.1 / RFC 1035 2.3.4: labels of at most 63 octets, names of at most 255 octets
#: (253 characters in dotted form without the final dot).
HOST_LABEL_MAX_LENGTH = 63
HOST_NAME_MAX_LENGTH = 253

_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?")


def _quote(value: str) -> str:
    return repr(shorten(value))


def ae_title_problem(value: str) -> str | None:
    """What is wrong with *value* as an AE title (PS3.5 Table 6.2-1), or None when it is one."""
    where = "(PS3.5 Table 6.2-1, VR AE)"
    if len(value) > AE_TITLE_MAX_LENGTH:
        return (f"{_quote(value)} is not an AE title: it has {len(value)} characters, "
                f"at most {AE_TITLE_MAX_LENGTH} are allowed {where}")
    for char in value:
        if char == "\\":
            return f"{_quote(value)} is not an AE title: a backslash is not allowed {where}"
        if not " " <= char <= "~":
            return (f"{_quote(value)} is not an AE title: character {char!r} is not allowed; "
                    f"only letters, digits, spaces and ASCII punctuation other than the backslash "
                    f"{where}")
    if not value.strip(" "):
        return f"{_quote(value)} is not an AE title: it is empty or spaces only {where}"
    return None


def host_problem(value: str) -> str | None:
    """What is wrong with *value* as a host (IP literal or RFC 1123 host name), or None."""
    where = "(RFC 1123 2.1)"
    if not value:
        return "the host is empty: give a host name or an IP address"
    try:
        ipaddress.ip_address(value)
        return None
    except ValueError:
        pass
    if ":" in value or value.startswith("["):
        return (f"{_quote(value)} is not a valid IPv6 address (give it without brackets and "
                "without a port, e.g. ::1)")
    name = value.removesuffix(".")
    if len(name) > HOST_NAME_MAX_LENGTH:
        return (f"{_quote(value)} is not a host name: it has {len(name)} characters, at most "
                f"{HOST_NAME_MAX_LENGTH} are allowed {where}")
    labels = name.split(".")
    for label in labels:
        if len(label) > HOST_LABEL_MAX_LENGTH:
            return (f"{_quote(value)} is not a host name: its label {_quote(label)} has "
                    f"{len(label)} characters, at most {HOST_LABEL_MAX_LENGTH} are allowed {where}")
        if not _LABEL.fullmatch(label):
            what = "an empty label" if not label else f"the label {_quote(label)}"
            return (f"{_quote(value)} is not a host name: {what} is not letters, digits and "
                    f"inner hyphens {where}")
    if labels[-1].isdigit():
        return f"{_quote(value)} is not a valid IPv4 address {where}"
    return None
