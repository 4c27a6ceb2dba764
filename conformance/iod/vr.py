"""Value representation checks, PS3.5 6.2 (Table 6.2-1) and VM, PS3.5 6.4.

Pure functions over the *encoded* value: a string VR is checked on its bytes as stored (after
splitting on the backslash for multi-valued VRs), a binary VR on its length.  Each function
returns a list of ``(code, message)`` problems; the caller turns them into findings.

Not covered: the content of OB/OW/UN values, the AT value pointing to an existing tag, the
full RFC 3986 grammar of UR (only its character set and the no-leading/trailing-space rule).
"""

from __future__ import annotations

import calendar
import re
from functools import cache

Problem = tuple[str, str]

#: Maximum length in characters (bytes for ASCII-only VRs), PS3.5 Table 6.2-1.
MAX_LEN = {"AE": 16, "AS": 4, "CS": 16, "DA": 8, "DS": 16, "DT": 26, "IS": 12, "LO": 64,
           "LT": 10240, "SH": 16, "ST": 1024, "TM": 14, "UI": 64, "UC": None, "UR": None,
           "UT": None, "PN": None}
#: Fixed item size of binary VRs (the VM is the value length divided by it).
BINARY_SIZE = {"US": 2, "SS": 2, "UL": 4, "SL": 4, "FL": 4, "FD": 8, "AT": 4, "SV": 8, "UV": 8}
#: Binary "other" VRs: VM is always 1, length a multiple of the word size.
OTHER_SIZE = {"OB": 1, "OW": 2, "OF": 4, "OD": 8, "OL": 4, "OV": 8, "UN": 1}
#: VRs whose value is one text (backslash is an ordinary character), PS3.5 6.2.
SINGLE_TEXT = {"LT", "ST", "UT", "UR"}
#: VRs affected by Specific Character Set (0008,0005), PS3.5 6.1.2.3.
TEXT_VRS = {"SH", "LO", "ST", "LT", "PN", "UC", "UT"}
STRING_VRS = set(MAX_LEN)

_DA = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_TM = re.compile(r"^(\d{2})(?:(\d{2})(?:(\d{2})(?:\.(\d{1,6}))?)?)?$")
_DT = re.compile(r"^(\d{4})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:\.(\d{1,6}))?)?)?)?)?)?"
                 r"([+-]\d{4})?$")
_AS = re.compile(r"^\d{3}[DWMY]$")
_CS = re.compile(r"^[A-Z0-9_ ]*$")
_DS = re.compile(r"^ *[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)? *$")
_IS = re.compile(r"^ *[+-]?\d+ *$")
_UI = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$")
_UR = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]")  # ESC, LF, FF, CR allowed in text
_CONTROL_SHORT = re.compile(r"[\x00-\x1a\x1c-\x1f\x7f]")  # short strings: only ESC allowed


def _date_ok(y: str, m: str, d: str) -> bool:
    yi, mi, di = int(y), int(m), int(d)
    return 1 <= mi <= 12 and 1 <= di <= calendar.monthrange(max(yi, 1), mi)[1]


def _object_identifier(uid: str) -> bool:
    """The top arcs of an object identifier (ITU-T X.660 / ISO/IEC 9834-1): 0, 1 or 2; under
    0 and 1 at most 40 arcs (0-39). *uid* already matches the UID grammar."""
    arcs = uid.split(".", 2)
    if arcs[0] not in ("0", "1", "2"):
        return False
    return arcs[0] == "2" or len(arcs) < 2 or int(arcs[1]) <= 39


