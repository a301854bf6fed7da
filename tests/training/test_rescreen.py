"""The Spark re-screening job against the service: same listings, same answers.

Runs the job in local mode (one SparkSession for the module) on about 3,000 real titles from
../shared/data, rows with structured origin fields, and invalid rows, and asks the service
(the committed default model through TestClient) about every one of them.
"""

from __future__ import annotations

import csv
import json
import random
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from pyspark.sql import SparkSession

from app.config import Settings
from app.main import create_app
from training import data
from training.__main__ import main as training_main
from training.rescreen.java import ensure_java
from training.rescreen.job import Job, run
from training.rescreen.layout import INPUT_COLUMNS

REPO = Path(__file__).resolve().parents[2]

needs_data = pytest.mark.skipif(
    not data.SHARED_DATA.is_dir(), reason="../shared/data is not present"
)

STRUCTURED: list[dict[str, Any]] = [
    {"ship_from": {"country": "CN", "city": "Guangzhou"}},
    {"seller": {"id": "shop-1", "country": "ID", "city": "Bandung", "cross_border": False}},
    {"seller": {"cross_border": True}},
    {"seller": {"country": "cn"}},
    {"origin_country": "kr"},
    {"ship_from": {"country": "ID"}, "origin_country": "ID"},
    {"price": {"amount": 185000.0, "currency": "IDR"}, "brand": "Sogan Asri"},
    {"description": "Bahan adem, jahitan rapi.\nReady stok M L XL.", "category": "Fashion > Pria"},
]
# (listing, a column its validation message must name); the service answers 422 for each.
INVALID: list[tuple[dict[str, Any], str]] = [
    ({"title": "   "}, "title"),
    ({}, "title"),
    ({"title": "Kaos Polos", "ship_from": {"country": "XX"}}, "ship_from_country"),
    ({"title": "Kaos Polos", "price": {"amount": -5.0}}, "price_amount"),
    ({"title": "Kaos Polos", "price": {"amount": 5.0, "currency": "USD"}}, "price_currency"),
    ({"title": "Kaos Polos", "price": {"currency": "IDR"}}, "price_amount"),
    ({"title": "a" * 501}, "title"),
]


def _flat(listing: dict[str, Any]) -> dict[str, Any]:
    """The listing in the job's flat column layout."""
    row: dict[str, Any] = dict.fromkeys(INPUT_COLUMNS)
    for key, value in listing.items():
        if isinstance(value, dict):
            row.update({f"{key}_{field}": v for field, v in value.items()})
        else:
            row[key] = value
    return row


def _catalogue() -> tuple[list[dict[str, Any]], list[tuple[dict[str, Any], str]]]:
    """(valid listings as the API takes them, invalid ones with the column at fault)."""
    rng = random.Random(11)
    by_name = data.load_sources_by_name()
    picked: list[dict[str, Any]] = []
    for name, n in (
        ("tokopedia_umkm_2025.csv", 1500),
        ("tokopedia_products_2019.csv", 700),
        ("tokopedia_electronics_categories.csv", 600),
        ("tokopedia_seblak.csv", 200),
    ):
        picked += [e.listing() for e in rng.sample(by_name[name], n)]
    for i, extra in enumerate(STRUCTURED * 12):
        picked.append({"title": picked[i]["title"]} | extra)
    valid = [{"listing_id": f"L{i:05d}"} | listing for i, listing in enumerate(picked)]
    invalid = [
        ({"listing_id": f"BAD{i}"} | listing, col) for i, (listing, col) in enumerate(INVALID)
    ]
    return valid, invalid


def _expected(answer: dict[str, Any]) -> dict[str, Any]:
    cluster, origin = answer["cluster"] or {}, answer["origin"] or {}
    return {
        "decision": answer["decision"],
        "shadow_decision": answer["shadow_decision"],
        "cluster": cluster.get("label"),
        "cluster_confidence": cluster.get("confidence"),
        "origin": origin.get("label"),
        "import_probability": origin.get("import_probability"),
        "reasons": answer["reasons"],
        "model_version": answer["model_version"],
        "policy_version": answer["policy_version"],
        "error": None,
    }


