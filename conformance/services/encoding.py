"""Encode an instance in a given transfer syntax, for C-STORE (PS3.5 section 10, Annex A).

Who encodes what:

- native and deflated (PS3.5 A.1-A.5): pydicom (pynetdicom writes the data set in the
  negotiated byte order, VR encoding and deflate when it sends it);
- RLE Lossless (A.4.2), JPEG-LS (A.4.3), JPEG 2000 (A.4.4): pydicom's ``Dataset.compress``
  with the plugins of the ``codecs`` extra (pylibjpeg-rle, pyjpegls, pylibjpeg-openjpeg);
- the JPEG family (A.4.1: baseline, extended, lossless, lossless SV1): DCMTK's
  ``/usr/bin/dcmcjpeg`` (no Python encoder exists), called by full path.

Everything else (MPEG, HEVC, HTJ2K, JPIP, JPEG XL, ...) raises :class:`NoEncoder`: the step
is then skipped as "not tested: no encoder", never passed.

An instance without Pixel Data is the same bytes in every encapsulated transfer syntax:
PS3.5 A.4 applies the encapsulation to Pixel Data only; the rest is Explicit VR Little Endian.

Not covered: encoding of multi-fragment frames, Float/Double Float Pixel Data, and any
check that a lossy encoding is visually acceptable.
"""

from __future__ import annotations

import copy
import os
import subprocess
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from pydicom import dcmread, uid
from pydicom.dataset import Dataset

DCMCJPEG = Path("/usr/bin/dcmcjpeg")

#: Transfer syntaxes whose data set is native (not encapsulated) (PS3.5 A.1-A.5).
NATIVE = frozenset({uid.ImplicitVRLittleEndian, uid.ExplicitVRLittleEndian,
                    uid.ExplicitVRBigEndian, uid.DeflatedExplicitVRLittleEndian})

#: JPIP syntaxes (PS3.5 A.6): Pixel Data Provider URL instead of Pixel Data.
JPIP = frozenset({"1.2.840.10008.1.2.4.94", "1.2.840.10008.1.2.4.95", "1.2.840.10008.1.2.4.204",
                  "1.2.840.10008.1.2.4.205"})

#: Lossless encapsulated syntaxes: pixel data must come back bit for bit.
LOSSLESS = frozenset({uid.RLELossless, uid.JPEGLossless, uid.JPEGLosslessSV1,
                      uid.JPEGLSLossless, uid.JPEG2000Lossless, uid.JPEG2000MCLossless,
                      uid.HTJ2KLossless, uid.HTJ2KLosslessRPCL}) | NATIVE

#: pydicom encoders, with the options lossy ones need (PS3.5 A.4.3, A.4.4).
_PYDICOM: dict[str, dict[str, Any]] = {uid.RLELossless: {}, uid.JPEGLSLossless: {},
            uid.JPEGLSNearLossless: {"jls_error": 2},
            uid.JPEG2000Lossless: {}, uid.JPEG2000: {"j2k_cr": [5]}}

#: dcmcjpeg options per JPEG process (DCMTK 3.6.7 ``dcmcjpeg --help``), and the bits the
#: process allows (PS3.5 A.4.1: baseline 8 bits, extended 8 or 12).
_DCMCJPEG = {uid.JPEGBaseline8Bit: ("+eb", 8), uid.JPEGExtended12Bit: ("+ee", 12),
             uid.JPEGLossless: ("+el", 16), uid.JPEGLosslessSV1: ("+e1", 16)}

#: Image size used for instances that are stored: big enough for every encoder
#: (OpenJPEG refuses 4 x 4).
IMAGE_SIZE = 64


class NoEncoder(Exception):
    """No encoder for this transfer syntax (or this kind of pixel data) is available."""


@dataclass(frozen=True)
class Encoded:
    """An instance ready for C-STORE in one transfer syntax.

    ``reference`` is the native dataset the encoded one stands for (same attributes, native
    Pixel Data); after a lossless round trip the device must give back exactly that.
    """

    dataset: Dataset
    reference: Dataset
    transfer_syntax: str
    encoder: str
    lossless: bool


def top_copy(ds: Dataset) -> Dataset:
    """A copy of *ds* with new top-level elements (values, sequences included, shared).

    Everything here changes top-level attributes only, so this is enough to keep the
    cached originals intact, at a fraction of ``copy.deepcopy``'s cost (which dominated a
    full storage run: 30 of 60 s).
    """
    out = Dataset()
    for elem in ds:
        out.add(copy.copy(elem))
    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        out.file_meta = type(meta)()
        for elem in meta:
            out.file_meta.add(copy.copy(elem))
    return out


