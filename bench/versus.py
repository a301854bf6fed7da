"""This working tree against an earlier commit, same machine, same run: `Screener.screen` on
batches of 1,000 and on one listing at a time, each tree in its own process, taking turns.

    .venv/bin/python -m bench.versus [--base 6a57f6b] [--rounds 3] [--cpu N]

The base commit is checked out in a temporary git worktree and measured with this project's
virtualenv, the default model of each tree and the same real titles; the rounds alternate
base, working tree, base, ... so that the machine's slow spells fall on both. Per round:
5 batches of 1,000 listings, word cache warm, best of 5 (µs per listing), and 2,000 single
listings, each a different title (median µs). Each figure is the best of `--rounds` rounds.
The default base is the commit the columns issue was filed against. Prints the table and
writes it, with the machine, to bench/results/versus.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/versus.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import REPO, RESULTS, load_average, machine, markdown_table, save_report

BASE = "6a57f6b"
BATCH, BATCHES, SINGLES = 1000, 5, 2000

# Run in each tree's own process, from that tree (so its `app` is imported): only names both
# the base and this tree have.
_MEASURE = """
import json, statistics, sys, time
from app.schemas import Listing
from app.screening.policy import load_policy
from app.screening.screener import Screener
from app.screening.store import load_model, resolve_model_dir
from bench.common import REPO, real_titles
size, count, singles = map(int, sys.argv[1:])
screener = Screener(load_model(resolve_model_dir(None, REPO / "models")), load_policy(None))
listings = [Listing(title=t) for t in real_titles()[: size * count + singles]]
batches = [listings[i : i + size] for i in range(0, size * count, size)]
for b in batches:
    screener.screen(b)
best = float("inf")
for _ in range(5):
    start = time.perf_counter_ns()
    for b in batches:
        screener.screen(b)
    best = min(best, time.perf_counter_ns() - start)
single = []
for listing in listings[size * count :]:
    start = time.perf_counter_ns()
    screener.screen([listing])
    single.append(time.perf_counter_ns() - start)
batch_us = best / 1000 / (size * count)
print(json.dumps({"batch": batch_us, "single": statistics.median(single) / 1000}))
"""


def measure(tree: Path, cpu: int) -> dict[str, float]:
    """One round in a fresh process on one core: batch µs per listing, single p50 µs."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(
        [
            "taskset",
            "-c",
            str(cpu),
            sys.executable,
            "-c",
            _MEASURE,
            *map(str, (BATCH, BATCHES, SINGLES)),
        ],
        cwd=tree,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default=BASE, help="the commit to compare against")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cpu", type=int, default=max(os.sched_getaffinity(0)))
    parser.add_argument("--out", type=Path, default=RESULTS / "versus.md")
    return parser


def main() -> None:
    args = build_parser().parse_args()
    load_before = load_average()
    head = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        base_tree = Path(tmp) / "base"
        # The base reads the real titles from ../shared beside it, as this tree does.
        (Path(tmp) / "shared").symlink_to(REPO.parent / "shared")
        git = ["git", "-C", str(REPO)]
        subprocess.run(
            [*git, "worktree", "add", "-q", "--detach", str(base_tree), args.base], check=True
        )
        try:
            runs: dict[str, list[dict[str, float]]] = {"base": [], "this": []}
            for _ in range(args.rounds):
                runs["base"].append(measure(base_tree, args.cpu))
                runs["this"].append(measure(REPO, args.cpu))
        finally:
            subprocess.run([*git, "worktree", "remove", "--force", str(base_tree)], check=True)
    best = {k: {m: min(r[m] for r in v) for m in ("batch", "single")} for k, v in runs.items()}
    rows = [
        [
            f"batch of {BATCH:,}, Screener.screen, µs per listing",
            f"{best['base']['batch']:.1f}",
            f"{best['this']['batch']:.1f}",
            f"{best['base']['batch'] / best['this']['batch']:.2f}x",
        ],
        [
            "one listing, Screener.screen, p50 µs",
            f"{best['base']['single']:.0f}",
            f"{best['this']['single']:.0f}",
            f"{best['base']['single'] / best['this']['single']:.2f}x",
        ],
    ]
    every = [
        f"- {name} rounds: batch "
        + ", ".join(f"{r['batch']:.1f}" for r in v)
        + "; single "
        + ", ".join(f"{r['single']:.0f}" for r in v)
        for name, v in runs.items()
    ]
    lines = [
        "# This tree against an earlier commit",
        "",
        f"Command: `python -m bench.versus --base {args.base} --rounds {args.rounds}` (base"
        f" `{args.base}`, this tree `{head}`; best of {args.rounds} alternating rounds, each in"
        " a fresh process pinned to one core).",
        "",
        *markdown_table(["measure", f"base {args.base}", f"this {head}", "speed-up"], rows),
        "",
        *every,
        "",
        *machine({"pinned to cpu": str(args.cpu)}),
        f"- load average (1, 5, 15 min) before / after: {load_before} / {load_average()}",
        "",
    ]
    print("\n".join(lines))
    save_report(args.out, lines)


if __name__ == "__main__":
    main()
