"""Report: plotly figures and one self-contained HTML page per stored run (read-only over the store)."""

from fabnet.report.figures import FIGURES, figures
from fabnet.report.html import report_html, write_report
from fabnet.report.labels import format_difference, format_figure, label

__all__ = ["FIGURES", "figures", "format_difference", "format_figure", "label", "report_html", "write_report"]
