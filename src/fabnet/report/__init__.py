"""Report: plotly figures and one self-contained HTML page per stored run (read-only over the store)."""

from fabnet.report.figures import FIGURES, figures
from fabnet.report.html import report_html, report_name, write_report

__all__ = ["FIGURES", "figures", "report_html", "report_name", "write_report"]
