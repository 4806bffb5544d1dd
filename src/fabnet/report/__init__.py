"""Report: plotly figures and one self-contained HTML page per stored run (read-only over the store)."""

from fabnet.report.figures import FIGURES, figures
from fabnet.report.html import format_difference, format_figure, report_html, write_report

__all__ = ["FIGURES", "figures", "format_difference", "format_figure", "report_html", "write_report"]
