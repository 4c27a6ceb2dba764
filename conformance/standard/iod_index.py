"""The shipped, edition-pinned index of PS3.3 IODs, modules and attributes.

Built by ``bin/build_standard_index.py`` (sources and edition are recorded in the data's
``about`` block) and loaded lazily, once per process, on first use.  VR and VM are not in the
index: they come from pydicom's data dictionary (PS3.6), see :func:`dictionary_entry`.

What the index does not cover (honestly): overlay and curve repeating groups (60xx, 50xx)
are dropped; conditions exist as text only where the 2020a tables had them, and only a part
of them parse into expressions (see ``about.stats``); enumerated values / defined terms only
where the attribute table itself lists them (not those given in a separate section).
"""

from __future__ import annotations

import gzip
import json
import os
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

DEFAULT_INDEX = Path(__file__).parent / "data" / "iod_index.json.gz"
#: Environment variable naming another index file (e.g. one built by
#: ``conformance standard update``); the shipped one is the default.
INDEX_ENV = "CONFORMANCE_IOD_INDEX"


@dataclass(frozen=True)
class Condition:
    """A condition of PS3.3 (usage C module or type 1C/2C attribute)."""

    id: int
    text: str
    expr: list | None  # None: not parseable -> "not verifiable"

    @property
    def may_be_present_otherwise(self) -> bool:
        """PS3.5 7.4.4: unless the standard says so, a 1C/2C attribute whose condition is
        false shall not be present."""
        return "may be present otherwise" in self.text.lower()


@dataclass(frozen=True)
class AttributeRule:
    """One row of a module table (PS3.3 5.4): attribute, type, condition, terms, children."""

    tag: int
    type: str
    condition: Condition | None
    enumerated: tuple[str, ...] | None
    defined: tuple[str, ...] | None
    children: tuple[AttributeRule, ...]
    #: (min, max or None) Items of a sequence, where the module table states it.
    items: tuple[int, int | None] | None = None

    @property
    def has_children(self) -> bool:
        """The row is a sequence with rows of its own (without building them)."""
        return bool(self.children)


class _LazyRule(AttributeRule):
    """An :class:`AttributeRule` of the index whose ``children`` are built from the raw index
    on first access.  Nearly all rows of the module tables are nested in sequences (96% of
    them), and a sequence absent from a file never needs its rows: a worker process builds
    only those it meets.  Equal, hashable and printed as the plain rule; pickles as one."""

    __qualname__ = "AttributeRule"

    @property  # type: ignore[override]
    def children(self) -> tuple[AttributeRule, ...]:
        d = self.__dict__
        kids = d["_children"]
        if kids is None:  # two threads may both build them: equal tuples, either one kept
            kids = d["_children"] = d["_index"]._rows(d["_raw"])
        return kids  # type: ignore[no-any-return]

    @children.setter
    def children(self, value: tuple[AttributeRule, ...] | None) -> None:
        self.__dict__["_children"] = value  # the dataclass __init__ (via object.__setattr__)

    @property
    def has_children(self) -> bool:
        """True: only rows with nested rows (or a reference to them) are lazy
        (:meth:`StandardIndex._node`)."""
        return True

    def __reduce__(self) -> tuple[Any, ...]:
        return AttributeRule, self._fields()

    def _fields(self) -> tuple[Any, ...]:
        from dataclasses import fields
        return tuple(getattr(self, f.name) for f in fields(AttributeRule))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _LazyRule):
            return self._fields() == other._fields()
        if isinstance(other, AttributeRule):  # equal to the plain rule of the same row
            return self._fields() == _LazyRule._fields(other)  # type: ignore[arg-type]
        return NotImplemented

    __hash__ = AttributeRule.__hash__


@dataclass(frozen=True)
class ModuleDef:
    key: str
    name: str
    reference: str
    attributes: tuple[AttributeRule, ...]


@dataclass(frozen=True)
class ModuleUse:
    """A module as used by one IOD (PS3.3 A.1.3): usage M, C or U."""

    module: ModuleDef
    usage: str
    condition: Condition | None


@dataclass(frozen=True)
class IODDef:
    key: str
    name: str
    reference: str
    modules: tuple[ModuleUse, ...]
    #: Top-level tags of the mandatory modules (used to tell optional modules apart).
    mandatory_tags: frozenset[int] = field(default_factory=frozenset)


