"""Load a conformance statement: YAML/JSON -> JSON Schema -> keyword resolution -> model.

Every problem is reported with file, line and key path, all of them in one pass, and raised
as :class:`~conformance.errors.InputError` (exit code 2).
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from conformance.errors import InputError, Problem
from conformance.standard import uids
from conformance.statement.model import (
    CommitmentBehaviour, HarnessIdentity, Identity, NamedUID, Network, PrivateAttribute,
    PrivateExtensions, QueryRetrieveBehaviour, Refusal, Role, Services, Statement, StorageBehaviour,
    TransferCapability, WorklistBehaviour,
)
from conformance.statement.model import Load, LoadTargets
from conformance.statement.yamlsource import SourceDocument, load_document

#: Specific Character Set defined terms (PS3.3 C.12.1.1.2, Tables C.12-2 to C.12-5).
CHARACTER_SET_TERMS = frozenset({
    "", "ISO_IR 100", "ISO_IR 101", "ISO_IR 109", "ISO_IR 110", "ISO_IR 144", "ISO_IR 127",
    "ISO_IR 126", "ISO_IR 138", "ISO_IR 148", "ISO_IR 203", "ISO_IR 13", "ISO_IR 166",
    "ISO 2022 IR 6", "ISO 2022 IR 100", "ISO 2022 IR 101", "ISO 2022 IR 109",
    "ISO 2022 IR 110", "ISO 2022 IR 144", "ISO 2022 IR 127", "ISO 2022 IR 126",
    "ISO 2022 IR 138", "ISO 2022 IR 148", "ISO 2022 IR 203", "ISO 2022 IR 13",
    "ISO 2022 IR 166", "ISO 2022 IR 87", "ISO 2022 IR 159", "ISO 2022 IR 149",
    "ISO 2022 IR 58", "ISO_IR 192", "GB18030", "GBK",
})


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The JSON Schema of the statement format, as shipped in the package."""
    text = resources.files("conformance.statement").joinpath("statement.schema.json").read_text()
    return json.loads(text)


def _schema_problems(doc: SourceDocument) -> list[Problem]:
    validator = jsonschema.Draft202012Validator(schema())
    problems = []
    for error in sorted(validator.iter_errors(doc.data), key=lambda e: list(map(str, e.path))):
        path = list(error.absolute_path)
        message = error.message
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = list(error.schema.get("properties", {}))
            for key in error.instance:
                if key not in allowed:
                    hint = uids.suggest(key, allowed)
                    extra = f"; did you mean {hint}?" if hint else f"; allowed: {', '.join(allowed)}"
                    problems.append(doc.problem(path + [key], f"unknown key {key!r}{extra}"))
            continue
        if error.validator == "pattern" and error.schema.get("description"):
            message = f"{error.instance!r} is not valid: {error.schema['description']}"
        problems.append(doc.problem(path, message))
    return problems


class _Resolver:
    """Turns keywords, UIDs and set names into UIDs, collecting problems with their lines."""

    def __init__(self, doc: SourceDocument, private_uids: set[str]):
        self.doc = doc
        self.private_uids = private_uids
        self.problems: list[Problem] = []

    def resolve(self, value: str, path: tuple[Any, ...], kind: str,
                table: dict[str, str], sets: dict[str, list[str]], sets_key: str) -> list[str]:
        if value in sets:
            out: list[str] = []
            for i, item in enumerate(sets[value]):
                out += self.resolve(item, (sets_key, value, i), kind, table, {}, sets_key)
            return out
        if uids.looks_like_uid(value):
            if not uids.is_valid_uid(value):
                self.problems.append(self.doc.problem(path, f"{value!r} is not a valid UID "
                                     "(PS3.5 9.1: digits and dots, no leading zeros, at most 64 characters)"))
                return []
            return [value]
        if value in table:
            return [table[value]]
        hint = uids.suggest(value, list(table) + list(sets))
        extra = f"; did you mean {hint}?" if hint else ""
        self.problems.append(self.doc.problem(path, f"{value}: unknown {kind}{extra}"))
        return []


def _private_attribute(entry: dict[str, Any]) -> PrivateAttribute:
    group, element = entry["tag"].strip("()").split(",")
    return PrivateAttribute(
        creator=entry["creator"], group=int(group, 16), element=int(element[2:], 16),
        vr=entry["vr"], vm=entry.get("vm", "1"), meaning=entry.get("meaning", ""),
    )


