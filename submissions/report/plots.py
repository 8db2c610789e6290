"""The report's figures as SVG text (matplotlib, Agg; imported only when a figure is drawn): ARC's pass@2
curves and calibration, and exact accuracy of Sudoku and maze runs against difficulty and ACT depth."""

from __future__ import annotations

import io
from typing import Any

import pandas as pd

# Run colours (Okabe-Ito: distinguishable with colour-blindness), the same run keeps its colour in every plot.
RUN_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "svg.fonttype": "none",
            "svg.hashsalt": "trm-eval",
            "font.size": 10,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )
    return plt.subplots(figsize=(6.4, 3.8), layout="constrained")


def _svg(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    plt.close(fig)
    return buffer.getvalue()


def _pass2_axis(ax: Any) -> None:
    """Percent axis from 0 (an all-zero curve would otherwise centre on 0 with negative ticks)."""
    ax.set_ylabel("pass@2 (%)")
    ax.set_ylim(0, max(ax.get_ylim()[1], 1))
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, fontsize=9)


def colour(index: int) -> str:
    return RUN_COLOURS[index % len(RUN_COLOURS)]


def views_plot(curves: dict[int, tuple[str, pd.DataFrame]]) -> str:
    """pass@2 against views voted per test input; the band spans the random draws. Keys: run index."""
    fig, ax = _figure()
    for i, (name, c) in curves.items():
        ax.fill_between(c["views"], 100 * c["low"], 100 * c["high"], color=colour(i), alpha=0.15, linewidth=0)
        ax.plot(c["views"], 100 * c["pass2"], "o-", color=colour(i), label=name, markersize=4)
    ax.set_xscale("log", base=2)
    ticks = sorted({int(k) for _, c in curves.values() for k in c["views"]})
    ax.set_xticks(ticks, [str(k) for k in ticks])
    ax.minorticks_off()
    ax.set_xlabel("views voted per test input (random subsets of the run's views)")
    _pass2_axis(ax)
    return _svg(fig)


def steps_plot(curves: dict[int, tuple[str, pd.DataFrame]]) -> str:
    """pass@2 of the votes on predictions after each ACT step."""
    fig, ax = _figure()
    for i, (name, c) in curves.items():
        ax.plot(c["step"], 100 * c["pass2"], "o-", color=colour(i), label=name, markersize=4)
    ax.set_xlabel("ACT step")
    ax.xaxis.get_major_locator().set_params(integer=True)
    _pass2_axis(ax)
    return _svg(fig)


def calibration_plot(tables: dict[int, tuple[str, pd.DataFrame, float]]) -> str:
    """Reliability diagram: accuracy of views against their sigmoid(q_halt), marker area ~ views per bin."""
    fig, ax = _figure()
    ax.plot([0, 1], [0, 1], "--", color="#999999", linewidth=1, label="perfect calibration")
    for i, (name, t, ece) in tables.items():
        size = 12 + 120 * t["views"] / max(t["views"].max(), 1)
        ax.plot(t["confidence"], t["accuracy"], "-", color=colour(i), linewidth=1)
        ax.scatter(t["confidence"], t["accuracy"], s=size, color=colour(i), label=f"{name} (ECE {ece:.3f})")
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("confidence: sigmoid(q_halt logit) of a view")
    ax.set_ylabel("fraction of views correct")
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, fontsize=9, loc="upper left")
    return _svg(fig)


def rating_plot(curves: dict[int, tuple[str, pd.DataFrame]]) -> str:
    """Exact accuracy per difficulty-rating bucket (the runs of one puzzle set share the buckets)."""
    fig, ax = _figure()
    for i, (name, c) in curves.items():
        ax.plot(range(len(c)), 100 * c["exact_accuracy"], "o-", color=colour(i), label=name, markersize=4)
    labels = next(iter(curves.values()))[1]["label"]
    ax.set_xticks(range(len(labels)), labels, rotation=30 if len(labels) > 5 else 0)
    ax.set_xlabel("difficulty rating (bucket; Sudoku-Extreme: solver backtracks)")
    ax.set_ylabel("exact accuracy (%)")
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, fontsize=9)
    return _svg(fig)


def depth_plot(curves: dict[int, tuple[str, pd.DataFrame]], halted: dict[int, tuple[str, float, float]]) -> str:
    """Exact accuracy after each ACT step (runs with recorded steps) and, as single points at their mean
    step count, runs that halted on q_halt."""
    fig, ax = _figure()
    for i, (name, c) in curves.items():
        ax.plot(c["step"], 100 * c["exact"], "o-", color=colour(i), label=name, markersize=4)
    for i, (name, steps, exact) in halted.items():
        ax.plot([steps], [100 * exact], "D", color=colour(i), markersize=7, label=f"{name} (q-halt, mean steps)")
    ax.set_xlabel("ACT step")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_ylabel("exact accuracy (%)")
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, fontsize=9)
    return _svg(fig)
