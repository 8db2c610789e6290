"""How published checkpoints and their numbers are shown: always marked as theirs, beside ours."""

from __future__ import annotations

from typing import Any


def our_score(summary: dict[str, Any]) -> tuple[float | None, str]:
    """(percent, what) of this run's headline number: ARC pass@2 (the Kaggle metric when solutions
    exist), a puzzle set's exact accuracy; None when the set has no answers."""
    if "benchmark" in summary:
        return 100 * summary["exact_accuracy"], "exact accuracy"
    if "score" in summary:
        return 100 * summary["score"]["score"], "pass@2 (Kaggle score)"
    return None, "pass@2"


def published_lines(summary: dict[str, Any]) -> list[str]:
    """Lines for the terminal: ours on this set, then each published score, labelled as theirs."""
    published = summary["published"]
    ours, metric = our_score(summary)
    name = published["name"] or published["address"]
    lines = [
        f"ours: {metric} {ours:.1f}% on {summary['tasks']}"
        if ours is not None
        else f"ours: no solutions in {summary['tasks']}, nothing to compare"
    ]
    for s in published["scores"]:
        lines.append(
            f"published (theirs, not reproduced by this run): {s['metric']} {s['score']:.1f}% on "
            f"{s['set']} ({s['source']})"
        )
    if not published["scores"]:
        lines.append(f"published: {name} has no score in the registry")
    return lines


def registry_lines(entries: list[Any], recorded: dict[str, str]) -> list[str]:
    """`trm-eval checkpoint list`: every known checkpoint with its address, size, layout, scores and
    the command that scores it (plain lines: addresses stay whole in any terminal width)."""
    lines = ["Published checkpoints (scores are theirs until your run reproduces them):"]
    for e in entries:
        digest = e.sha256 or recorded.get(e.name)
        lines += ["", f"{e.name}  {e.address}  ({e.family}, download {e.size})", f"  layout: {e.recipe.describe()}"]
        lines += [f"  published: {s['score']:.1f}% {s['metric']} on {s['set']} ({s['source']})" for s in e.scores]
        lines += [
            f"  sha256: {digest if digest else 'not recorded yet (the first download records it)'}",
            f"  score it: trm-eval evaluate {e.name} --tasks {e.tasks} -o runs/{e.name.replace('/', '-')}",
        ]
    return lines
