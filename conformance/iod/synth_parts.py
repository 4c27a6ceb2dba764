"""Parts of a synthesized instance that follow from others (used by :mod:`synth`).

Each function completes one structure the attribute tables alone do not describe well enough
for a valid instance: the functional groups of an enhanced multi-frame IOD, the dimension
index, lookup tables whose descriptor fixes the data length, waveform data whose VR follows
the bits allocated.
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from pydicom.datadict import tag_for_keyword
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

SHARED, PER_FRAME = 0x52009229, 0x52009230
FRAME_CONTENT = 0x00209111


def by_keyword(values: dict[str, Any]) -> dict[int, Any]:
    """The same mapping keyed by tag (a misspelt keyword is a ``KeyError`` at import)."""
    out = {}
    for kw, v in values.items():
        tag = tag_for_keyword(kw)
        if tag is None:
            raise KeyError(kw)
        out[tag] = v
    return out


#: Optional (usage C or U) functional group macros left out of a synthesized instance: their
#: conditions (a referenced image, a synchronised acquisition) do not hold for it (PS3.3
#: A.x.y "Functional Group Macros" tables of the enhanced IODs).
FG_LEFT_OUT = frozenset(by_keyword({k: 0 for k in (
    "ReferencedImageSequence", "CardiacSynchronizationSequence",
    "RespiratorySynchronizationSequence")}))
#: Macros that are only ever per-frame (PS3.3 C.7.6.16.2.2 Frame Content).
PER_FRAME_ONLY = (FRAME_CONTENT,)


def functional_groups(ds: Dataset, left_out: frozenset[int] = frozenset(),
                      per_frame: frozenset[int] = frozenset()) -> None:
    """Shared and Per-frame Functional Groups (PS3.3 C.7.6.16.1): the optional macros whose
    conditions do not hold are left out, and the Frame Content macro (per-frame only,
    C.7.6.16.2.2) moves to one Per-frame Functional Groups Sequence Item per frame."""
    if SHARED not in ds or not ds[SHARED].value or PER_FRAME in ds:
        return
    shared = ds[SHARED].value[0]
    for tag in FG_LEFT_OUT | left_out:
        if tag in shared:
            del shared[tag]
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    items = []
    for _ in range(frames):
        item = Dataset()
        for tag in sorted(per_frame | set(PER_FRAME_ONLY)):
            if tag in shared:
                item[tag] = deepcopy(shared[tag])
        items.append(item)
    for tag in per_frame | set(PER_FRAME_ONLY):
        if tag in shared:
            del shared[tag]
    if any(len(i) for i in items):
        ds.add_new(PER_FRAME, "SQ", Sequence(items))


def dimension_index(ds: Dataset, uid: str, temporal: bool = False) -> None:
    """One dimension, the In-Stack Position Number of the Frame Content macro (PS3.3 C.7.6.17,
    C.7.6.16.2.2.4): Dimension Organization and Dimension Index Sequences with the same
    Dimension Organization UID; each frame's Frame Content gives Stack ID, position and index
    value.  Only for an instance with per-frame functional groups."""
    if PER_FRAME not in ds:
        return
    if not ds.get("DimensionOrganizationSequence"):
        org = Dataset()
        org.DimensionOrganizationUID = uid
        ds.DimensionOrganizationSequence = [org]
    uid = ds.DimensionOrganizationSequence[0].get("DimensionOrganizationUID") or uid
    if not ds.get("DimensionIndexSequence"):
        ds.DimensionIndexSequence = [Dataset()]
    # (an Item the completion added for the 1C condition has only its type 1 attributes)
    index = ds.DimensionIndexSequence[0]
    index.DimensionOrganizationUID = uid
    index.DimensionIndexPointer = 0x00209057
    index.FunctionalGroupPointer = FRAME_CONTENT
    for n, frame in enumerate(ds.get("PerFrameFunctionalGroupsSequence") or [], 1):
        for content in frame.get("FrameContentSequence") or []:
            content.StackID = "1"
            content.InStackPositionNumber = n
            content.DimensionIndexValues = [n]
            if temporal:  # required for Enhanced PET (PS3.3 C.7.6.16.2.2)
                content.TemporalPositionIndex = 1


#: LUT / palette descriptor -> its data: LUT Descriptor / Data (0028,3002)/(0028,3006), Red,
#: Green, Blue Palette Color Lookup Table Descriptor / Data (PS3.3 C.7.6.3.1.5, C.11.1.1).
_LUT_DATA = {0x00283002: 0x00283006, 0x00281101: 0x00281201, 0x00281102: 0x00281202,
             0x00281103: 0x00281203}
LUT_ENTRIES = 4


def lookup_tables(item: Dataset, palette_bits_8: bool = False) -> None:
    """Every LUT / palette descriptor: 4 entries from 0, 16 bits each (the third value is 8 or
    16, PS3.3 C.7.6.3.1.5, C.11.1.1.1; palettes of 8 bits where the IOD says so, C.7.9), and
    its data: exactly that many 16-bit words, a ramp over the full range."""
    for elem in list(item):
        if elem.VR == "SQ":
            for sub in elem.value or []:
                lookup_tables(sub, palette_bits_8)
    for desc, data in _LUT_DATA.items():
        if desc not in item:
            continue
        bits = 8 if palette_bits_8 and desc != 0x00283002 else 16
        item[desc].value = [LUT_ENTRIES, 0, bits]
        top = (1 << bits) - 1
        words = [top * i // (LUT_ENTRIES - 1) for i in range(LUT_ENTRIES)]  # a full ramp
        if data in item:
            del item[data]
        if bits == 8:  # 8-bit entries are packed two to a 16-bit word (C.7.6.3.1.6)
            raw = bytes(words) + b"\x00" * (LUT_ENTRIES & 1)
        else:
            raw = b"".join(w.to_bytes(2, "little") for w in words)
        item.add_new(data, "OW", raw)


def waveform_data(ds: Dataset) -> None:
    """Waveform Data (5400,1010) of each multiplex group: as many samples as channels x
    samples, OW when Waveform Bits Allocated is 16 (PS3.5 8.3, A.1; PS3.3 C.10.9.1)."""
    for group in ds.get("WaveformSequence") or []:
        bits = int(group.get("WaveformBitsAllocated", 16) or 16)
        channels = int(group.get("NumberOfWaveformChannels", 1) or 1)
        samples = int(group.get("NumberOfWaveformSamples", 1) or 1)
        n = channels * samples * bits // 8
        group.add_new(0x54001010, "OW" if bits > 8 else "OB", b"\x00" * (n + (n & 1)))


def two_items(ds: Dataset, tags: dict[int, Any]) -> None:
    """Sequences (at any depth) that need two items: the one item is repeated."""
    for elem in list(ds):
        if elem.VR != "SQ":
            continue
        for sub in elem.value or []:
            two_items(sub, tags)
        if elem.tag in tags and len(elem.value or []) == 1:
            elem.value.append(deepcopy(elem.value[0]))


def directory(ds: Dataset) -> None:
    """A DICOMDIR (Basic Directory IOD, PS3.3 F.3; PS3.10 7.2) without records: the Directory
    Information Module with zero offsets and an empty record sequence.  Its SOP Class and
    Instance UIDs are in the File Meta Information only (PS3.10 7.1)."""
    for kw in ("SOPClassUID", "SOPInstanceUID", "SpecificCharacterSet"):
        if kw in ds:
            delattr(ds, kw)
    ds.OffsetOfTheFirstDirectoryRecordOfTheRootDirectoryEntity = 0
    ds.OffsetOfTheLastDirectoryRecordOfTheRootDirectoryEntity = 0
    ds.FileSetConsistencyFlag = 0
    ds.DirectoryRecordSequence = []


WSI = "1.2.840.10008.5.1.4.1.1.77.1.6"
CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"


def references(kind: str, ds: Dataset, sop_class: str) -> list[Dataset]:
    """Reference sequences to other (synthetic) instances, with deterministic UIDs: an image
    reference to a CT image or a whole slide image; the Common Instance Reference Module's series in this
    study and studies with other referenced instances (PS3.3 C.12.2); or one asymmetric jaw
    pair of a treated beam (RT Beams Session Record)."""
    from pydicom.uid import generate_uid

    def uid(what: str) -> str:
        return generate_uid(entropy_srcs=[sop_class, "reference", what])

    if kind == "leaf-pairs":
        pair = Dataset()
        pair.RTBeamLimitingDeviceType = "ASYMX"
        pair.NumberOfLeafJawPairs = 1
        return [pair]
    instance = Dataset()
    instance.ReferencedSOPClassUID = CT_IMAGE if kind == "image-reference" else WSI
    instance.ReferencedSOPInstanceUID = uid("instance")
    if kind in ("wsi-reference", "image-reference"):
        return [instance]
    series = Dataset()
    series.SeriesInstanceUID = uid("series")
    series.ReferencedInstanceSequence = [instance]
    if kind == "series-reference":
        return [series]
    study = Dataset()
    study.StudyInstanceUID = uid("study")
    other = deepcopy(series)
    other.SeriesInstanceUID = uid("other-series")
    other.ReferencedInstanceSequence[0].ReferencedSOPInstanceUID = uid("other-instance")
    study.ReferencedSeriesSequence = [other]
    return [study]
