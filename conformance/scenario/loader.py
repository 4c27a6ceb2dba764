"""Load scenario files: YAML -> JSON Schema -> typed Scenario, errors with file:line:key."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Iterable

import jsonschema

from conformance.errors import InputError, Problem
from conformance.scenario import loadstep
from conformance.scenario.model import STEP_KINDS, Scenario, ScenarioStep
from conformance.standard.uids import suggest
from conformance.statement.yamlsource import SourceDocument, load_document


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    return json.loads(resources.files("conformance.scenario").joinpath("scenario.schema.json").read_text())


def _problems(doc: SourceDocument) -> list[Problem]:
    validator = jsonschema.Draft202012Validator(schema())
    problems: list[Problem] = []
    for error in sorted(validator.iter_errors(doc.data), key=lambda e: list(map(str, e.path))):
        path = list(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = list(error.schema.get("properties", {}))
            for key in error.instance:
                if key not in allowed:
                    hint = suggest(key, allowed)
                    problems.append(doc.problem(path + [key], f"unknown key {key!r}"
                                                + (f"; did you mean {hint}?" if hint else f"; allowed: {', '.join(allowed)}")))
            continue
        if error.validator == "oneOf" and not path:
            problems.append(doc.problem(path, "a scenario has either 'family' or 'steps', not both or neither"))
            continue
        problems.append(doc.problem(path, error.message))
    return problems


def scenario_from_document(doc: SourceDocument) -> Scenario:
    if not isinstance(doc.data, dict):
        raise InputError(doc.problem((), "a scenario must be a mapping (format, id, name, family or steps)"))
    problems = _problems(doc)
    data = doc.data
    steps: list[ScenarioStep] = []
    seen: dict[str, int | None] = {}
    for i, raw in enumerate(data.get("steps", []) if not problems else []):
        kinds = [k for k in STEP_KINDS if k in raw]
        if len(kinds) != 1:
            problems.append(doc.problem(("steps", i), f"a step has exactly one of {', '.join(STEP_KINDS)}; "
                                        f"this one has {', '.join(kinds) or 'none'}"))
            continue
        if raw["id"] in seen:
            problems.append(doc.problem(("steps", i, "id"), f"step id {raw['id']!r} is used twice "
                                        f"(first at line {seen[raw['id']]})"))
            continue
        seen[raw["id"]] = doc.line_of(("steps", i))
        if kinds[0] == "load":
            problems += loadstep.problems(doc, i, raw["load"])
        steps.append(ScenarioStep(raw["id"], kinds[0], raw[kinds[0]] or {}, raw.get("title", ""),
                                  raw.get("timeout"), doc.line_of(("steps", i))))
    if problems:
        raise InputError(problems)
    roles = data.get("roles", {})
    return Scenario(id=data["id"], name=data["name"], file=doc.file, reference=data.get("reference", ""),
                    description=data.get("description", ""), family=data.get("family"),
                    harness_scu=roles.get("scu", True), harness_scp=roles.get("scp", False),
                    variables={k: str(v) for k, v in data.get("variables", {}).items()}, steps=tuple(steps))


def load_scenario(path: str | Path) -> Scenario:
    """Load and validate one scenario file. Raises InputError (exit 2)."""
    return scenario_from_document(load_document(path, "scenario"))


def load_scenarios(paths: Iterable[str | Path]) -> list[Scenario]:
    """Files, and the *.yaml / *.yml / *.json files of folders (sorted, not recursive).
    Every problem of every file is reported together; scenario ids must be unique."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += sorted(f for f in p.iterdir() if f.suffix in (".yaml", ".yml", ".json"))
        elif p.exists():
            files.append(p)
        else:
            raise InputError(Problem("no such scenario file or folder", str(p)))
    out: list[Scenario] = []
    problems: list[Problem] = []
    ids: dict[str, str] = {}
    for f in files:
        try:
            sc = load_scenario(f)
        except InputError as exc:
            problems += exc.problems
            continue
        if sc.id in ids:
            problems.append(Problem(f"scenario id {sc.id!r} is already used by {ids[sc.id]}", str(f), 1, "id"))
            continue
        ids[sc.id] = str(f)
        out.append(sc)
    if problems:
        raise InputError(problems)
    return out
