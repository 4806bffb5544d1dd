"""Scenario files: schema (frozen pydantic models), YAML loader with extends and overrides,
and semantic checks."""

from fabnet.scenario.loader import load_scenario, parse_override
from fabnet.scenario.schema import Scenario

__all__ = ["Scenario", "load_scenario", "parse_override"]
