"""Shared building blocks: errors, quarters, money helpers and seeded random streams."""

from fabnet.core.errors import FabnetError, ScenarioError
from fabnet.core.periods import Quarter

__all__ = ["FabnetError", "Quarter", "ScenarioError"]
