"""Two trees side by side: the benchmarks of an old revision and of this tree, alternating.

    python bench/compare.py --old c1f9493^            # quick: a few minutes, SQLite
    python bench/compare.py --old c1f9493^ --full     # the figures bench/README.md quotes
    python bench/compare.py --old c1f9493^ --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

The old revision is checked out into a git worktree of its own (detached, under
--workdir, kept for the next run) with its own virtualenv (`make install` there,
once; or --old-python). Each tree runs its *own* bench scripts (bench/ack_latency.py
with its plain gunicorn peer and the bare Bolt app, bench/sweep.py, bench/digest.py)
with its own Python, so a tree is measured by the harness it shipped with. Runs
alternate old, new, new, old, old, new… so that a machine that slows down or speeds
up during the comparison weighs on both sides alike. Each run's figures are printed as
it ends, with the one-minute load average before it; at the end, the median of each
figure per tree and the new tree's difference from the old one.

On a shared machine compare CPU (server CPU per request, the sweep's CPU) before wall
times and latencies; see bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WITHIN = 0.10  # the bar: the new tree within 10% of the old one

# What each mode runs: the arguments of each bench script, and how many times each
# tree runs it. Quick takes 2 minutes on SQLite on a quiet machine, full about 20.
MODES: dict[str, dict[str, tuple[list[str], int]]] = {
    "quick": {
        "ack": (["--requests", "1000", "--runs", "1"], 4),
        "sweep": (["--rows", "100000", "--due", "10000", "--repeat", "5"], 3),
        "digest": (["--accounts", "10000", "--owners", "1000", "--channels", "100"], 2),
    },
    "full": {
        "ack": (["--requests", "4000", "--runs", "1"], 6),
        "sweep": (["--rows", "1000000", "--due", "10000", "--repeat", "5"], 3),
        "digest": ([], 2),
    },
}


@dataclass
class Tree:
    label: str  # "old" or "new"
    root: Path
    python: str
    rev: str  # what it was checked out from, for the header
    results: dict[str, list[dict[str, float]]] = field(default_factory=dict)


# --- the trees ----------------------------------------------------------------------------


def git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


def checked_out(rev: str, workdir: Path, python: str | None) -> Tree:
    """`rev` in a worktree under `workdir` (made once, then reused) with a venv."""
    sha = git("rev-parse", "--verify", f"{rev}^{{commit}}")
    root = workdir / sha[:12]
    if not (root / ".git").exists():
        print(f"checking out {rev} ({sha[:12]}) into {root}", flush=True)
        workdir.mkdir(parents=True, exist_ok=True)
        git("worktree", "add", "--detach", str(root), sha)
    if python is None:
        python = str(root / ".venv" / "bin" / "python")
        if not (root / ".venv" / ".installed").exists():
            log = root / "make-install.log"
            print(f"installing its virtualenv (make install; log in {log})", flush=True)
            with log.open("w") as out:
                subprocess.run(["make", "install"], cwd=root, check=True, stdout=out, stderr=out)
    return Tree("old", root, python, f"{rev} ({sha[:12]})")


def this_tree(python: str | None) -> Tree:
    if python is None:
        venv = ROOT / ".venv" / "bin" / "python"
        python = str(venv) if venv.exists() else sys.executable
    head = git("rev-parse", "--short=12", "HEAD")
    changed = git("status", "--porcelain", "--untracked-files=no")
    dirty = " with uncommitted changes" if changed else ""
    return Tree("new", ROOT, python, f"this tree, {head}{dirty}")


# --- running and reading one benchmark ---------------------------------------------------


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def read_ack(out: str) -> dict[str, float]:
    figures: dict[str, float] = {}
    row = re.compile(
        r"^\s+(rapport|plain peer|bare bolt)\s+([\d.]+)\s+([\d.]+)\s+[\d.]+\s+(\d+)\s+(\S+)$"
    )
    for line in out.splitlines():
        match = row.match(line)
        if match:
            name = match[1].replace(" ", "_")
            figures[f"{name} p50 ms"] = float(match[2])
            figures[f"{name} p99 ms"] = float(match[3])
            figures[f"{name} errors"] = float(match[4])
            if match[5] != "n/a":
                figures[f"{name} CPU ms/req"] = float(match[5])
    return figures


def read_sweep(out: str) -> dict[str, float]:
    match = re.search(
        r"runs: best ([\d.,]+) ms, median ([\d.,]+) ms; "
        r"CPU \(ours \+ server\) best ([\d,]+) ms, median ([\d,]+) ms",
        out,
    )
    if not match:
        return {}
    figures = {
        "wall best ms": _number(match[1]),
        "wall median ms": _number(match[2]),
        "CPU best ms": _number(match[3]),
        "CPU median ms": _number(match[4]),
    }
    ours = [_number(m) for m in re.findall(r"CPU ([\d,]+) ms here", out)]
    if ours and "in PostgreSQL" in out:  # on SQLite all of the CPU is ours
        figures["CPU ours median ms"] = statistics.median(ours)
    return figures


def read_digest(out: str) -> dict[str, float]:
    figures: dict[str, float] = {}
    took = re.search(r"built and queued .* in ([\d.]+) s", out)
    if took:
        figures["step s"] = float(took[1])
    cpu = re.search(r"CPU ([\d.]+) s", out)
    if cpu:
        figures["step CPU s"] = float(cpu[1])
    peak = re.search(r"peak memory .*: ([\d,]+) MiB", out)
    if peak:
        figures["peak MiB"] = _number(peak[1])
    return figures


READERS: dict[str, Callable[[str], dict[str, float]]] = {
    "ack": read_ack,
    "sweep": read_sweep,
    "digest": read_digest,
}
SCRIPTS = {"ack": "ack_latency.py", "sweep": "sweep.py", "digest": "digest.py"}
# The figures to judge by, first the one bench/README.md decides on.
HEADLINES = {
    "ack": ["rapport CPU ms/req", "rapport p50 ms", "rapport p99 ms", "plain_peer p99 ms",
            "bare_bolt CPU ms/req"],
    "sweep": ["CPU median ms", "CPU ours median ms", "wall median ms", "wall best ms"],
    "digest": ["step CPU s", "step s", "peak MiB"],
}  # fmt: skip


def load_average() -> float:
    return os.getloadavg()[0]


def run_bench(tree: Tree, bench: str, args: list[str]) -> tuple[dict[str, float], float, float]:
    """Runs one benchmark in `tree`; its figures, the load before it, its wall seconds."""
    command = [tree.python, str(tree.root / "bench" / SCRIPTS[bench]), *args]
    load, started = load_average(), time.monotonic()
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    done = subprocess.run(command, cwd=tree.root, capture_output=True, text=True, env=env)
    elapsed = time.monotonic() - started
    figures = READERS[bench](done.stdout)
    if done.returncode != 0 or not figures:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"{tree.label} tree: {' '.join(command)} failed ({done.returncode})")
    return figures, load, elapsed


def alternate(trees: tuple[Tree, Tree], times: int) -> Iterator[Tree]:
    """old new, new old, old new…: each tree as often first as second."""
    for i in range(times):
        yield from (trees if i % 2 == 0 else trees[::-1])


# --- fixtures ---------------------------------------------------------------------------


class Fixtures:
    """The sweep's seeded databases, one per tree: seeded afresh at the start (or kept
    from an earlier run with --keep-fixtures), reused by every run, dropped at the end
    unless kept. Seeding is not timed, and one sweep after it warms the fixture."""

    def __init__(self, workdir: Path, database_url: str | None, keep: bool) -> None:
        self.workdir, self.database_url, self.keep = workdir, database_url, keep
        self.names: dict[str, str] = {}

    def args(self, tree: Tree) -> list[str]:
        return ["--reuse", self.names[tree.label]]

    def prepare(self, tree: Tree, bench_args: list[str]) -> None:
        rows = bench_args[bench_args.index("--rows") + 1]
        tag = f"{tree.label}_{tree.root.name if tree.label == 'old' else 'new'}_{rows}"
        if self.database_url:
            name = f"compare_{tag}"
        else:
            name = str(self.workdir / f"sweep-{tag}.db")
        self.names[tree.label] = name
        if not self.keep:
            self._drop(name)

    def finish(self) -> None:
        for name in self.names.values():
            if self.keep:
                print(f"kept fixture: {name}")
            else:
                self._drop(name)

    def _drop(self, name: str) -> None:
        if not self.database_url:
            path = Path(name)
            for leftover in [
                path,
                *path.parent.glob(f"{path.name}-*"),
                *path.parent.glob(f"{path.name}.*.lock"),
            ]:
                leftover.unlink(missing_ok=True)
            return
        from sqlalchemy import create_engine, text

        engine = create_engine(self.database_url)
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        engine.dispose()


def with_repeat(args: list[str], repeat: int) -> list[str]:
    at = args.index("--repeat")
    return [*args[: at + 1], str(repeat), *args[at + 2 :]]


# --- the report ---------------------------------------------------------------------------


def print_run(bench: str, tree: Tree, figures: dict[str, float], load: float, took: float) -> None:
    shown = "  ".join(f"{name} {figures[name]:g}" for name in HEADLINES[bench] if name in figures)
    print(f"  {bench:<6} {tree.label}  load {load:4.1f}  {took:5.0f} s  {shown}", flush=True)


def summary(trees: tuple[Tree, Tree], benches: list[str]) -> None:
    old, new = trees
    print("\nmedians of the runs (new against old; * marks a difference over 10%)")
    print(f"  {'figure':<28} {'old':>10} {'new':>10} {'new/old':>9}")
    for bench in benches:
        names = [n for n in HEADLINES[bench] if any(n in r for r in old.results[bench])]
        for name in names:
            a = [r[name] for r in old.results[bench] if name in r]
            b = [r[name] for r in new.results[bench] if name in r]
            if not a or not b:
                continue
            ma, mb = statistics.median(a), statistics.median(b)
            change = (mb - ma) / ma if ma else 0.0
            mark = "*" if abs(change) > WITHIN else ""
            label = f"{bench}: {name}"
            print(f"  {label:<28} {ma:10.2f} {mb:10.2f} {change:+8.1%}{mark}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--old", required=True, help="the revision to compare with (git rev)")
    parser.add_argument("--full", action="store_true", help="README-sized runs (about 20 minutes)")
    parser.add_argument(
        "--only", default="ack,sweep,digest", help="comma-separated: ack, sweep, digest"
    )
    parser.add_argument("--times", type=int, help="runs per tree and benchmark (mode's default)")
    parser.add_argument("--database-url", help="PostgreSQL for the sweep and digest benches")
    parser.add_argument("--old-python", help="a Python that has the old tree's dependencies")
    parser.add_argument("--new-python", help="default: this tree's .venv")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "rapport-compare",
        help="where the old worktree and the fixtures live (default: %(default)s)",
    )
    parser.add_argument("--keep-fixtures", action="store_true", help="keep the sweep's databases")
    args = parser.parse_args()

    mode = MODES["full" if args.full else "quick"]
    benches = [b.strip() for b in args.only.split(",") if b.strip()]
    unknown = set(benches) - set(mode)
    if unknown:
        parser.error(f"--only: unknown {', '.join(sorted(unknown))}")
    old = checked_out(args.old, args.workdir, args.old_python)
    new = this_tree(args.new_python)
    trees = (old, new)
    fixtures = Fixtures(args.workdir, args.database_url, args.keep_fixtures)
    print(f"old: {old.rev} at {old.root}\nnew: {new.rev} at {new.root}")
    print(f"{'full' if args.full else 'quick'} mode, {os.cpu_count()} cores", flush=True)
    try:
        for bench in benches:
            bench_args, times = mode[bench]
            times = args.times or times
            # The ack bench stays on SQLite, where its target is stated (bench/README.md).
            if args.database_url and bench != "ack":
                bench_args = [*bench_args, "--database-url", args.database_url]
            print(f"{bench}: {' '.join(bench_args)}, {times} runs a tree", flush=True)
            for tree in trees:
                tree.results[bench] = []
                if bench == "sweep":
                    fixtures.prepare(tree, bench_args)
                    run_bench(tree, bench, [*with_repeat(bench_args, 2), *fixtures.args(tree)])
            for tree in alternate(trees, times):
                reuse = fixtures.args(tree) if bench == "sweep" else []
                figures, load, took = run_bench(tree, bench, [*bench_args, *reuse])
                tree.results[bench].append(figures)
                print_run(bench, tree, figures, load, took)
        summary(trees, benches)
    finally:
        fixtures.finish()
    print(f"\nthe old worktree stays for the next run (remove: git worktree remove {old.root})")


if __name__ == "__main__":
    if shutil.which("git") is None:
        raise SystemExit("bench/compare.py needs git")
    main()
