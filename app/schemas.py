"""Request and response models of the HTTP API, version 1: the JSON contract."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
)

from app.screening.countries import ISO_3166_ALPHA2
from app.screening.normalize import is_blank

ClusterLabel = Literal["textile_fashion", "culinary", "handicraft", "other"]
OriginLabel = Literal["domestic", "import"]
Decision = Literal["allow", "block", "review"]
PolicyMode = Literal["enforce", "shadow"]

MAX_BATCH = 1000


def _country(value: str) -> str:
    code = value.upper()
    if code not in ISO_3166_ALPHA2:
        raise ValueError(f"'{value}' is not an ISO 3166-1 alpha-2 country code")
    return code


def _title(value: str) -> str:
    if is_blank(value):
        raise ValueError("title has no visible characters")
    return value.strip()


# Lengths are checked on the text as sent, so the OpenAPI limits are exactly what is enforced;
# surrounding whitespace is stripped after the check.
CountryCode = Annotated[str, Field(min_length=2, max_length=2), AfterValidator(_country)]
ShortText = Annotated[str, Field(max_length=200), AfterValidator(str.strip)]


class _Input(BaseModel):
    # Unknown fields are ignored so marketplaces can send their listing objects as they are;
    # known ones are strict (no "1" for a number, no 0 for a boolean): the schema tells the truth.
    model_config = ConfigDict(extra="ignore", strict=True)


class Price(_Input):
    # 1e13 IDR (about 600 million USD) is far above any listing; larger is a client bug.
    amount: float = Field(ge=0, le=1e13, allow_inf_nan=False)
    currency: Literal["IDR"] = "IDR"


class Seller(_Input):
    id: ShortText | None = None
    country: CountryCode | None = None
    city: ShortText | None = None
    cross_border: StrictBool | None = None


class ShipFrom(_Input):
    country: CountryCode | None = None
    city: ShortText | None = None


class Listing(_Input):
    listing_id: Annotated[str, StringConstraints(max_length=200)] | None = None
    title: Annotated[str, Field(min_length=1, max_length=500), AfterValidator(_title)]
    description: Annotated[str, StringConstraints(max_length=20_000)] | None = None
    category: Annotated[str, Field(max_length=500), AfterValidator(str.strip)] | None = None
    brand: ShortText | None = None
    price: Price | None = None
    seller: Seller | None = None
    ship_from: ShipFrom | None = None
    origin_country: CountryCode | None = None

    model_config = ConfigDict(
        extra="ignore",
        strict=True,
        json_schema_extra={
            "examples": [
                {
                    "listing_id": "SKU-88121",
                    "title": "Kemeja Batik Pria Lengan Panjang Katun Primisima Import",
                    "description": "Bahan adem, jahitan rapi. Ready stok M L XL.",
                    "category": "Fashion Pria > Atasan > Kemeja",
                    "brand": "Sogan Asri",
                    "price": {"amount": 185000, "currency": "IDR"},
                    "seller": {
                        "id": "shop-4411",
                        "country": "CN",
                        "city": "Guangzhou",
                        "cross_border": True,
                    },
                    "ship_from": {"country": "CN", "city": "Guangzhou"},
                }
            ]
        },
    )


class BatchRequest(_Input):
    listings: list[Listing] = Field(min_length=1, max_length=MAX_BATCH)


class ClusterResult(BaseModel):
    label: ClusterLabel
    confidence: float = Field(ge=0, le=1)
    scores: dict[ClusterLabel, float]
    evidence: list[str] = Field(description="Title terms that pushed the predicted cluster.")


class OriginResult(BaseModel):
    label: OriginLabel
    confidence: float = Field(ge=0, le=1)
    import_probability: float = Field(ge=0, le=1)
    evidence: list[str] = Field(
        description="Why: structured fields (e.g. 'ship_from.country=CN') or title terms."
    )


class ScreenResult(BaseModel):
    listing_id: str | None
    decision: Decision
    shadow_decision: Decision | None = Field(
        description="In shadow mode: what enforce mode would have decided; null in enforce mode."
    )
    cluster: ClusterResult | None = Field(
        description="Null only when the model failed (reason MODEL_ERROR, decision review)."
    )
    origin: OriginResult | None = Field(
        description="Null only when the model failed (reason MODEL_ERROR, decision review)."
    )
    reasons: list[str]
    model_version: str
    policy_version: str


class BatchResult(BaseModel):
    results: list[ScreenResult]


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    model_version: str | None = None
    policy_version: str | None = None
    reason: str | None = None
    workers: dict[int, str] | None = Field(
        None,
        description="With several workers: what each serves ('model policy'), by pid; after "
        "a reload they agree.",
    )


class ErrorBody(BaseModel):
    code: str
    detail: Any


class DataSource(BaseModel):
    name: str
    sha256: str
    rows: int


class ModelInfo(BaseModel):
    version: str
    created_at: str
    sklearn_version: str
    cluster_labels: list[ClusterLabel]
    origin_labels: list[OriginLabel]
    data_sources: list[DataSource]
    metrics: dict[str, Any]
    artifact_sha256: str
