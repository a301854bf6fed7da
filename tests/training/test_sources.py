"""Training sources as configuration: a marketplace's export trains with a TOML file and a
mapping table; every fault in a configuration is named, exits non-zero and writes nothing."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from training import data
from training.__main__ import main
from training.sources import DEFAULT_CONFIG, SourceError, load_config

EXAMPLE = Path(__file__).parent / "marketplace_export"


@pytest.fixture
def export(tmp_path: Path) -> Path:
    """A writable copy of the example export (products.csv, mapping.csv, sources.toml)."""
    shutil.copytree(EXAMPLE, tmp_path / "export")
    return tmp_path / "export"


def test_the_default_configuration_declares_every_shared_file() -> None:
    config = load_config(DEFAULT_CONFIG)
    shared = sorted(p.name for p in data.SHARED_DATA.glob("*.csv"))
    if not shared:
        pytest.skip("../shared/data is not here")
    assert sorted(s.path.name for s in config.sources) == shared


def test_an_export_is_labelled_by_its_mapping_and_structured_origin_columns() -> None:
    examples = data.load_sources(load_config(EXAMPLE / "sources.toml"))
    assert len(examples) == 56
    by_id = {e.row_id: e for e in examples}
    clusters = Counter(e.cluster for e in examples)
    assert set(clusters) == {"textile_fashion", "culinary", "handicraft", "other", ""}
    # A category no mapping row covers is left out of training.
    assert by_id["SKU9998"].cluster == ""
    # Structured columns decide origin where filled: "Luar Negeri" is abroad ...
    abroad = [e for e in examples if "Varian" in e.title and e.origin == "import"]
    assert abroad
    # ... and the title rules decide where the row has no structured origin.
    assert by_id["SKU9999"].origin == "import"
    assert by_id["SKU0001"].group == "seller_id:S1"


def test_json_lines_and_parquet_exports_read_as_the_csv_does(export: Path) -> None:
    csv_rows = data.read_table(load_config(export / "sources.toml").sources[0])
    (export / "products.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in csv_rows), encoding="utf-8"
    )
    pq.write_table(pa.Table.from_pylist(csv_rows), export / "products.parquet")
    text = (export / "sources.toml").read_text(encoding="utf-8")
    for name in ("products.jsonl", "products.parquet"):
        (export / "other.toml").write_text(text.replace("products.csv", name), encoding="utf-8")
        source = load_config(export / "other.toml").sources[0]
        assert source.format == name.split(".")[1]
        assert data.read_table(source) == csv_rows


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("products.csv", "missing.csv"), "source 'example_marketplace': file .*missing.csv"),
        (('title = "product_title"', 'title = "judul"'), "has no column 'judul'"),
        (('ship_from = "ship_from"', 'ship_from = "asal"'), "has no column 'asal'"),
        (("mapping.csv", "nothing.csv"), "mapping table .*nothing.csv does not exist"),
        (('format = "csv"', 'format = "xlsx"'), "format 'xlsx' is not one of"),
        (("cluster = { mapping", "cluster = { label = 'culinary', mapping"), "exactly one of"),
    ],
)
def test_a_broken_configuration_names_the_source_and_field(
    export: Path, edit: tuple[str, str], message: str
) -> None:
    toml = export / "sources.toml"
    text = toml.read_text(encoding="utf-8").replace(
        'path = "products.csv"', 'path = "products.csv"\nformat = "csv"'
    )
    toml.write_text(text.replace(*edit), encoding="utf-8")
    with pytest.raises(SourceError, match=message):
        data.load_sources(load_config(toml))


def test_an_unknown_cluster_label_in_a_mapping_table_is_named(export: Path) -> None:
    (export / "mapping.csv").write_text(
        "category,cluster,rule\nfashion,apparel,\n", encoding="utf-8"
    )
    with pytest.raises(SourceError, match="line 2: unknown cluster label 'apparel'"):
        load_config(export / "sources.toml")


def test_sources_command_reports_counts_and_unmapped_categories(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["sources", "--config", str(EXAMPLE / "sources.toml")]) == 0
    out = capsys.readouterr().out
    assert "example_marketplace: 56 rows" in out
    assert "bags/backpacks: 1 rows, e.g. Tas Ransel Laptop Anti Air" in out
    assert out.rstrip().endswith("ok")


def test_train_refuses_a_broken_configuration_and_writes_nothing(
    export: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (export / "products.csv").unlink()
    out = tmp_path / "model"
    argv = ["train", "--sources", str(export / "sources.toml"), "--output", str(out)]
    assert main([*argv, "--version", "x"]) == 2
    assert "products.csv does not exist" in capsys.readouterr().err
    assert not out.exists()
    assert main(["sources", "--config", str(export / "sources.toml")]) == 2


@pytest.mark.slow
def test_a_marketplace_trains_on_its_own_export_with_only_a_configuration(
    tmp_path: Path,
) -> None:
    out = tmp_path / "model"
    argv = ["train", "--sources", str(EXAMPLE / "sources.toml"), "--authored"]
    assert main([*argv, "--output", str(out), "--version", "example-1"]) == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [s["name"] for s in manifest["data_sources"]] == ["example_marketplace"]
