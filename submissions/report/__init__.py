"""Leaderboard reports, one way: runs in -> figures and tables -> HTML, Markdown and CSV out.
  runs.py (run directories) -> tables.py, curves.py, compare.py (numbers) -> plots.py, pictures.py
  (SVG, PNG) -> model.py (Report, Figure) -> format.py (cells, notes) -> html.py, markdown.py -> build.py.
Each module imports only those before it; build_report reads and computes, write_report renders and
writes. Outside the package: voting, augment, harness.core and harness.predictions only."""

from submissions.report.build import build_report, write_report

__all__ = ["build_report", "write_report"]
