"""The ML engineer's command line: `python -m training train|evaluate ...`."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from training import data
from training.train import TrainConfig, train


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="fit a model, print validation metrics, save it")
    t.add_argument("--version", default=None, help="model version (default: akar-YYYYMMDD-HHMM)")
    t.add_argument("--output", type=Path, default=None, help="folder (default: models/<version>)")
    t.add_argument("--data-dir", type=Path, default=data.SHARED_DATA)
    t.add_argument("--authored", type=Path, default=data.AUTHORED)
    t.add_argument("--hand-labels", type=Path, default=data.VALIDATION_LABELS)
    t.add_argument("--limit", type=int, default=None, help="rows per source (quick runs)")
    t.add_argument(
        "--set-default",
        action="store_true",
        help="point models/DEFAULT at the new model (promote it)",
    )

    args = parser.parse_args(argv)
    if args.command == "train":
        version = args.version or datetime.now(UTC).strftime("akar-%Y%m%d-%H%M")
        output = args.output or data.REPO_ROOT / "models" / version
        if not (args.data_dir / data.UMKM).is_file():
            print(f"error: listing data not found in {args.data_dir}", file=sys.stderr)
            return 2
        train(
            TrainConfig(
                output=output,
                version=version,
                data_dir=args.data_dir,
                authored=args.authored if args.authored.is_file() else None,
                hand_labels=args.hand_labels,
                limit=args.limit,
            )
        )
        if args.set_default:
            (output.parent / "DEFAULT").write_text(output.name + "\n", encoding="utf-8")
            print(f"models/DEFAULT -> {output.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
