"""`compare`, `profile` and `drift`: the commands that decide on and watch a model."""

from __future__ import annotations

import argparse
import sys

from app.errors import ModelStoreError
from training import data
from training.compare import SEED
from training.drift import DriftError
from training.sources import SourceError


def run_command(args: argparse.Namespace) -> int:
    """0 when done; 2 with a message for a missing file, model or reference profile."""
    try:
        if args.command == "compare":
            return _compare(args)
        if args.command == "profile":
            return _profile(args)
        return _drift(args)
    except (DriftError, ModelStoreError, SourceError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def _compare(args: argparse.Namespace) -> int:
    from training.compare import run

    for folder in (args.model_a, args.model_b):
        if not folder.is_dir():
            raise ModelStoreError(f"{folder}: no such model folder")
    table = run(
        args.model_a,
        args.model_b,
        sources=args.sources,
        data_dir=args.data_dir,
        validation=args.hand_labels,
        dev=args.dev_labels,
        policy=args.policy,
        resamples=args.resamples,
        seed=SEED if args.seed is None else args.seed,
    )
    print(table)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(table + "\n", encoding="utf-8")
        print(f"written to {args.out}")
    return 0


def _profile(args: argparse.Namespace) -> int:
    from training.reference_profile import profile_model

    path = profile_model(
        args.model,
        sources=args.sources,
        data_dir=args.data_dir,
        validation=args.hand_labels,
        policy=args.policy,
    )
    print(f"reference profile: {path}")
    return 0


def _drift(args: argparse.Namespace) -> int:
    from training.drift import format_result, plot, run

    result = run(args.decisions, args.model, data.REPO_ROOT / "models", args.listings)
    print(format_result(result))
    if args.plot is not None:
        print(f"plot: {plot(result, args.plot)}")
    return 0