class StandardIndex:
    """Lazy view over the raw index: IOD and module definitions are built on first use."""

    def __init__(self, raw: dict[str, Any], path: Path) -> None:
        self.path = path
        self.about: dict[str, Any] = raw["about"]
        self.sop_classes: dict[str, str] = raw["sop_classes"]
        self._raw_iods = raw["iods"]
        self._raw_modules = raw["modules"]
        #: The rows of each sequence, as JSON text (see write_index); parsed and built once
        #: per process when a file first holds the sequence.
        self._raw_sequences: list[str] = raw.get("sequences", [])
        self._sequences: dict[int, tuple[AttributeRule, ...]] = {}
        self._terms = [tuple(t) for t in raw["terms"]]
        self._conditions = [Condition(i, c["text"], c["expr"])
                            for i, c in enumerate(raw["conditions"])]
        self._modules: dict[str, ModuleDef] = {}
        self._iods: dict[str, IODDef] = {}

    @property
    def edition(self) -> str:
        return str(self.about.get("edition", "?"))

    def _cond(self, cid: int) -> Condition | None:
        return self._conditions[cid] if cid >= 0 else None

    def _rows(self, raw: list | int) -> tuple[AttributeRule, ...]:
        """The rows *raw* holds: a list of nodes, or the number of a sequence's rows in the
        index's ``sequences`` (the same rows, wherever a macro repeats them, built once)."""
        if not isinstance(raw, int):
            return tuple(map(self._node, raw))
        rows = self._sequences.get(raw)
        if rows is None:
            rows = self._sequences[raw] = tuple(map(self._node,
                                                    json.loads(self._raw_sequences[raw])))
        return rows

    def _node(self, node: list) -> AttributeRule:
        tag, atype, cid, enum, defined, children = node[:6]
        args = (tag, atype, self._cond(cid),
                self._terms[enum] if enum >= 0 else None,
                self._terms[defined] if defined >= 0 else None)
        items = tuple(node[6]) if len(node) > 6 else None
        if children == []:  # a leaf (a sequence's rows are a list or a number)
            return AttributeRule(*args, (), items)  # type: ignore[arg-type]
        rule = _LazyRule(*args, None, items)  # type: ignore[arg-type]
        rule.__dict__.update(_raw=children, _index=self)  # built on first .children
        return rule

    def module(self, key: str) -> ModuleDef:
        mod = self._modules.get(key)
        if mod is None:
            raw = self._raw_modules[key]
            if isinstance(raw, str):        # JSON text, parsed on first use (see write_index)
                raw = json.loads(raw)
            mod = ModuleDef(key, raw["name"], raw["ref"],
                            tuple(self._node(n) for n in raw["attrs"]))
            self._modules[key] = mod
        return mod

    def iod(self, key: str) -> IODDef:
        iod = self._iods.get(key)
        if iod is None:
            raw = self._raw_iods[key]
            uses = tuple(ModuleUse(self.module(m), usage, self._cond(cid))
                         for m, usage, cid in raw["modules"] if m in self._raw_modules)
            mandatory = frozenset(a.tag for u in uses if u.usage == "M"
                                  for a in u.module.attributes)
            iod = IODDef(key, raw["name"], raw["ref"], uses, mandatory)
            self._iods[key] = iod
        return iod

    def iod_for_sop_class(self, uid: str) -> IODDef | None:
        key = self.sop_classes.get(uid)
        return self.iod(key) if key and key in self._raw_iods else None

    def storage_sop_classes(self) -> list[str]:
        """SOP classes of the index (all are storage / composite IODs), sorted."""
        return sorted(u for u, k in self.sop_classes.items() if k in self._raw_iods)


def write_index(index: dict[str, Any], out: str | Path) -> Path:
    """Write *index* to *out*, gzip-compressed and reproducibly (no file name, mtime 0: the
    same index gives the same bytes).

    Stored as JSON text inside the JSON document, parsed on first use: each module's
    top-level rows (``modules``), and the rows of each sequence (``sequences``, a node's
    children given as a number in that list; equal rows, such as a macro that many modules
    include, stored once).  Loading then parses some 1,400 strings instead of every row, a
    module costs the parse of its top-level rows (5% of all rows) when a file first uses it,
    and a sequence's rows are parsed only when a file holds the sequence
    (:meth:`StandardIndex.module`).  Modules and rows given inline (as objects or lists, as
    the builders give them and as indexes written before stored them) are read too.
    """
    p = Path(out)
    p.parent.mkdir(parents=True, exist_ok=True)
    compact = (",", ":")
    modules = inline_modules(index)
    sequences: list[str] = []
    numbers: dict[str, int] = {}

    def split(nodes: list) -> list:
        out = []
        for node in nodes:
            if node[5]:
                text = json.dumps(split(node[5]), separators=compact)
                number = numbers.get(text)
                if number is None:
                    number = numbers[text] = len(sequences)
                    sequences.append(text)
                node = [*node[:5], number, *node[6:]]
            out.append(node)
        return out

    stored = {k: json.dumps(dict(m, attrs=split(m["attrs"])), separators=compact)
              for k, m in modules.items()}
    doc = dict(index, modules=stored, sequences=sequences)
    payload = json.dumps(doc, separators=compact).encode()
    with open(p, "wb") as raw, gzip.GzipFile(filename="", fileobj=raw, mode="wb",
                                             mtime=0) as fh:
        fh.write(payload)
    return p


def inline_modules(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The modules of a raw index document (as read from the file, or as a builder made it)
    with every row's children inline, as nested lists: for tools and tests that walk all
    rows at once."""
    sequences = [json.loads(t) for t in doc.get("sequences", [])]

    def inline(nodes: list) -> list:
        return [[*n[:5], inline(sequences[n[5]] if isinstance(n[5], int) else n[5]), *n[6:]]
                for n in nodes]

    return {k: dict(m, attrs=inline(m["attrs"]))
            for k, m in ((k, json.loads(v) if isinstance(v, str) else v)
                         for k, v in doc["modules"].items())}


@lru_cache(maxsize=4)
def load_index(path: str | None = None) -> StandardIndex:
    """Load (once) the index at *path*, ``$CONFORMANCE_IOD_INDEX`` or the shipped one."""
    p = Path(path or os.environ.get(INDEX_ENV) or DEFAULT_INDEX)
    with gzip.open(p, "rb") as fh:
        raw = json.loads(fh.read())
    return StandardIndex(raw, p)


@cache
def dictionary_entry(tag: int) -> tuple[str, str, str] | None:
    """(VR, VM, keyword) of *tag* from pydicom's data dictionary (PS3.6), or None."""
    from pydicom.datadict import DicomDictionary, RepeatersDictionary, get_entry

    entry = DicomDictionary.get(tag)
    if entry is None:
        if not RepeatersDictionary:
            return None
        try:
            entry = get_entry(tag)
        except KeyError:
            return None
    return entry[0], entry[1], entry[4]
