"""Human-readable outputs of an analysis: the self-contained HTML report."""

from facecue.report.html import render_report, write_report

__all__ = ["render_report", "write_report"]