def check_string_value(vr: str, value: str) -> list[Problem]:
    """Check one value (already split on backslash, padding removed) against its VR grammar.

    *value* is the bytes decoded as Latin-1 (so every byte maps to one character); the caller
    checks the decodability under the declared character set separately.
    """
    out: list[Problem] = []
    limit = MAX_LEN.get(vr)
    if vr == "PN":
        groups = value.split("=")
        if len(groups) > 3:
            out.append(("vr.pn-groups", f"PN value has {len(groups)} component groups (max 3)"))
        for g in groups:
            if len(g) > 64:
                out.append(("vr.too-long", f"PN component group is {len(g)} characters (max 64)"))
            if g.count("^") > 4:
                out.append(("vr.pn-components",
                            f"PN component group has {g.count('^') + 1} components (max 5)"))
        if _CONTROL_SHORT.search(value):
            out.append(("vr.invalid-character", "PN value contains a control character"))
        return out
    if limit is not None and len(value) > limit:
        out.append(("vr.too-long", f"{vr} value is {len(value)} characters (max {limit})"))
    if vr == "DA":
        m = _DA.match(value)
        if not m or not _date_ok(*m.groups()):
            out.append(("vr.invalid-format", f"DA value {value!r} is not a valid date YYYYMMDD"))
    elif vr == "TM":
        m = _TM.match(value.rstrip(" "))
        if not m or int(m.group(1)) > 23 or (m.group(2) and int(m.group(2)) > 59) or \
                (m.group(3) and int(m.group(3)) > 60):
            out.append(("vr.invalid-format", f"TM value {value!r} is not HH[MM[SS[.FFFFFF]]]"))
    elif vr == "DT":
        m = _DT.match(value.rstrip(" "))
        ok = bool(m)
        if m:
            y, mo, d, h, mi, s = m.group(1, 2, 3, 4, 5, 6)
            ok = (not mo or 1 <= int(mo) <= 12) and (not d or _date_ok(y, mo, d)) and \
                (not h or int(h) <= 23) and (not mi or int(mi) <= 59) and (not s or int(s) <= 60)
            if m.group(8):
                off = int(m.group(8)[1:3]), int(m.group(8)[3:5])
                ok = ok and off[0] <= 14 and off[1] <= 59
        if not ok:
            out.append(("vr.invalid-format", f"DT value {value!r} is not a valid date-time"))
    elif vr == "AS":
        if not _AS.match(value):
            out.append(("vr.invalid-format", f"AS value {value!r} is not nnnD/W/M/Y"))
    elif vr == "CS":
        if not _CS.match(value):
            out.append(("vr.invalid-character",
                        f"CS value {value!r} has characters other than A-Z 0-9 space _"))
    elif vr == "DS":
        if not _DS.match(value):
            out.append(("vr.invalid-format", f"DS value {value!r} is not a decimal string"))
    elif vr == "IS":
        if not _IS.match(value):
            out.append(("vr.invalid-format", f"IS value {value!r} is not an integer string"))
        elif not -(2**31) <= int(value) <= 2**31 - 1:
            out.append(("vr.out-of-range", f"IS value {value!r} is outside the 32-bit range"))
    elif vr == "UI":
        if not _UI.match(value):
            out.append(("vr.invalid-uid",
                        f"UI value {value!r} is not digits and dots without leading zeros"))
        elif not _object_identifier(value):
            out.append(("vr.invalid-uid",
                        f"UI value {value!r} is not an object identifier: its first component "
                        "must be 0, 1 or 2, and the second at most 39 under 0 or 1 (PS3.5 9.1: "
                        "UIDs are ISO/IEC 8824 object identifiers; ITU-T X.660)"))
    elif vr == "UR":
        if value != value.strip(" ") or not _UR.match(value):
            out.append(("vr.invalid-format", f"UR value {value[:40]!r} is not a valid URI"))
    elif vr == "AE":
        if "\\" in value or _CONTROL_SHORT.search(value):
            out.append(("vr.invalid-character", f"AE value {value!r} has control characters"))
    elif vr in ("LO", "SH", "UC"):
        if _CONTROL_SHORT.search(value):
            out.append(("vr.invalid-character", f"{vr} value contains a control character"))
    elif vr in ("ST", "LT", "UT"):
        if _CONTROL.search(value):
            out.append(("vr.invalid-character", f"{vr} value contains a control character"))
    return out


def split_values(vr: str, raw: bytes) -> list[str]:
    """Split an encoded string value into its values, removing padding (PS3.5 6.2, 6.4)."""
    text = raw.decode("latin-1")
    if vr == "UI":
        text = text.rstrip("\x00 ")
    elif vr in ("UT", "ST", "LT", "UR"):
        text = text.rstrip(" \x00")
    else:
        text = text.rstrip(" \x00")
    if not text:
        return []
    if vr in SINGLE_TEXT:
        return [text]
    parts = text.split("\\")
    if vr in ("LO", "SH", "CS", "AE", "PN", "UC", "DS", "IS", "TM", "DT"):
        parts = [p.strip(" ") if vr in ("LO", "SH", "CS", "AE", "DS", "IS") else p.rstrip(" ")
                 for p in parts]
    return parts


@cache
def parse_vm(vm: str) -> tuple[int, int | None, int]:
    """``"1"`` -> (1, 1, 1); ``"1-n"`` -> (1, None, 1); ``"2-2n"`` -> (2, None, 2)."""
    if "-" not in vm:
        n = int(vm) if vm.isdigit() else 1
        return n, n, 1
    lo, hi = vm.split("-", 1)
    lo_i = int(lo) if lo.isdigit() else 1
    if hi.endswith("n"):
        step = int(hi[:-1]) if hi[:-1].isdigit() else 1
        return lo_i, None, step
    return lo_i, int(hi) if hi.isdigit() else None, 1


def check_vm(vm: str, count: int) -> Problem | None:
    """Check the number of values *count* (> 0) against the dictionary VM string."""
    if count == 0 or not vm:
        return None
    lo, hi, step = parse_vm(vm)
    if count < lo or (hi is not None and count > hi) or (step > 1 and count % step):
        return ("vr.vm", f"{count} value(s) where the dictionary allows VM {vm}")
    return None


def check_binary_length(vr: str, length: int) -> Problem | None:
    """Binary VRs: the length must be a multiple of the item size (PS3.5 6.2)."""
    size = BINARY_SIZE.get(vr) or OTHER_SIZE.get(vr)
    if size and length % size:
        return ("vr.bad-length", f"{vr} value length {length} is not a multiple of {size}")
    return None
