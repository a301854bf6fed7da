"""Where a batch's time goes: `Screener.screen` on batches of 1,000 split into its stages.

    .venv/bin/python -m bench.stages [--runs 5] [--cpu N]

On the compiled path of the default model, pinned to one core, the word cache warm (the
titles of the measured batches are screened once first): the whole `Screener.screen`, then
`LinearModel.predict` alone, and inside it the listings' text (fields composed and
normalised, `LinearModel._texts`) and each tokeniser's counting (`count_terms` on the
distinct texts). What is left of predict is the numpy scoring and the evidence terms; what is
left of screen is the policy and the columns. Then the normaliser's regex passes, each on its
own over the same titles. Each figure is the best of `--runs` runs, in µs per listing. Prints
the tables and writes them, with the machine, to bench/results/stages.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/stages.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.schemas import Listing
from app.screening import normalize as norm
from app.screening.claims import NORMALIZER, RULES
from app.screening.linear import LinearModel
from app.screening.policy import load_policy
from app.screening.screener import Screener
from app.screening.store import load_model, resolve_model_dir
from app.screening.tokenizers import Tokenizer, count_terms
from bench.common import (
    REPO,
    RESULTS,
    load_average,
    machine,
    markdown_table,
    real_titles,
    save_report,
)

BATCH = 1000


def _best(call: Callable[[], object], runs: int, listings: int) -> float:
    """The fastest of `runs` calls, in µs per listing."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter_ns()
        call()
        best = min(best, time.perf_counter_ns() - start)
    return best / 1000 / listings


def _count_all(tokenizer: Tokenizer, texts: list[list[str]]) -> None:
    for docs in texts:
        count_terms(tokenizer, docs)


def _each(call: Callable[[str], object], texts: list[str]) -> None:
    for text in texts:
        call(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--cpu", type=int, default=max(os.sched_getaffinity(0)))
    parser.add_argument("--model", type=Path, default=None, help="model folder (default: DEFAULT)")
    parser.add_argument("--out", type=Path, default=RESULTS / "stages.md")
    return parser


def main() -> None:
    args = build_parser().parse_args()

    os.sched_setaffinity(0, {args.cpu})
    load_before = load_average()
    loaded = load_model(resolve_model_dir(args.model, REPO / "models"))
    linear = loaded.model.predictor
    if not isinstance(linear, LinearModel):
        sys.exit("the compiled path is not active for this model: nothing to break down")
    screener = Screener(loaded, load_policy(None))
    titles = real_titles()[: args.batches * BATCH]
    listings = [Listing(title=t) for t in titles]
    batches = [listings[i : i + BATCH] for i in range(0, len(listings), BATCH)]
    n = len(listings)
    for batch in batches:  # the word cache warm, as in a worker that has run a while
        screener.screen(batch)

    texts = [linear._texts(b) for b in batches]
    distinct = [
        list(dict.fromkeys(t for docs in by_clf.values() for t in docs)) for by_clf in texts
    ]
    stages: dict[str, float] = {
        "Screener.screen": _best(lambda: [screener.screen(b) for b in batches], args.runs, n),
        "LinearModel.predict": _best(lambda: [linear.predict(b) for b in batches], args.runs, n),
        "text: fields composed and normalised": _best(
            lambda: [linear._texts(b) for b in batches], args.runs, n
        ),
    }
    for tok in linear.tokenizers:
        lo, hi = tok.spec.ngram_range
        stages[f"tokens counted: {tok.spec.kind} {lo}-{hi}"] = _best(
            partial(_count_all, tok, distinct), args.runs, n
        )
    counted = sum(v for k, v in stages.items() if k.startswith("tokens counted"))
    rest_predict = stages["LinearModel.predict"] - stages["text: fields composed and normalised"]
    stages["predict's rest: scores, probabilities, evidence"] = rest_predict - counted
    stages["screen's rest: claims, policy, columns"] = (
        stages["Screener.screen"] - stages["LinearModel.predict"]
    )
    whole = stages["Screener.screen"]
    rows = [[k, f"{v:.1f}", f"{100 * v / whole:.0f}%"] for k, v in stages.items()]

    rules = RULES[NORMALIZER]
    lowered = [t.lower() for t in titles]
    passes: dict[str, Callable[[str], object]] = {
        "the whole of normalize": lambda t: norm.normalize(t, NORMALIZER),
        "spaced-out letters (_SPACED_LETTERS)": lambda t: norm._SPACED_LETTERS.sub(
            norm._join_spaced, t
        ),
        "repeated letters (_REPEATS)": lambda t: norm._REPEATS.sub(norm._first_group, t),
        "leetspeak tokens (_LEET_TOKEN)": lambda t: norm._LEET_TOKEN.findall(t),
        "made in (made_in)": lambda t: rules.made_in.sub("made in ", t),
        "material claims (material_claim)": lambda t: rules.material_claim.sub(
            rules.mark_material, t
        ),
        "origin claims (origin_claim)": lambda t: rules.origin_claim.search(t),
        "origin words dropped (origin_words)": lambda t: rules.origin_words.sub(" ", t),
    }
    regex_rows = [
        [name, f"{_best(partial(_each, f, lowered), args.runs, n):.1f}"]
        for name, f in passes.items()
    ]

    lines = [
        "# Where a batch's time goes",
        "",
        f"Command: `python -m bench.stages --runs {args.runs}` (model `{loaded.manifest.version}`,"
        f" {args.batches} batches of {BATCH} real titles, word cache warm, best of"
        f" {args.runs} runs, µs per listing).",
        "",
        *markdown_table(["stage", "µs per listing", "share of screen"], rows),
        "",
        "Each regex pass of the normaliser on its own, over the same titles lower-cased"
        " (`normalize` runs some passes only when a cheap substring test says they can match):",
        "",
        *markdown_table(["pass", "µs per title"], regex_rows),
        "",
        *machine(
            {
                "pinned to cpu": str(args.cpu),
                "load average (1, 5, 15 min) before / after": f"{load_before} / {load_average()}",
            }
        ),
        "",
    ]
    print("\n".join(lines))
    save_report(args.out, lines)


if __name__ == "__main__":
    main()
