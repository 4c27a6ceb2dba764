"""Identity rules that span attributes: one UID per real-world entity, one frame per
single-frame IOD.

* PS3.5 9 and 9.1: a UID identifies one thing; different information entities are told apart
  by their UIDs. A Study, a Series, a SOP Instance and a Frame of Reference are different
  entities (PS3.3 A.1.2, C.7.4.1.1.1), so two of them named by the same UID is an error.
  dciodvfy reports the Study/Frame of Reference case the same way.
* PS3.10 7.1: the File Meta Information's UIDs, Implementation Version Name and Source
  Application Entity Title obey their VRs (UI, SH, AE; PS3.5 6.2, 9.1) like any value; the
  element walk covers only the data set.
* PS3.3 A.1.3 and C.7.6.6: Number of Frames (0028,0008) belongs to the Multi-frame Module (or
  to an IOD's own multi-frame image module). An IOD with no module that defines it (e.g.
  Secondary Capture Image, PS3.3 A.8.1) describes a single image; Number of Frames above 1
  there declares Pixel Data the IOD cannot hold, an error. Present with the value 1 it is
  only the warning of :func:`conformance.iod.specialisations.outside_iod`.
"""

from __future__ import annotations

from collections.abc import Callable

from pydicom.dataset import Dataset

from conformance.findings import Severity
from conformance.iod import vr as vrs
from conformance.iod.elements import tag_str, values_of
from conformance.standard.iod_index import IODDef

Add = Callable[..., None]

#: Entity UIDs of the top level: (tag, entity name).
ENTITY_UIDS = ((0x0020000D, "Study"), (0x0020000E, "Series"), (0x00080018, "SOP Instance"),
               (0x00200052, "Frame of Reference"))
NUMBER_OF_FRAMES = 0x00280008


#: File Meta Information elements with string values (PS3.10 Table 7.1-1): (tag, VR).
META_STRINGS = ((0x00020002, "UI"), (0x00020003, "UI"), (0x00020010, "UI"), (0x00020012, "UI"),
                (0x00020013, "SH"), (0x00020016, "AE"), (0x00020017, "AE"), (0x00020018, "AE"))


def file_meta_values(add: Add, meta: Dataset | None) -> None:
    """Each string value of the File Meta Information against its VR's grammar and padding
    (a space, NUL for UI: PS3.5 6.2, 9.1)."""
    if meta is None:
        return
    for tag, vr in META_STRINGS:
        raw = getattr(meta._dict.get(tag), "value", None)  # type: ignore[call-overload]
        if isinstance(raw, bytes) and raw.endswith(b" " if vr == "UI" else b"\x00"):
            if vr == "UI":
                add("vr.invalid-padding", Severity.ERROR, "UI value is padded with a space "
                    "instead of NUL", "PS3.10 7.1 / PS3.5 9.1", tag_str(tag))
            else:
                add("vr.nul-padding", Severity.ERROR, f"{vr} value is padded with NUL instead "
                    "of a space", "PS3.10 7.1 / PS3.5 6.2", tag_str(tag))
        for v in values_of(meta, tag) or ():
            if isinstance(v, str) and v:
                for code, msg in vrs.check_string_value(vr, v.strip(" \x00")):
                    add(code, Severity.ERROR, msg, "PS3.10 7.1 / PS3.5 6.2", tag_str(tag))


def distinct_entity_uids(add: Add, ds: Dataset) -> None:
    """Error when one UID value names two of the entities of :data:`ENTITY_UIDS`."""
    seen: dict[str, tuple[int, str]] = {}
    for tag, entity in ENTITY_UIDS:
        vals = values_of(ds, tag)
        uid = vals[0].strip() if vals and isinstance(vals[0], str) else ""
        if not uid:
            continue
        if uid in seen:
            first_tag, first = seen[uid]
            add("uid.reused-for-another-entity", Severity.ERROR,
                f"{entity} UID {tag_str(tag)} has the same value as the {first} UID "
                f"{tag_str(first_tag)} ({uid}): one UID identifies one entity",
                "PS3.5 9, 9.1; PS3.3 C.7.4.1.1.1", tag_str(tag), details={"uid": uid})
        else:
            seen[uid] = (tag, entity)


def frames_in_single_frame_iod(add: Add, ds: Dataset, iod: IODDef, iod_tags: frozenset[int]) -> bool:
    """Error when Number of Frames > 1 in an IOD none of whose modules defines it; whether
    it was reported (the caller then leaves out the plain "not in the IOD" warning)."""
    if NUMBER_OF_FRAMES in iod_tags or NUMBER_OF_FRAMES not in ds._dict:
        return False
    vals = values_of(ds, NUMBER_OF_FRAMES)
    try:
        frames = int(str(vals[0])) if vals else 0
    except ValueError:
        return False                # the VR check reports a malformed IS
    if frames > 1:
        add("iod.frames-in-single-frame-iod", Severity.ERROR,
            f"Number of Frames (0028,0008) is {frames}, but {iod.name} is a single-frame IOD: no "
            "module of it defines Number of Frames (the Multi-frame Module is not part of it)",
            "PS3.3 A.1.3, C.7.6.6", tag_str(NUMBER_OF_FRAMES), details={"frames": frames})
        return True
    return False
