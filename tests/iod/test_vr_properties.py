"""Property tests for the VR checks (PS3.5 6.2): values generated from each grammar are
accepted; mutated ones are rejected."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.iod import vr as vrs

SETTINGS = settings(max_examples=150, deadline=None)

dates = st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31))
times = st.times()
uid_component = st.one_of(st.just("0"), st.integers(1, 10**12).map(str))
#: Object identifiers (PS3.5 9.1): top arc 0, 1 or 2; under 0 and 1 a second arc of 0-39.
uid_root = st.one_of(st.tuples(st.sampled_from(["0", "1"]), st.integers(0, 39).map(str)),
                     st.tuples(st.just("2"), uid_component)).map(".".join)
uids = st.tuples(uid_root, st.lists(uid_component, max_size=10)).map(
    lambda t: ".".join([t[0], *t[1]])).filter(lambda u: len(u) <= 64)
cs_values = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_ ", max_size=16)
ints = st.integers(-(2**31), 2**31 - 1)
decimals = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(lambda f: f"{f:.6g}"),
    st.decimals(min_value=-10**9, max_value=10**9, places=4, allow_nan=False).map(str))
ages = st.tuples(st.integers(0, 999), st.sampled_from("DWMY")).map(lambda t: f"{t[0]:03d}{t[1]}")


def ok(vr: str, value: str) -> bool:
    return vrs.check_string_value(vr, value) == []


@SETTINGS
@given(dates)
def test_da_accepts_every_calendar_date(d):
    assert ok("DA", d.strftime("%Y%m%d").rjust(8, "0"))


@SETTINGS
@given(dates, st.sampled_from(["13", "00", "99"]))
def test_da_rejects_impossible_months(d, month):
    text = f"{d.year:04d}{month}{d.day:02d}"
    assert not ok("DA", text)


@SETTINGS
@given(dates, st.sampled_from(["-", ".", "/", " "]))
def test_da_rejects_separators(d, sep):
    assert not ok("DA", f"{d.year:04d}{sep}{d.month:02d}{sep}{d.day:02d}")


@SETTINGS
@given(times, st.integers(0, 4))
def test_tm_accepts_every_precision(t, precision):
    text = t.strftime("%H%M%S")[: 2 * max(1, precision)] if precision < 3 else \
        t.strftime("%H%M%S") + ("." + f"{t.microsecond:06d}"[:precision] if precision > 3 else "")
    assert ok("TM", text)


@SETTINGS
@given(times, st.integers(24, 99))
def test_tm_rejects_hours_over_23(t, hour):
    assert not ok("TM", f"{hour:02d}{t.minute:02d}{t.second:02d}")


@SETTINGS
@given(st.datetimes(min_value=dt.datetime(1, 1, 1)), st.integers(-12, 14))
def test_dt_accepts_full_datetime_with_offset(d, off):
    sign = "+" if off >= 0 else "-"
    assert ok("DT", d.strftime("%Y%m%d%H%M%S").rjust(14, "0") + f"{sign}{abs(off):02d}00")


@SETTINGS
@given(uids)
def test_ui_accepts_generated_uids(uid):
    assert ok("UI", uid)


@SETTINGS
@given(uids, st.integers(1, 9))
def test_ui_rejects_leading_zero_component(uid, digit):
    assert not ok("UI", f"{uid}.0{digit}")


@SETTINGS
@given(uids, st.sampled_from(["a", "-", " x", ".."]))
def test_ui_rejects_foreign_characters(uid, junk):
    assert not ok("UI", uid + junk if junk != ".." else uid + "..1")


@SETTINGS
@given(st.integers(3, 10**6), st.lists(st.integers(0, 10**6), max_size=6))
def test_ui_rejects_a_first_arc_other_than_0_1_2(first, rest):
    """PS3.5 9.1: a UID is an ISO/IEC 8824 object identifier; its top arcs are 0, 1, 2
    (dciodvfy: "Illegal root for UID", e.g. pydicom-data's 999.999.2.19941105.112000)."""
    assert not ok("UI", ".".join(map(str, [first, *rest])))


@SETTINGS
@given(st.sampled_from([0, 1]), st.integers(0, 10**6), st.lists(st.integers(0, 99), max_size=4))
def test_ui_second_arc_under_0_and_1_is_at_most_39(first, second, rest):
    assert ok("UI", ".".join(map(str, [first, second, *rest]))) is (second <= 39)


@SETTINGS
@given(cs_values)
def test_cs_accepts_its_alphabet(value):
    assert ok("CS", value)


@SETTINGS
@given(cs_values, st.sampled_from("abcxyz-.:/é"))
def test_cs_rejects_lowercase_and_punctuation(value, ch):
    assert not ok("CS", (value + ch)[-16:] if len(value) >= 16 else value + ch)


@SETTINGS
@given(ints)
def test_is_accepts_32_bit_integers(n):
    assert ok("IS", str(n))


@SETTINGS
@given(st.integers(2**31, 10**11))
def test_is_rejects_out_of_range(n):
    assert not ok("IS", str(n))


@SETTINGS
@given(decimals)
def test_ds_accepts_decimal_strings(text):
    assert ok("DS", text)


@SETTINGS
@given(decimals, st.sampled_from([",", "x", "1.2.3"]))
def test_ds_rejects_mutations(text, junk):
    assert not ok("DS", text[:14] + junk if junk != "1.2.3" else junk)


@SETTINGS
@given(ages)
def test_as_accepts_ages(text):
    assert ok("AS", text)


@SETTINGS
@given(ages)
def test_as_rejects_wrong_unit_or_length(text):
    assert not ok("AS", text[:3] + "Q") and not ok("AS", "0" + text)


@SETTINGS
@given(st.lists(st.text(alphabet="ABCxyz ", max_size=10), min_size=1, max_size=5))
def test_pn_accepts_up_to_five_components(parts):
    assert ok("PN", "^".join(parts))


@SETTINGS
@given(st.lists(st.text(alphabet="ABC", max_size=3), min_size=6, max_size=8))
def test_pn_rejects_more_than_five_components(parts):
    assert not ok("PN", "^".join(parts))


@SETTINGS
@given(st.text(alphabet="abcdefABCDEF012345 ", min_size=0, max_size=64))
def test_lo_accepts_64_characters(text):
    assert ok("LO", text)


@SETTINGS
@given(st.text(alphabet="abc", min_size=65, max_size=200))
def test_lo_rejects_more_than_64(text):
    assert not ok("LO", text)


@SETTINGS
@given(st.sampled_from(["1", "1-n", "2-2n", "3", "1-3"]), st.integers(1, 12))
def test_vm_check_matches_the_vm_grammar(vm, count):
    lo, hi, step = vrs.parse_vm(vm)
    expected = count >= lo and (hi is None or count <= hi) and count % step == 0
    assert (vrs.check_vm(vm, count) is None) == expected
