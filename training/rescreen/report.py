"""The shadow-mode report: what enforce mode would decide over the whole catalogue.

Counted from the written output, so it describes exactly what was written. The would-be
decision is `shadow_decision` in shadow mode and `decision` in enforce mode: the report reads
the same either way, so a policy change can be measured before it is enforced.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from training.rescreen.layout import INVALID_LISTING, SHADOW_MODE

DECISIONS = ("block", "review", "allow")
NO_CLUSTER = "none"  # invalid listings, and model errors, have no cluster


def build(
    groups: Iterable[tuple[str, str, str | None, list[str], int]], meta: dict[str, Any]
) -> dict[str, Any]:
    """The report from (decision, would-be decision, cluster, reasons, count) groups."""
    decisions: Counter[str] = Counter()
    would_be: Counter[str] = Counter()
    by_cluster: dict[str, Counter[str]] = {}
    block_reasons: dict[str, Counter[str]] = {}
    listings = invalid = 0
    for decision, verdict, cluster, reasons, n in groups:
        listings += n
        invalid += n if INVALID_LISTING in reasons else 0
        decisions[decision] += n
        would_be[verdict] += n
        name = cluster or NO_CLUSTER
        by_cluster.setdefault(name, Counter())[verdict] += n
        if verdict == "block":
            counter = block_reasons.setdefault(name, Counter())
            for reason in reasons:
                if reason != SHADOW_MODE:  # on every row in shadow mode: not why it blocks
                    counter[reason] += n
    blocks_by_reason: Counter[str] = sum(block_reasons.values(), Counter())
    return meta | {
        "listings": listings,
        "invalid_listings": invalid,
        "decisions": {d: decisions[d] for d in DECISIONS},
        "would_be_decisions": {d: would_be[d] for d in DECISIONS},
        "would_be_blocks": {
            "total": would_be["block"],
            "by_cluster": {c: n["block"] for c, n in sorted(by_cluster.items()) if n["block"]},
            "by_reason": dict(sorted(blocks_by_reason.items())),
            "by_cluster_and_reason": {
                c: dict(sorted(r.items())) for c, r in sorted(block_reasons.items())
            },
        },
        "by_cluster": {
            c: {"listings": sum(n.values())} | {d: n[d] for d in DECISIONS}
            for c, n in sorted(by_cluster.items())
        },
    }


def _pct(n: int, total: int) -> str:
    return f"{100 * n / total:.2f}%" if total else "-"


def markdown(report: dict[str, Any]) -> str:
    total = report["listings"]
    lines = [
        "# Shadow-mode report: what enforce mode would decide",
        "",
        f"Model `{report['model_version']}`, policy `{report['policy_version']}` "
        f"(mode `{report['policy_mode']}`); input `{report['input']}`, "
        f"output `{report['output']}`.",
        "",
        f"{total:,} listings, {report['invalid_listings']:,} invalid (review, "
        f"`{INVALID_LISTING}`). Decisions as written: "
        + ", ".join(f"{d} {report['decisions'][d]:,}" for d in DECISIONS)
        + ".",
        "",
        "| cluster | listings | would block | would review | would allow | block rate |",
        "|---|---|---|---|---|---|",
    ]
    for cluster, n in report["by_cluster"].items():
        lines.append(
            f"| {cluster} | {n['listings']:,} | {n['block']:,} | {n['review']:,} | "
            f"{n['allow']:,} | {_pct(n['block'], n['listings'])} |"
        )
    wb = report["would_be_decisions"]
    lines.append(
        f"| **all** | **{total:,}** | **{wb['block']:,}** | **{wb['review']:,}** | "
        f"**{wb['allow']:,}** | **{_pct(wb['block'], total)}** |"
    )
    lines += ["", "Would-be blocks by cluster and reason (a block has one or more reasons):", ""]
    reasons = sorted(report["would_be_blocks"]["by_reason"])
    if reasons:
        lines += ["| cluster | " + " | ".join(reasons) + " |", "|---" * (len(reasons) + 1) + "|"]
        for cluster, counts in report["would_be_blocks"]["by_cluster_and_reason"].items():
            cells = " | ".join(f"{counts.get(r, 0):,}" for r in reasons)
            lines.append(f"| {cluster} | {cells} |")
    else:
        lines.append("(none)")
    return "\n".join(lines) + "\n"


def write(report: dict[str, Any], path: Path) -> tuple[Path, Path]:
    """`path` (JSON) and the same name with `.md` (Markdown)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    md = path.with_suffix(".md")
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    md.write_text(markdown(report), encoding="utf-8")
    return path, md