def _refused(section: dict[str, Any], resolver: _Resolver,
             declared: set[str]) -> tuple[Refusal, ...]:
    """``services.refused``: SOP classes resolved; each must be declared as SCP."""
    out: list[Refusal] = []
    for i, entry in enumerate(section.get("refused", [])):
        path = ("services", "refused", i, "sop_class")
        for uid in resolver.resolve(entry["sop_class"], path, "SOP class", uids.sop_class_keywords(), {}, ""):
            if uid not in declared:
                resolver.problems.append(resolver.doc.problem(
                    path, f"{entry['sop_class']}: a refused service must be declared in "
                    "transfer_capabilities as SCP (the device accepts its presentation context)"))
                continue
            status = entry.get("status")
            out.append(Refusal(uid, entry["how"], int(status, 16) if status else None))
    return tuple(out)


def _services(doc: SourceDocument, data: dict[str, Any], problems: list[Problem],
              refused: tuple[Refusal, ...] = ()) -> Services:
    """The optional ``services`` section; attribute keywords resolved to tags (PS3.6)."""
    from pydicom.datadict import tag_for_keyword

    section = data.get("services") or {}
    st = section.get("storage", {})
    tags: list[int] = []
    for i, name in enumerate(st.get("coerced_attributes", [])):
        if "," in name:
            group, element = name.strip("()").split(",")
            tags.append(int(group + element, 16))
            continue
        tag = tag_for_keyword(name)
        if tag is None:
            from pydicom.datadict import keyword_dict
            hint = uids.suggest(name, list(keyword_dict))
            extra = f"; did you mean {hint}?" if hint else ""
            problems.append(doc.problem(("services", "storage", "coerced_attributes", i),
                                        f"{name}: unknown attribute keyword (PS3.6){extra}"))
            continue
        tags.append(tag)
    qr = section.get("query_retrieve", {})
    wl = section.get("worklist", {})
    sc = section.get("storage_commitment", {})
    qr_defaults, wl_defaults = QueryRetrieveBehaviour(), WorklistBehaviour()
    return Services(
        storage=StorageBehaviour(coerced_attributes=tuple(tags),
                                 private_attributes=st.get("private_attributes", "retained"),
                                 round_trip=st.get("round_trip", True)),
        query_retrieve=QueryRetrieveBehaviour(
            levels={k: tuple(v) for k, v in qr.get("levels", {}).items()},
            matching=tuple(qr.get("matching", qr_defaults.matching)),
            cancel=qr.get("cancel", False),
            move_destinations=qr.get("move_destinations", "configured"),
            unknown_destination_status=(int(qr["unknown_destination_status"], 16)
                                        if qr.get("unknown_destination_status") else None)),
        worklist=WorklistBehaviour(matching_keys=tuple(wl.get("matching_keys", wl_defaults.matching_keys))),
        storage_commitment=CommitmentBehaviour(
            report_association=sc.get("report_association", "either"),
            report_within=float(sc.get("report_within", 10.0))),
        refused=refused,
    )


def _load(data: dict[str, Any], resolver: _Resolver) -> Load | None:
    """The optional ``load`` section; SOP class and transfer syntax names resolved to UIDs."""
    section = data.get("load")
    if not section:
        return None
    ts_sets, sop_sets = data.get("transfer_syntax_sets", {}), data.get("sop_class_sets", {})
    sops = [u for j, v in enumerate(section.get("sop_classes", []))
            for u in resolver.resolve(v, ("load", "sop_classes", j), "SOP class",
                                      uids.sop_class_keywords(), sop_sets, "sop_class_sets")]
    tss = [u for j, v in enumerate(section.get("transfer_syntaxes", []))
           for u in resolver.resolve(v, ("load", "transfer_syntaxes", j), "transfer syntax",
                                     uids.transfer_syntax_keywords(), ts_sets,
                                     "transfer_syntax_sets")]
    t = section.get("targets", {})
    return Load(associations=section["associations"],
                instances_per_association=section["instances_per_association"],
                sop_classes=tuple(dict.fromkeys(sops)), transfer_syntaxes=tuple(dict.fromkeys(tss)),
                time_limit=float(section.get("time_limit", 120)),
                targets=LoadTargets(throughput=t.get("throughput"),
                                    p95_latency_ms=t.get("p95_latency_ms"),
                                    error_rate=t.get("error_rate")))