#: Bytes per word of the "other" VRs whose values pydicom reads and writes as raw bytes: in
#: Big Endian each word is stored most significant byte first (PS3.5 7.3). Pixel Data is
#: handled apart (its word size follows Bits Allocated).
_WORD = {"OW": 2, "US or OW": 2, "OF": 4, "OL": 4, "OD": 8, "OV": 8}


def swap_other_words(ds: Dataset) -> Dataset:
    """*ds* with the byte order of every OW/OF/OL/OD/OV value other than Pixel Data
    reversed word by word, through sequences; *ds* itself is left alone (a copy is made only
    when there is something to swap). pydicom writes and reads these values as the bytes
    given, so a Little Endian value must be swapped for a Big Endian data set, and one read
    from Big Endian swapped back before comparing (PS3.5 7.3)."""
    if not _has_other_words(ds):
        return ds
    out = copy.deepcopy(ds)
    _swap_in_place(out)
    return out


def _has_other_words(ds: Dataset) -> bool:
    for elem in ds:
        if elem.VR == "SQ":
            if any(_has_other_words(item) for item in elem.value):
                return True
        elif elem.tag != 0x7FE00010 and elem.VR in _WORD and isinstance(elem.value, bytes) and elem.value:
            return True
    return False


def _swap_in_place(ds: Dataset) -> None:
    import numpy as np

    for elem in ds:
        if elem.VR == "SQ":
            for item in elem.value:
                _swap_in_place(item)
        elif elem.tag != 0x7FE00010 and elem.VR in _WORD and isinstance(elem.value, bytes) and elem.value:
            size = _WORD[elem.VR]
            value = elem.value
            whole = len(value) - len(value) % size
            words = np.frombuffer(value[:whole], dtype=f"<u{size}")
            elem.value = words.byteswap().tobytes() + value[whole:]


def has_pixels(ds: Dataset) -> bool:
    return "PixelData" in ds


def with_pattern(ds: Dataset, size: int = IMAGE_SIZE, bits: int | None = None) -> Dataset:
    """A copy of *ds* with *size* x *size* Pixel Data holding a deterministic gradient
    (so that compression has something to do), optionally reduced to *bits* bits."""
    out = top_copy(ds)
    if not has_pixels(out):
        return out
    import numpy as np

    if bits is not None and int(out.get("BitsStored", 8)) > bits:
        out.BitsAllocated = 8 if bits <= 8 else 16
        out.BitsStored, out.HighBit = bits, bits - 1
    out.Rows = out.Columns = size
    spp = int(out.get("SamplesPerPixel", 1) or 1)
    frames = int(out.get("NumberOfFrames", 1) or 1)
    bits_alloc = int(out.get("BitsAllocated", 16) or 16)
    stored = int(out.get("BitsStored", bits_alloc) or bits_alloc)
    if bits_alloc == 1:
        nbytes = (size * size * spp * frames + 7) // 8
        out.PixelData = bytes((i * 37) & 0xFF for i in range(nbytes + (nbytes & 1)))
        return out
    dtype = {8: np.uint8, 16: np.uint16, 32: np.uint32}.get(bits_alloc, np.uint16)
    y, x = np.mgrid[0:size, 0:size]
    top = (1 << min(stored, 12)) - 1 if int(out.get("PixelRepresentation", 0)) == 0 \
        else (1 << (min(stored, 12) - 1)) - 1
    plane = ((x * 7 + y * 13) % (top + 1)).astype(dtype)
    arr = np.stack([plane] * spp, axis=-1) if spp > 1 else plane
    arr = np.stack([arr] * frames) if frames > 1 else arr
    if spp > 1 and int(out.get("PlanarConfiguration", 0) or 0) == 1:
        arr = np.moveaxis(arr, -1, -3)
    raw = arr.astype(dtype).tobytes()
    out.PixelData = raw + (b"\x00" if len(raw) % 2 else b"")
    out["PixelData"].VR = "OB" if bits_alloc <= 8 else "OW"
    return out


@cache
def python_encoder_available(transfer_syntax: str) -> bool:
    """True if pydicom has a working encoder plugin for *transfer_syntax*."""
    try:
        from pydicom.pixels import get_encoder

        return bool(get_encoder(transfer_syntax).is_available)
    except Exception:  # noqa: BLE001 - no encoder, or numpy missing
        return False


