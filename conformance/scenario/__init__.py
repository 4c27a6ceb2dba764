"""Scenario files: site acceptance workflows (and the built-in families) as data.

A scenario file is validated against ``scenario.schema.json``, loaded with file:line:key
errors (:mod:`.loader`), checked against a statement (:mod:`.check`), and turned into engine
steps (:mod:`.plan`) whose actions are the step kinds of :mod:`.kinds`.
"""

from conformance.scenario.loader import load_scenario, load_scenarios
from conformance.scenario.model import Scenario, ScenarioStep

__all__ = ["load_scenario", "load_scenarios", "Scenario", "ScenarioStep"]
