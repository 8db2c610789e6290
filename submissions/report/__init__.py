"""Leaderboard reports: run directories in -> figures and tables -> report.html, report.md and CSV out.

Imports flow one way: runs -> tables, curves, compare -> plots, pictures -> model (Report, Figure)
-> format (cells and notes both renderers use) -> html, markdown -> build (build_report, write_report).
Outside submissions it imports only voting, augment, harness.core and harness.predictions."""

from submissions.report.build import build_report, write_report

__all__ = ["build_report", "write_report"]