def _service(client: TestClient, listings: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for start in range(0, len(listings), 1000):
        batch = listings[start : start + 1000]
        response = client.post("/v1/screen/batch", json={"listings": batch})
        assert response.status_code == 200, response.text
        out |= {r["listing_id"]: _expected(r) for r in response.json()["results"]}
    return out


def _written(output: Path) -> dict[str, dict[str, Any]]:
    frame = pd.read_parquet(output)
    assert frame["listing_id"].is_unique
    rows: dict[str, dict[str, Any]] = {}
    for record in frame.to_dict("records"):
        row: dict[str, Any] = {
            str(k): None if isinstance(v, float) and pd.isna(v) else v for k, v in record.items()
        }
        row["decision"] = str(row["decision"])
        row["reasons"] = list(row["reasons"])
        rows[row.pop("listing_id")] = row
    return rows


def _mismatches(job: dict[str, dict[str, Any]], service: dict[str, dict[str, Any]]) -> list[str]:
    return [
        f"{i}: job {job.get(i)} service {want}" for i, want in service.items() if job.get(i) != want
    ]


def _would_be_blocks(answers: dict[str, dict[str, Any]]) -> tuple[Counter[str], Counter[str]]:
    by_cluster: Counter[str] = Counter()
    by_reason: Counter[str] = Counter()
    for a in answers.values():
        if (a["shadow_decision"] or a["decision"]) == "block":
            by_cluster[a["cluster"]] += 1
            by_reason.update(r for r in a["reasons"] if r != "SHADOW_MODE")
    return by_cluster, by_reason


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    with pytest.MonkeyPatch.context() as mp:
        ensure_java()  # the spark extra's Java when the machine has none
        mp.setenv("PYSPARK_PYTHON", sys.executable)
        mp.setenv("PYSPARK_DRIVER_PYTHON", sys.executable)
        session = (
            SparkSession.builder.master("local[2]")
            .appName("test-rescreen")
            .config("spark.api.mode", "classic")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .getOrCreate()
        )
        session.sparkContext.setLogLevel("ERROR")
        yield session
        session.stop()


@pytest.fixture(scope="module")
def catalogue() -> tuple[list[dict[str, Any]], list[tuple[dict[str, Any], str]]]:
    return _catalogue()


@pytest.fixture(scope="module")
def parquet_run(
    spark: SparkSession,
    catalogue: tuple[list[dict[str, Any]], list[tuple[dict[str, Any], str]]],
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict[str, Any]]:
    valid, invalid = catalogue
    folder = tmp_path_factory.mktemp("rescreen")
    rows = [_flat(listing) for listing in valid + [bad for bad, _ in invalid]]
    schema = pa.schema(
        [
            (
                c,
                pa.float64()
                if c == "price_amount"
                else pa.bool_()
                if c == "seller_cross_border"
                else pa.string(),
            )
            for c in INPUT_COLUMNS
        ]
    )
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), folder / "listings.parquet")
    output = folder / "decisions"
    outcome = run(spark, Job(input=str(folder / "listings.parquet"), output=str(output)))
    assert outcome.report_paths == (
        folder / "decisions-shadow-report.json",
        folder / "decisions-shadow-report.md",
    )
    return output, outcome.report


@needs_data
def test_every_decision_equals_the_services_answer(
    parquet_run: tuple[Path, dict[str, Any]],
    catalogue: tuple[list[dict[str, Any]], list[tuple[dict[str, Any], str]]],
    default_client: TestClient,
) -> None:
    valid, invalid = catalogue
    service = _service(default_client, valid)
    job = _written(parquet_run[0])
    assert len(job) == len(valid) + len(invalid)  # nothing dropped, nothing duplicated
    assert _mismatches(job, service)[:5] == []
    decisions = Counter(a["decision"] for a in service.values())
    assert set(decisions) == {"allow", "block", "review"}  # every branch is compared
    assert sum(1 for a in service.values() if "STRUCTURED_ORIGIN_EVIDENCE" in a["reasons"]) > 20


@needs_data
def test_invalid_rows_are_reviewed_with_the_validation_message(
    parquet_run: tuple[Path, dict[str, Any]],
    catalogue: tuple[list[dict[str, Any]], list[tuple[dict[str, Any], str]]],
    default_client: TestClient,
) -> None:
    job = _written(parquet_run[0])
    for listing, column in catalogue[1]:
        assert default_client.post("/v1/screen", json=listing).status_code == 422
        row = job[listing["listing_id"]]
        assert row["decision"] == "review"
        assert row["reasons"] == ["INVALID_LISTING"]
        assert row["cluster"] is None and row["cluster_confidence"] is None
        assert row["error"].startswith(f"{column}: "), row["error"]
        assert row["model_version"] == default_client.get("/v1/model").json()["version"]


@needs_data
def test_output_is_partitioned_by_decision(
    parquet_run: tuple[Path, dict[str, Any]],
) -> None:
    output = parquet_run[0]
    folders = sorted(p.name for p in output.iterdir() if p.is_dir())
    assert folders == ["decision=allow", "decision=block", "decision=review"]
    everything = _written(output)
    for folder in folders:
        ids = pq.read_table(output / folder).column("listing_id").to_pylist()
        assert ids
        assert {everything[i]["decision"] for i in ids} == {folder.split("=")[1]}


