"""The ML engineer's command line:
`python -m training train|evaluate|compare|profile|drift|export|screen|rescreen`."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from app.screening.claims import NORMALIZER, REVISIONS
from training import data
from training.baselines import BASELINES
from training.check_sources import check, format_check
from training.pipeline import Params
from training.rescreen import cli as rescreen_cli
from training.sources import DEFAULT_CONFIG, SourceError, load_config
from training.train import SEED, TrainConfig, train


def _evaluate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    # Imported here so `train` does not pay for matplotlib.
    from training import report
    from training.evaluate import EvalConfig, run

    baselines = tuple(b for b in args.baselines.split(",") if b)
    unknown = set(baselines) - set(BASELINES)
    if unknown:
        parser.error(f"unknown baselines: {', '.join(sorted(unknown))}")
    start = time.perf_counter()
    ev = run(
        EvalConfig(
            model_dir=args.model,
            sources=args.sources,
            data_dir=args.data_dir,
            hand_labels=args.hand_labels,
            policy=args.policy,
            baselines=baselines,
            limit=args.limit,
            with_titles=args.with_titles,
        )
    )
    output = args.output or data.REPO_ROOT / "reports" / ev.model_version
    path = report.write(ev, output)
    print(report.table(report.HEADLINE, report.headline_rows(ev)))
    for name, why in ev.skipped.items():
        print(f"{name} skipped: {why}")
    print(f"report: {path}, {path.with_suffix('.html')} ({time.perf_counter() - start:.0f}s)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The command line's parser (tests/test_docs_inline.py checks the docs' commands on it)."""
    parser = argparse.ArgumentParser(prog="python -m training", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="fit a model, print validation metrics, save it")
    t.add_argument("--version", default=None, help="model version (default: akar-YYYYMMDD-HHMM)")
    t.add_argument("--output", type=Path, default=None, help="folder (default: models/<version>)")
    t.add_argument(
        "--overwrite",
        "--force",
        action="store_true",
        help="replace a model already in the output folder",
    )
    _source_arguments(t)
    t.add_argument(
        "--authored",
        type=Path,
        nargs="*",
        default=list(data.AUTHORED),
        help="our own example files (default: both in training/data/authored); none: --authored",
    )
    t.add_argument("--hand-labels", type=Path, default=data.VALIDATION_LABELS)
    t.add_argument(
        "--dev-labels",
        type=Path,
        default=data.DEV_LABELS,
        help="hand-checked development set (choices are made on it)",
    )
    t.add_argument("--limit", type=int, default=None, help="rows per source (quick runs)")
    t.add_argument(
        "--corrections",
        type=Path,
        default=data.CORRECTIONS,
        help="hand-read cluster labels that replace the mapping's for those training rows",
    )
    t.add_argument(
        "--seed",
        type=int,
        default=SEED,
        help="seed of the training randomness (the shop split stays fixed)",
    )
    t.add_argument(
        "--normalizer",
        type=int,
        choices=REVISIONS,
        default=NORMALIZER,
        help=f"revision of the text normaliser (default {NORMALIZER}; 1 as before akar-1.6.0)",
    )
    t.add_argument(
        "--set-default",
        action="store_true",
        help="point models/DEFAULT at the new model (promote it)",
    )

    e = sub.add_parser("evaluate", help="score a saved model and baselines, write a report")
    e.add_argument("--model", type=Path, default=None, help="folder (default: models/DEFAULT)")
    e.add_argument("--output", type=Path, default=None, help="folder (default: reports/<version>)")
    _source_arguments(e)
    e.add_argument("--hand-labels", type=Path, default=data.VALIDATION_LABELS)
    e.add_argument("--policy", type=Path, default=None, help="policy file (default: the app's)")
    e.add_argument(
        "--baselines",
        default=",".join(BASELINES),
        help=f"comma-separated, from {', '.join(BASELINES)}; empty for none",
    )
    e.add_argument("--limit", type=int, default=None, help="baseline training rows per source")
    e.add_argument(
        "--with-titles",
        action="store_true",
        help="show third-party titles in the worst errors (use an output outside the repo)",
    )

    s = sub.add_parser("screen", help="screen a CSV or JSONL file of listings on this machine")
    s.add_argument("file", type=Path, help="listings: .csv (flat columns) or .jsonl (API objects)")
    s.add_argument("--output", type=Path, required=True, help="decisions: .csv or .jsonl")
    s.add_argument("--model", type=Path, default=None, help="model folder (default: DEFAULT)")
    s.add_argument("--policy", type=Path, default=None, help="policy file (default: packaged)")

    c = sub.add_parser(
        "sources", help="check a training-source configuration: files, columns, labels, gaps"
    )
    _source_arguments(c)

    x = sub.add_parser(
        "export", help="add the compiled serving form (serving.npz) to an existing model folder"
    )
    x.add_argument("model", type=Path, help="model folder, e.g. models/akar-1.8.0")

    r = sub.add_parser("rescreen", help="screen a whole catalogue on Spark, partitioned output")
    rescreen_cli.add_arguments(r)

    _model_commands_arguments(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from training.screen_file import ScreenFileError

    try:
        return _run(parser, args)
    except (SourceError, ScreenFileError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def _model_commands_arguments(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    m = sub.add_parser(
        "compare", help="model B against model A on the hand-checked sets, bootstrap intervals"
    )
    m.add_argument("model_a", type=Path, help="the serving model's folder, e.g. models/akar-1.8.0")
    m.add_argument("model_b", type=Path, help="the candidate's folder")
    _source_arguments(m)
    m.add_argument("--hand-labels", type=Path, default=data.VALIDATION_LABELS)
    m.add_argument("--dev-labels", type=Path, default=data.DEV_LABELS)
    m.add_argument("--policy", type=Path, default=None, help="policy file (default: the app's)")
    m.add_argument("--resamples", type=int, default=2000, help="bootstrap resamples")
    m.add_argument("--seed", type=int, default=None, help="bootstrap seed (default: fixed)")
    m.add_argument("--out", type=Path, default=None, help="also write the table to this file")

    p = sub.add_parser(
        "profile", help="write a model folder's reference profile (validation traffic, drift)"
    )
    p.add_argument("model", type=Path, help="model folder, e.g. models/akar-1.8.0")
    _source_arguments(p)
    p.add_argument("--hand-labels", type=Path, default=data.VALIDATION_LABELS)
    p.add_argument("--policy", type=Path, default=None, help="policy file (default: the app's)")

    d = sub.add_parser(
        "drift", help="PSI per feature of a decisions file against the model's reference profile"
    )
    d.add_argument("--decisions", type=Path, required=True, help="from screen or rescreen")
    d.add_argument("--model", type=Path, default=None, help="model folder (default: DEFAULT)")
    d.add_argument(
        "--listings", type=Path, default=None, help="the screened listings (titles: unknown words)"
    )
    d.add_argument("--plot", type=Path, default=None, help="write reference vs live as a PNG")


def _source_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--sources",
        "--config",
        type=Path,
        default=DEFAULT_CONFIG,
        help="training-source configuration (default: training/sources.toml)",
    )
    p.add_argument(
        "--data-dir", type=Path, default=None, help="data root (default: the configuration's)"
    )


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.command == "sources":
        report = check(load_config(args.sources, args.data_dir))
        print(format_check(report))
        return 0 if report.ok else 2
    if args.command == "screen":
        from training.screen_file import screen_file

        summary = screen_file(
            args.file,
            args.output,
            model_dir=args.model,
            policy=args.policy,
            models_root=data.REPO_ROOT / "models",
        )
        print(
            f"{summary.rows} listings screened ({summary.invalid} invalid) -> {args.output}: "
            f"{summary.decisions}"
        )
        if summary.rows and summary.invalid == summary.rows:
            print("error: no row was valid (see the error column)", file=sys.stderr)
            return 1
        return 0
    if args.command == "rescreen":
        return rescreen_cli.run(args)
    if args.command == "export":
        from app.screening.store import export_serving

        manifest = export_serving(args.model)
        print(f"{args.model / str(manifest.serving_artifact)}: sha256 {manifest.serving_sha256}")
        return 0
    if args.command == "evaluate":
        return _evaluate(parser, args)
    if args.command in ("compare", "profile", "drift"):
        from training.model_commands import run_command

        return run_command(args)
    if args.command == "train":
        version = args.version or datetime.now(UTC).strftime("akar-%Y%m%d-%H%M")
        output = args.output or data.REPO_ROOT / "models" / version
        if (output / "manifest.json").exists() and not args.overwrite:
            # A version names one model: retraining under a served (or committed) one's name
            # would silently replace it.
            print(
                f"error: {output} already holds a model; choose another --version, "
                "or pass --overwrite to replace it",
                file=sys.stderr,
            )
            return 2
        # Every source is read and checked before anything is fitted or written.
        report = check(load_config(args.sources, args.data_dir))
        if not report.ok:
            print(format_check(report), file=sys.stderr)
            return 2
        train(
            TrainConfig(
                output=output,
                version=version,
                sources=args.sources,
                data_dir=args.data_dir,
                authored=tuple(args.authored),
                hand_labels=args.hand_labels,
                dev_labels=args.dev_labels,
                corrections=args.corrections,
                limit=args.limit,
                params=Params(normalizer=args.normalizer),
                seed=args.seed,
            )
        )
        if args.set_default:
            (output.parent / "DEFAULT").write_text(output.name + "\n", encoding="utf-8")
            print(f"models/DEFAULT -> {output.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
