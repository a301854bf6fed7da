"""The flat column layout of a catalogue, how a row becomes a `Listing`, and a result a row.

One column per field of `app.schemas.Listing`, its nested objects flattened with `_`
(`price.amount` is `price_amount`, `ship_from.country` is `ship_from_country`), so a
validation error's location joined with `_` names the column at fault. No Spark here: the
executors run this on pandas frames, and tests run it without a cluster.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from app.schemas import Listing
from app.screening.columns import ScreenColumns

# The input columns, in the order the executors receive them. Only `title` must be present;
# a missing column is read as null, and columns not named here are ignored (as the API does).
INPUT_COLUMNS = (
    "listing_id",
    "title",
    "description",
    "category",
    "brand",
    "price_amount",
    "price_currency",
    "seller_id",
    "seller_country",
    "seller_city",
    "seller_cross_border",
    "ship_from_country",
    "ship_from_city",
    "origin_country",
)
NESTED = {
    "price": ("amount", "currency"),
    "seller": ("id", "country", "city", "cross_border"),
    "ship_from": ("country", "city"),
}
TOP_LEVEL = ("listing_id", "title", "description", "category", "brand", "origin_country")

OUTPUT_SCHEMA = (
    "listing_id string, decision string, shadow_decision string, cluster string, "
    "cluster_confidence double, origin string, import_probability double, "
    "reasons array<string>, model_version string, policy_version string, error string"
)
OUTPUT_COLUMNS = tuple(part.split()[0] for part in OUTPUT_SCHEMA.split(", "))

# Listings per `Screener.screen` call: the service's batch size.
CHUNK = 1000
INVALID_LISTING = "INVALID_LISTING"
SHADOW_MODE = "SHADOW_MODE"


class RescreenError(ValueError):
    """The input cannot be read as a catalogue (a column of the wrong type, no title)."""


def _missing(value: Any) -> bool:
    # pandas hands nulls over as None, NaN (numeric columns) or pd.NA, depending on the type.
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return True
    return type(value).__name__ == "NAType"


def _number(value: Any) -> Any:
    # CSV columns arrive as text. Text that is not a number stays text, so validation reports
    # it ("price_amount: Input should be a valid number") instead of it turning into null.
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _boolean(value: Any) -> Any:
    if isinstance(value, str):
        return {"true": True, "false": False}.get(value.strip().lower(), value)
    return value


def listing_dict(row: Mapping[str, Any]) -> dict[str, Any]:
    """The listing as the API would receive it: nulls left out, nested objects rebuilt.

    A nested object is sent only when one of its columns has a value, so a row with only
    `price_currency` fails as `{"price": {"currency": "IDR"}}` would (no amount).
    """
    out = {name: row[name] for name in TOP_LEVEL if not _missing(row.get(name))}
    for obj, fields in NESTED.items():
        sub = {f: row[f"{obj}_{f}"] for f in fields if not _missing(row.get(f"{obj}_{f}"))}
        if sub:
            out[obj] = sub
    if "amount" in out.get("price", {}):
        out["price"]["amount"] = _number(out["price"]["amount"])
    if "cross_border" in out.get("seller", {}):
        out["seller"]["cross_border"] = _boolean(out["seller"]["cross_border"])
    return out


def validate(row: Mapping[str, Any]) -> Listing | str:
    """The row as a `Listing`, or the validation message naming the columns at fault."""
    try:
        return Listing.model_validate(listing_dict(row))
    except ValidationError as exc:
        return "; ".join(
            f"{'_'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )


def result_rows(results: ScreenColumns) -> list[tuple[Any, ...]]:
    """Output rows (OUTPUT_COLUMNS) from the service's answer, one per listing."""
    n = len(results)
    none: list[None] = [None] * n
    cluster, origin = results.cluster, results.origin
    shadow = results.shadow_decisions
    return list(
        zip(
            results.listing_ids,
            results.decisions.tolist(),
            shadow.tolist() if shadow is not None else none,
            cluster.labels.tolist() if cluster else none,
            cluster.confidence.tolist() if cluster else none,
            origin.labels.tolist() if origin else none,
            origin.import_probability.tolist() if origin else none,
            [list(r) for r in results.reason_lists()],
            [results.model_version] * n,
            [results.policy_version] * n,
            none,
            strict=True,
        )
    )


def invalid_row(
    listing_id: Any, message: str, *, mode: str, model_version: str, policy_version: str
) -> tuple[Any, ...]:
    """An invalid row goes to people, never dropped: `review`, as a model error would.

    In shadow mode it is allowed with `shadow_decision` review, as the screener treats
    a model error, so shadow mode still never acts on a listing.
    """
    decision, shadow, reasons = "review", None, [INVALID_LISTING]
    if mode == "shadow":
        decision, shadow, reasons = "allow", "review", [SHADOW_MODE, INVALID_LISTING]
    listing_id = listing_id if isinstance(listing_id, str) else None
    return (
        listing_id,
        decision,
        shadow,
        None,
        None,
        None,
        None,
        reasons,
        model_version,
        policy_version,
        message,
    )