def statement_from_document(doc: SourceDocument) -> Statement:
    """Validate and resolve a parsed document into a :class:`Statement`."""
    if not isinstance(doc.data, dict):
        raise InputError(doc.problem((), "a conformance statement must be a mapping "
                                     "(format, identity, network, transfer_capabilities, ...)"))
    problems = _schema_problems(doc)
    if problems:
        raise InputError(problems)
    data = doc.data
    private = data.get("private", {})
    private_uids = {e["uid"] for e in private.get("sop_classes", []) + private.get("transfer_syntaxes", [])}
    resolver = _Resolver(doc, private_uids)

    for i, term in enumerate(data.get("character_sets", [])):
        if term not in CHARACTER_SET_TERMS:
            hint = uids.suggest(term, sorted(CHARACTER_SET_TERMS - {""}))
            extra = f"; did you mean {hint!r}?" if hint else ""
            resolver.problems.append(doc.problem(("character_sets", i),
                                     f"{term!r} is not a Specific Character Set defined term "
                                     f"(PS3.3 C.12.1.1.2){extra}"))

    ts_sets = data.get("transfer_syntax_sets", {})
    sop_sets = data.get("sop_class_sets", {})
    capabilities: dict[tuple[str, Role], TransferCapability] = {}
    for i, entry in enumerate(data["transfer_capabilities"]):
        base = ("transfer_capabilities", i)
        syntaxes: list[str] = []
        for j, ts in enumerate(entry["transfer_syntaxes"]):
            syntaxes += resolver.resolve(ts, base + ("transfer_syntaxes", j), "transfer syntax",
                                         uids.transfer_syntax_keywords(), ts_sets, "transfer_syntax_sets")
        role = Role(entry["role"])
        for j, sop in enumerate(entry["sop_classes"]):
            for uid in resolver.resolve(sop, base + ("sop_classes", j), "SOP class",
                                        uids.sop_class_keywords(), sop_sets, "sop_class_sets"):
                if (uid, role) in capabilities:
                    resolver.problems.append(doc.problem(
                        base + ("sop_classes", j),
                        f"{uids.keyword_of(uid)} is declared twice in role {role.value} "
                        f"(first at line {capabilities[(uid, role)].line})"))
                    continue
                capabilities[(uid, role)] = TransferCapability(
                    sop_class=uid, role=role, transfer_syntaxes=tuple(dict.fromkeys(syntaxes)),
                    role_selection=entry.get("role_selection", False),
                    extended_negotiation=entry.get("extended_negotiation", {}),
                    line=doc.line_of(base),
                )
    declared_scp = {uid for uid, role in capabilities if role is Role.SCP}
    refused = _refused(data.get("services") or {}, resolver, declared_scp)
    services = _services(doc, data, resolver.problems, refused)
    from conformance.statement.webload import dicomweb_section
    dicomweb = dicomweb_section(doc, data, resolver.resolve, CHARACTER_SET_TERMS, resolver.problems)
    load = _load(data, resolver)
    from conformance.statement.secure import secure_transport_section
    secure = secure_transport_section(doc, data, resolver.problems)
    if resolver.problems:
        raise InputError(resolver.problems)

    net = data["network"]
    harness = data.get("harness", {})
    return Statement(
        identity=Identity(**data["identity"]),
        network=Network(
            ae_titles=tuple(net["ae_titles"]), port=net.get("port"),
            checks_called_ae_title=net.get("checks_called_ae_title", False),
            checks_calling_ae_title=net.get("checks_calling_ae_title", False),
            max_pdu_receive=net.get("max_pdu_receive"),
            implementation_class_uid=net.get("implementation_class_uid"),
            implementation_version_name=net.get("implementation_version_name"),
            max_associations=net.get("max_associations"), tls=net.get("tls", False),
        ),
        harness=HarnessIdentity(
            ae_title=harness.get("ae_title", "CONFORMANCE"), port=harness.get("port"),
            move_destination=harness.get("move_destination"),
        ),
        transfer_capabilities=tuple(capabilities.values()),
        character_sets=tuple(data.get("character_sets", [])),
        private=PrivateExtensions(
            sop_classes=tuple(NamedUID(e["uid"], e["name"]) for e in private.get("sop_classes", [])),
            transfer_syntaxes=tuple(NamedUID(e["uid"], e["name"]) for e in private.get("transfer_syntaxes", [])),
            attributes=tuple(_private_attribute(e) for e in private.get("attributes", [])),
        ),
        file=doc.file,
        data=data,
        services=services,
        dicomweb=dicomweb,
        load=load,
        secure_transport=secure,
    )


def load_statement(path: str | Path) -> Statement:
    """Load, validate and resolve the statement at *path*. Raises InputError (exit 2)."""
    return statement_from_document(load_document(path, "statement"))