def encoder_for(transfer_syntax: str) -> str | None:
    """Name of the encoder the harness would use for *transfer_syntax*, or ``None``."""
    ts = uid.UID(transfer_syntax)
    if ts in NATIVE:
        return "pydicom"
    if ts in _PYDICOM and python_encoder_available(ts):
        return "pydicom+" + ("pylibjpeg-rle" if ts == uid.RLELossless else
                             "pyjpegls" if "JPEG-LS" in ts.name else "pylibjpeg-openjpeg")
    if ts in _DCMCJPEG and DCMCJPEG.is_file():
        return "dcmtk:dcmcjpeg"
    return None


def _set_ts(ds: Dataset, ts: str) -> Dataset:
    ds.file_meta.TransferSyntaxUID = uid.UID(ts)
    return ds


def _dcmcjpeg(ds: Dataset, ts: str, timeout: float = 30.0) -> Dataset:
    option, _bits = _DCMCJPEG[uid.UID(ts)]
    with tempfile.TemporaryDirectory(prefix="conformance-enc-") as tmp:
        src, dst = os.path.join(tmp, "in.dcm"), os.path.join(tmp, "out.dcm")
        native = top_copy(ds)
        _set_ts(native, uid.ExplicitVRLittleEndian)
        native.save_as(src, enforce_file_format=True)
        proc = subprocess.run([str(DCMCJPEG), option, "+un", src, dst], capture_output=True,
                              timeout=timeout, check=False)
        if proc.returncode != 0 or not os.path.exists(dst):
            raise NoEncoder(f"dcmcjpeg {option} failed: "
                            f"{(proc.stderr or proc.stdout).decode(errors='replace').strip()[:200]}")
        out = dcmread(dst)
        out.PixelData  # noqa: B018 - read it now, the file goes away
        return out


def encode(ds: Dataset, transfer_syntax: str) -> Encoded:
    """*ds* (native, as synthesized) encoded in *transfer_syntax*.

    Raises
    ------
    NoEncoder
        If no encoder is available for the syntax, or it refuses this image.
    """
    ts = uid.UID(transfer_syntax)
    encoder = encoder_for(ts)
    lossless = ts in LOSSLESS
    if ts in JPIP:
        raise NoEncoder(f"{ts.name} references pixel data on a JPIP server (PS3.5 A.6); "
                        "the harness runs none")
    if ts in NATIVE or (not has_pixels(ds) and ts.is_encapsulated):
        ref = with_pattern(ds)
        out = _set_ts(top_copy(ref), ts)
        if ts == uid.ExplicitVRBigEndian and has_pixels(out) and int(out.get("BitsAllocated", 8)) > 8:
            # pydicom writes OW bytes as given: swap the words for big endian (PS3.5 7.3).
            import numpy as np
            width = {16: ">u2", 32: ">u4"}[int(out.BitsAllocated)]
            little = np.frombuffer(out.PixelData, dtype=width.replace(">", "<"))
            out.PixelData = little.astype(width).tobytes()
        if ts == uid.ExplicitVRBigEndian:
            out = swap_other_words(out)
        return Encoded(out, ref, ts, "pydicom" if ts in NATIVE else "none (no pixel data)", True)
    if encoder is None:
        raise NoEncoder(f"no encoder for {ts.name}")
    bits = _DCMCJPEG[ts][1] if ts in _DCMCJPEG else None
    ref = with_pattern(ds, bits=bits)
    try:
        if ts in _DCMCJPEG:
            out = _dcmcjpeg(ref, ts)
        else:
            out = top_copy(ref)
            out.compress(ts, generate_instance_uid=False, **_PYDICOM[ts])
    except NoEncoder:
        raise
    except Exception as exc:  # noqa: BLE001 - an encoder refusing this kind of image
        raise NoEncoder(f"{encoder} could not encode this image in {ts.name}: "
                        f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}") from None
    _set_ts(out, ts)
    # The encoder may set attributes (Lossy Image Compression, Image Type DERIVED, ...,
    # PS3.3 C.7.6.1.1.5): the reference is the encoded instance with native pixels.
    reference = top_copy(out)
    reference.PixelData = ref.PixelData
    reference["PixelData"].VR = ref["PixelData"].VR
    _set_ts(reference, uid.ExplicitVRLittleEndian)
    return Encoded(out, reference, ts, encoder, lossless)
