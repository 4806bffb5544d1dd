# ruff: noqa: F401  (every import here is a name fabnet.api passes on)
"""The engines' names that fabnet.api passes on to the CLI, the web app and scripts: types to
annotate with, constants for options, and the few engine functions a command drives itself
(with its own progress bar or spinner between steps).

This module is never imported at run time. fabnet.api reads the import lines below (their
module, name and alias) and imports a name's module on first use, so that `fabnet --help` or
`import fabnet.fabsim` pays for none of the engines; type checkers read it as it is (fabnet.api
imports it under TYPE_CHECKING). Each name is declared here once.
"""

from fabnet.check import PlanCheck
from fabnet.chips import DPW_FORMULAS, YIELD_MODELS, Harvest, YieldSpec, die_economics, package_cost
from fabnet.fabsim import Kpis, SimOptions, kpis, load_smt2020
from fabnet.fabsim import simulate as simulate_fab
from fabnet.fabsim.curve import DEFAULT_SCALES, operating_curve
from fabnet.fabsim.engine import SimResult
from fabnet.fabsim.fetch import DATASETS, FETCH_COMMAND, survey
from fabnet.fabsim.fetch import fetch as fetch_dataset
from fabnet.fabsim.rules import RULES, rules_help
from fabnet.finance import Financials
from fabnet.finance.deal import Deal
from fabnet.finance.dealroom import DEBT_TERMS as DEAL_DEBT_TERMS
from fabnet.finance.dealroom import SUGGEST_RANGE as DEAL_SHARE_RANGE
from fabnet.finance.dealroom import DealRoom
from fabnet.finance.dealroom import Terms as DealTerms
from fabnet.finance.industry import PlanCapex, plan_capex
from fabnet.network import product_economics, wafer_demand
from fabnet.network.loadcurve import LoadCurve, save_curve
from fabnet.pipeline import Decision, JobResult, main_job
from fabnet.plan import Plan, RiskMeasure, SolveOptions
from fabnet.report import report_html
from fabnet.report.figures import compare_figures
from fabnet.report.workbook import MONEY_UNITS, write_comparison, write_workbook
from fabnet.risk import METHODS, SweepSpec
from fabnet.risk.job import Executors, RiskRun, risk_job
from fabnet.risk.robust import RobustRun, RobustSpec
from fabnet.risk.sensitivity import BreakEven, default_path, parse_solve, search_range, swings, tornado
from fabnet.risk.sensitivity import Model as SensitivityModel
from fabnet.risk.sensitivity import break_even as find_break_even
from fabnet.scenario import Scenario, load_scenario
from fabnet.scenario.assets import module_capex_usd
from fabnet.scenario.checks import scenario_warnings
from fabnet.scenario.loader import stored_names
from fabnet.scenario.reference import json_schema, markdown_reference
from fabnet.scenario.schema import Site
from fabnet.simulated import LoadCurveFit, fit_load_curve
from fabnet.store import Store, StoreBusy, StoredRun, UnknownRun, change_files, store_name
from fabnet.store.base import READER_WAIT_S
from fabnet.store.compare import build_differences, comparison, distinct, figure_differences, input_differences
from fabnet.store.export import FORMATS, overrides_of
