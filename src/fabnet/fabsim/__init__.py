"""Fab simulator: discrete-event simulation of one wafer fab in the SMT2020 format, KPIs and
operating curves (cycle time against load)."""

from fabnet.fabsim.curve import operating_curve
from fabnet.fabsim.engine import SimOptions, SimResult
from fabnet.fabsim.run import simulate
from fabnet.fabsim.kpis import Kpis, bottleneck, kpis
from fabnet.fabsim.rules import RULES
from fabnet.fabsim.smt2020 import DatasetError, FabData, find_dataset, load_smt2020

__all__ = ["RULES", "DatasetError", "FabData", "Kpis", "SimOptions", "SimResult", "bottleneck",
           "find_dataset", "kpis", "load_smt2020", "operating_curve", "simulate"]