@needs_data
def test_shadow_report_counts_what_the_service_would_block(
    parquet_run: tuple[Path, dict[str, Any]],
    catalogue: tuple[list[dict[str, Any]], list[tuple[dict[str, Any], str]]],
    default_client: TestClient,
) -> None:
    output, report = parquet_run
    service = _service(default_client, catalogue[0])
    by_cluster, by_reason = _would_be_blocks(service)
    decisions = Counter(a["decision"] for a in service.values())
    decisions["review"] += len(catalogue[1])
    written = json.loads((output.parent / "decisions-shadow-report.json").read_text())
    assert written == report
    assert report["listings"] == len(service) + len(catalogue[1])
    assert report["invalid_listings"] == len(catalogue[1])
    assert report["decisions"] == report["would_be_decisions"] == dict(decisions)
    assert report["would_be_blocks"]["by_cluster"] == dict(by_cluster)
    assert report["would_be_blocks"]["by_reason"] == dict(by_reason)
    assert report["policy_mode"] == "enforce"
    markdown = (output.parent / "decisions-shadow-report.md").read_text()
    assert f"| **all** | **{len(service) + len(catalogue[1]):,}** | **{decisions['block']:,}**" in (
        markdown
    )


@needs_data
def test_cli_reads_csv_and_reports_shadow_mode_as_the_service_does(
    spark: SparkSession,
    catalogue: tuple[list[dict[str, Any]], list[tuple[dict[str, Any], str]]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    policy = tmp_path / "shadow-policy.yaml"
    policy.write_text('version: "shadow-test-1"\nmode: shadow\n', encoding="utf-8")
    valid = (
        catalogue[0][:250]
        + catalogue[0][-96:]
        + [
            {"listing_id": "Q1", "title": 'Kaos "Oversize", Pria', "description": "satu\ndua"},
            {
                "listing_id": "Q2",
                "title": "Kemeja Batik",
                "seller": {"cross_border": True},
                "price": {"amount": 1.5e5},
            },
        ]
    )
    invalid = [bad for bad, _ in catalogue[1]] + [
        {"listing_id": "BADNUM", "title": "Kaos", "price": {"amount": "abc"}},
        {"listing_id": "BADBOOL", "title": "Kaos", "seller": {"cross_border": "yes"}},
    ]
    source = tmp_path / "listings.csv"
    with source.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=INPUT_COLUMNS)
        writer.writeheader()
        for listing in valid + invalid:
            writer.writerow(
                {k: str(v).lower() if isinstance(v, bool) else v for k, v in _flat(listing).items()}
            )
    output, report_path = tmp_path / "out", tmp_path / "report" / "shadow.json"
    code = training_main(
        [
            "rescreen",
            "--input",
            str(source),
            "--format",
            "csv",
            "--output",
            str(output),
            "--master",
            "local[2]",
            "--policy",
            str(policy),
            "--shadow-report",
            str(report_path),
        ]
    )
    assert code == 0
    assert "# Shadow-mode report" in capsys.readouterr().out

    with TestClient(create_app(Settings(models_root=REPO / "models", policy_path=policy))) as c:
        service = _service(c, valid)
        assert all(c.post("/v1/screen", json=bad).status_code == 422 for bad in invalid)
    job = _written(output)
    assert _mismatches(job, service)[:5] == []
    assert {a["decision"] for a in service.values()} == {"allow"}
    for bad in invalid:
        row = job[bad["listing_id"]]
        assert (row["decision"], row["shadow_decision"]) == ("allow", "review")
        assert row["reasons"] == ["SHADOW_MODE", "INVALID_LISTING"]
    assert job["BADNUM"]["error"] == "price_amount: Input should be a valid number"
    assert job["BADBOOL"]["error"] == "seller_cross_border: Input should be a valid boolean"

    report = json.loads(report_path.read_text())
    by_cluster, by_reason = _would_be_blocks(service)
    assert report["policy_mode"] == "shadow" and report["policy_version"] == "shadow-test-1"
    assert report["decisions"] == {"block": 0, "review": 0, "allow": len(valid) + len(invalid)}
    assert report["would_be_decisions"]["block"] == sum(by_cluster.values()) > 0
    assert report["would_be_blocks"]["by_cluster"] == dict(by_cluster)
    assert report["would_be_blocks"]["by_reason"] == dict(by_reason)
    assert report_path.with_suffix(".md").is_file()
