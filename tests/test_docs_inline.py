"""The commands written in prose, on every page the repo ships (README.md, docs/, bench/, model
cards, data READMEs): `python -m training export models/<version>` in a sentence, or a benchmark's
`# or: .venv/bin/python -m bench.http [--workers 1 2]` (tests/docs_blocks.py finds them). None is
run for its work; each is checked against what it names, so a renamed flag, target, path or
setting fails here:

- `python -m MODULE ARGS`: the CLI's own parser (its `build_parser()`) accepts the arguments,
  placeholders filled in (`N`, `DIR`, `<version>`, `$AKAR_PORT`); `...` leaves the rest out (the
  options given must be the command's); a CLI or subcommand alone names it: it must exist;
- `python path/to/script.py`: the script exists and, run on a copy, writes what is committed;
- `make TARGET`: a target of the Makefile, whose dry run uses the variables set before it;
- `pytest PATHS`: the paths and plugins exist, the options are pytest's;
- `kubectl`, `promtool`, `grpc_health_probe`, `uvicorn`, `pip`, `git`, `mlserver`, `apt-get`:
  the files, labels, resources, ports, options, extras or revisions they name exist;
- `AKAR_...` variables (in commands and anywhere in prose): settings, with a value of the
  setting's type, or variables that the file said to read them reads;
- metric names (`akar_...`) and PromQL in prose: names the service exports; an expression parses;
- an option named alone (`--seed`, `--logs DIR`): an option of one of the repo's command lines
  (or of uvicorn, a pytest plugin, the docs' spark-submit, a sampling script).

A command no check knows fails, unless ALLOWED gives why it is not checked.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import io
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Callable
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from pydantic import TypeAdapter

from app.config import SETTINGS_FILE_VARIABLE, Settings
from tests.deploy.promql import (
    PROMTOOL,
    check_expressions_parse,
    exported_names,
    metric_names,
    needs_promtool,
    output,
)
from tests.docs_blocks import (
    ASSIGNMENT,
    REPO,
    TRAINING_SHORTHAND,
    Span,
    code_spans,
    is_command,
    prose_commands,
    shipped_pages,
    words,
)

# Commands the checks below do not know, each with why it is left unchecked.
ALLOWED: dict[str, str] = {}
# AKAR_ variables that are not settings, and the file that reads each.
OTHER_VARIABLES = {
    SETTINGS_FILE_VARIABLE: "app/config.py",
    "AKAR_PORT": "Dockerfile",  # the image's CMD: python -m app --port
    "AKAR_WORKERS": "Dockerfile",  # and --workers
    "AKAR_UI_ARTIFACTS": "tests/ui/conftest.py",
    "AKAR_FUZZ_EXAMPLES": "tests/support.py",
}
# Placeholders in commands, and what stands in for them when the command is parsed.
PLACEHOLDER = re.compile(r"<[a-z-]+>|\b(?:N|DIR|FILE)\b")
SHELL_VARIABLE = re.compile(r"\$\{?(\w+)\}?")
K8S = REPO / "deploy" / "k8s"
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
# The scripts a doc runs with `python path`, and how the test runs each on a copy of the repo.
SCRIPTS = {"deploy/prometheus/prometheusrule.py": "deploy"}

COMMANDS = prose_commands()


def _dockerfile_env() -> dict[str, str]:
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    return dict(re.findall(r"^\s+(AKAR_\w+)=(\S+)", text, re.M))


def _fill(word: str) -> str:
    """A word with its placeholders filled: N a number, DIR and the like a name, $VAR the
    image's value."""
    word = PLACEHOLDER.sub(lambda m: "1" if m.group() == "N" else "x", word)
    env = _dockerfile_env()
    for name in SHELL_VARIABLE.findall(word):
        _check_variable(name, None)
    return SHELL_VARIABLE.sub(lambda m: env.get(m.group(1), "1"), word)


def _check_variable(name: str, value: str | None) -> None:
    """A setting (its value of the setting's type), or a variable its reader reads."""
    fields = {f"AKAR_{n.upper()}": f for n, f in Settings.model_fields.items()}
    if name in fields:
        annotation = fields[name].annotation
        if value is not None and annotation is not None:
            TypeAdapter(annotation).validate_python(value)
        return
    assert name in OTHER_VARIABLES, f"{name} is not a setting nor a variable something reads"
    assert name in (REPO / OTHER_VARIABLES[name]).read_text(encoding="utf-8"), name


def _parser(module: str) -> argparse.ArgumentParser:
    """The parser of what `python -m module` runs: its `build_parser()`."""
    spec = importlib.util.find_spec(module)
    assert spec is not None, f"no module {module}"
    target = f"{module}.__main__" if spec.submodule_search_locations else module
    build = getattr(importlib.import_module(target), "build_parser", None)
    assert build is not None, f"{target} has no build_parser(): its arguments cannot be checked"
    parser = build()
    assert isinstance(parser, argparse.ArgumentParser)
    return parser


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            choices: dict[str, argparse.ArgumentParser] = action.choices
            return choices
    return {}


def _accepts(parser: argparse.ArgumentParser, args: list[str]) -> None:
    """The parser takes the arguments, or, with `...` among them, the options given are its."""
    if "..." in args:
        sub = _subcommands(parser).get(args[0]) if args else None
        own = (sub or parser)._option_string_actions
        given = [a for a in args if a.startswith("-")]
        assert all(a in own for a in given), f"{given} not all in {sorted(own)}"
        return
    subcommands = _subcommands(parser)
    if not args or (len(args) == 1 and args[0] in subcommands):
        return  # names the CLI, or one of its commands
    errors = io.StringIO()
    with contextlib.redirect_stderr(errors):
        try:
            parser.parse_args(args)
        except SystemExit:
            pytest.fail(f"arguments {args}: {errors.getvalue().strip().splitlines()[-1]}")


def _check_python(args: list[str]) -> None:
    if args[0] == "-m":
        _accepts(_parser(args[1]), [_fill(a) for a in args[2:]])
        return
    script, *rest = args
    assert script in SCRIPTS and not rest, f"python {script}: not a script the test runs"
    _check_script(script)


def _check_script(script: str) -> None:
    """Runs the script on a copy of the folder it writes to: it writes what is committed."""
    folder = SCRIPTS[script]
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / folder
        shutil.copytree(REPO / folder, copy)
        done = subprocess.run(
            [sys.executable, str(Path(tmp) / script)], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        for path in copy.rglob("*"):
            if path.is_file():
                committed = REPO / path.relative_to(tmp)
                assert path.read_bytes() == committed.read_bytes(), f"{script} changes {path}"


def _makefile_targets() -> set[str]:
    text = (REPO / "Makefile").read_text(encoding="utf-8")
    return {t for line in re.findall(r"^([\w .-]+):(?!=)", text, re.M) for t in line.split()}


def _check_make(args: list[str], assignments: dict[str, str]) -> None:
    targets = [a for a in args if "=" not in a]
    assert targets and set(targets) <= _makefile_targets(), f"make {args}: no such target"
    variables = {k: v for k, v in assignments.items() if not k.startswith("AKAR_")}
    text = (REPO / "Makefile").read_text(encoding="utf-8")
    assert all(re.search(rf"^{k}\s*\??=", text, re.M) for k in variables), variables
    if shutil.which("make") is None:
        return
    dry = subprocess.run(
        ["make", "-n", *args, *(f"{k}={v}" for k, v in variables.items())],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert dry.returncode == 0, dry.stderr
    assert all(v in dry.stdout for v in variables.values()), dry.stdout  # the recipe uses them


@cache
def _plugin_sources() -> str:
    """The source of the installed pytest plugins (entry points), where their options are."""
    sources = []
    for entry in entry_points(group="pytest11"):
        spec = importlib.util.find_spec(entry.module)
        if spec is not None and spec.origin is not None:
            sources.append(Path(spec.origin).read_text(encoding="utf-8"))
    return "\n".join(sources)


def _check_pytest(args: list[str]) -> None:
    rest = iter(args)
    for arg in rest:
        if arg == "-p":
            plugin = next(rest)
            assert importlib.util.find_spec(plugin) is not None, f"no plugin {plugin}"
        elif arg.startswith("-"):
            assert arg == "-q" or f'"{arg}"' in _plugin_sources(), f"pytest has no option {arg}"
        elif arg != "...":
            assert (REPO / arg.split("::")[0]).exists(), f"no {arg}"


def _k8s_objects() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for path in sorted(K8S.glob("*.yaml")):
        found += [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    return found


def _check_kubectl(args: list[str]) -> None:
    match args:
        case ["apply", "-k", folder]:
            assert (REPO / folder / "kustomization.yaml").is_file(), (
                f"no {folder}/kustomization.yaml"
            )
            kustomization = yaml.safe_load((REPO / folder / "kustomization.yaml").read_text())
            assert all((REPO / folder / r).is_file() for r in kustomization["resources"])
            if shutil.which("kubectl") is not None:  # renders it, offline
                done = subprocess.run(
                    ["kubectl", "kustomize", folder], cwd=REPO, capture_output=True, timeout=60
                )
                assert done.returncode == 0, done.stderr
        case ["apply", "-f", file]:
            manifest = yaml.safe_load((REPO / file).read_text(encoding="utf-8"))
            assert manifest["apiVersion"] and manifest["kind"], file
        case ["get", "pods", "-l", selector]:
            key, _, value = selector.partition("=")
            deployments = [o for o in _k8s_objects() if o["kind"] == "Deployment"]
            labels = [o["spec"]["template"]["metadata"]["labels"] for o in deployments]
            assert any(pods.get(key) == value for pods in labels), selector
        case ["rollout", "restart" | "status", resource]:
            kind, _, name = resource.partition("/")
            objects = _k8s_objects()
            names = {o["metadata"]["name"] for o in objects if o["kind"] == "Deployment"}
            assert kind == "deployment" and name in names, resource
        case _:
            pytest.fail(f"kubectl {' '.join(args)}: no check knows it")


def _check_probe(args: list[str]) -> None:
    """grpc_health_probe's `-addr`: the image's gRPC port, the Deployment's, the default host."""
    [address] = [a.removeprefix("-addr=") for a in args if a.startswith("-addr=")]
    assert len(args) == 1, f"grpc_health_probe options other than -addr: {args}"
    host, _, port = address.rpartition(":")
    assert host == Settings.model_fields["grpc_host"].default, host
    assert port == _dockerfile_env()["AKAR_GRPC_PORT"], port
    ports = (REPO / "deploy" / "k8s" / "deployment.yaml").read_text(encoding="utf-8")
    assert re.search(rf"name: grpc\s+containerPort: {port}\b", ports), port


def _check_promtool(args: list[str]) -> None:
    assert args in (["test", "rules"], ["check", "rules"]), args
    assert sorted((REPO / "deploy" / "prometheus" / "tests").glob("*.yaml"))
    if PROMTOOL is not None:
        assert subprocess.run([PROMTOOL, *args, "--help"], capture_output=True).returncode == 0


def _check_uvicorn(args: list[str]) -> None:
    command = importlib.import_module("uvicorn.main").main  # click's (uvicorn.main is a function)
    options = {o for p in command.params for o in p.opts}
    assert all(a in options for a in args if a.startswith("-")), args


def _check_pip(args: list[str]) -> None:
    pins = [Requirement(r) for r in PYPROJECT["project"]["dependencies"]]
    for extra in PYPROJECT["project"]["optional-dependencies"].values():
        pins += [Requirement(r) for r in extra]
    match args:
        case ["install", "-e", editable] if editable.startswith(".["):
            extras = Requirement("akar-gate" + editable.removeprefix(".")).extras
            assert extras <= set(PYPROJECT["project"]["optional-dependencies"]), editable
        case ["install", package]:
            wanted = Requirement(package)
            assert any(wanted.name == p.name and wanted.extras <= p.extras for p in pins), package
        case _:
            pytest.fail(f"pip {' '.join(args)}: no check knows it")


def _check_git(args: list[str]) -> None:
    """`git archive REV PATH | tar -x -C DIR`: PATH is in REV (where this clone has REV)."""
    match args:
        case ["archive", revision, path, "|", "tar", "-x", "-C", _]:
            if shutil.which("git") is None:
                pytest.skip("git is not installed")
            known = subprocess.run(["git", "rev-parse", "-q", "--verify", revision], cwd=REPO)
            if known.returncode != 0:
                pytest.skip(f"{revision} is not in this clone's history")
            has = subprocess.run(["git", "cat-file", "-e", f"{revision}:{path}"], cwd=REPO)
            assert has.returncode == 0, f"{path} is not in {revision}"
        case _:
            pytest.fail(f"git {' '.join(args)}: no check knows it")


def _check_mlserver(args: list[str]) -> None:
    """MLServer's own command, in its venv: the one bench/mlserver.py starts."""
    assert args == ["start"], args
    assert '[str(mlserver), "start", str(folder)]' in (REPO / "bench" / "mlserver.py").read_text()


def _check_apt(args: list[str]) -> None:
    """A Debian package installed by hand: the Makefile's recipe installs it the same way."""
    assert f"apt-get {' '.join(args)}" in (REPO / "Makefile").read_text(encoding="utf-8"), args


CHECKS: dict[str, Callable[[list[str]], None]] = {
    "python": _check_python,
    "python3": _check_python,
    ".venv/bin/python": _check_python,
    "pytest": _check_pytest,
    ".venv/bin/pytest": _check_pytest,
    "kubectl": _check_kubectl,
    "grpc_health_probe": _check_probe,
    "promtool": _check_promtool,
    "uvicorn": _check_uvicorn,
    "pip": _check_pip,
    "git": _check_git,
    "mlserver": _check_mlserver,
    "apt-get": _check_apt,
}


def check_command(text: str) -> None:
    """Fails on a command a check finds wrong, or that no check knows."""
    expanded = re.sub(r"\[(--[^\[\]]*)\]", r"\1", text)  # a synopsis' optional parts, given
    all_words = words(expanded)
    if TRAINING_SHORTHAND.match(expanded):  # `train --seed N`
        all_words = ["python", "-m", "training", *all_words]
    assignments: dict[str, str] = {}
    while ASSIGNMENT.match(all_words[0]):
        name, _, value = all_words.pop(0).partition("=")
        assignments[name] = value
        if name.startswith("AKAR_"):
            _check_variable(name, value)
    if all_words[0] == "/usr/bin/time":  # times the command after it
        all_words.pop(0)
    command, *args = all_words
    if command == "make":
        _check_make(args, assignments)
    elif command in CHECKS:
        assert not assignments.keys() - {n for n in assignments if n.startswith("AKAR_")}, text
        CHECKS[command](args)
    else:
        pytest.fail(f"no check knows `{command}`: check it here, or allow it in ALLOWED")


@pytest.mark.parametrize(
    "span", [s for s in COMMANDS if s.text not in ALLOWED], ids=lambda s: s.where
)
def test_each_command_in_prose_names_what_exists(span: Span) -> None:
    try:
        check_command(span.text)
    except AssertionError as e:
        raise AssertionError(f"{span.where}: `{span.text}`: {e}") from e


def test_the_pages_searched_are_every_page_shipped() -> None:
    pages = shipped_pages()
    assert {"README.md", "bench/README.md", "models/akar-1.8.0/MODEL_CARD.md"} <= set(pages)
    assert not any(p.startswith(("reports/", ".venv/")) for p in pages)
    found = {s.page for s in COMMANDS}
    assert found >= {"README.md", "docs/deployment.md", "bench/README.md", "bench/results/http.md"}
    # A span broken over two lines, and a shell block's `# or:` with its options' comment line.
    texts = {s.text for s in COMMANDS}
    assert "HOST=0.0.0.0 PORT=9000 make run" in texts
    assert any(
        t.startswith(".venv/bin/python -m bench.http") and "--no-mlserver" in t for t in texts
    )


def test_the_training_shorthand_is_the_training_subcommands() -> None:
    subcommands = _subcommands(_parser("training"))
    named = TRAINING_SHORTHAND.pattern.split(")")[0].removeprefix("(").split("|")
    assert sorted(named) == sorted(subcommands)


def test_every_allowed_command_is_still_in_a_page() -> None:
    assert set(ALLOWED) <= {s.text for s in COMMANDS}


def test_every_akar_variable_in_prose_is_a_setting_or_read() -> None:
    for page in shipped_pages():
        for span in code_spans(page):
            for name, value in re.findall(r"\b(AKAR_[A-Z0-9_]+)(?:=([^\s`]+))?", span.text):
                try:
                    _check_variable(name, value or None)
                except (AssertionError, ValueError) as e:
                    raise AssertionError(f"{span.where}: `{span.text}`: {e}") from e


# The command lines whose options prose names alone (`--seed`, `--logs DIR`).
CLIS = ["training", "app"] + [
    f"bench.{m}" for m in "inprocess http grpc spark soak attacks mlserver".split()
]


def _known_options() -> set[str]:
    """The options of the repo's command lines (each subcommand's too), uvicorn's, the pytest
    plugins', spark-submit's in docs/batch.md's cluster block, and the sampling scripts'."""
    known: set[str] = set()
    for cli in CLIS:
        parser = _parser(cli)
        for each in [parser, *_subcommands(parser).values()]:
            known |= set(each._option_string_actions)
    command = importlib.import_module("uvicorn.main").main
    known |= {o for p in command.params for o in p.opts}
    known |= set(re.findall(r'"(--[a-z][\w-]*)"', _plugin_sources()))
    batch = (REPO / "docs" / "batch.md").read_text(encoding="utf-8").replace("\\\n", " ")
    for line in re.findall(r"^spark-submit .*$", batch, re.M):
        known |= set(re.findall(r"(?<!\S)(--[a-z][\w-]*)", line))
    for script in (REPO / "training" / "data").rglob("*.py"):
        known |= set(re.findall(r'"(--[a-z][\w-]*)" in', script.read_text(encoding="utf-8")))
    return known


def test_every_option_named_alone_in_prose_is_a_commands_option() -> None:
    spans = [s for page in shipped_pages() for s in code_spans(page) if s.text.startswith("--")]
    assert len(spans) >= 20
    known = _known_options()
    unknown = [f"{s.where}: {s.text}" for s in spans if s.text.split()[0] not in known]
    assert unknown == []


def _metric_spans() -> list[Span]:
    """Spans naming metrics (`akar_...`, a selector, an expression), not a logger's name."""
    spans = [s for page in shipped_pages() for s in code_spans(page)]
    return [s for s in spans if re.search(r"\bakar_[a-z_]+\b(?!\.)", s.text)]


@pytest.fixture(scope="module")
def exported(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """The names a test app's /metrics shows, and a histogram's or counter's family name."""
    names = exported_names(tiny_model_dir, tmp_path_factory.mktemp("policy"))
    suffixes = ("_bucket", "_count", "_sum", "_created")
    return names | {n.removesuffix(s) for n in names for s in suffixes if n.endswith(s)}


def test_every_metric_named_in_prose_is_exported(exported: set[str]) -> None:
    spans = _metric_spans()
    assert len(spans) >= 20
    unknown = {s.where: metric_names(s.text) - exported for s in spans}
    assert {where: names for where, names in unknown.items() if names} == {}


@needs_promtool
def test_every_expression_in_prose_parses(tmp_path: Path) -> None:
    exprs = {f"expr_{i}": s.text for i, s in enumerate(_metric_spans()) if "(" in s.text}
    assert exprs  # docs/policy.md's shadow block share
    result = check_expressions_parse(exprs, tmp_path)
    assert result.returncode == 0, output(result)


@pytest.mark.parametrize(
    "broken",
    [
        "python -m training export --model models/akar-1.8.0",  # export takes a folder
        "python -m training evaluate --models DIR",
        "python -m bench.soak --seconds 300 --clients 8",
        "python -m bench.attacks --workers 1 --attackers ...",
        "python -m app --workers two",
        "train --seeds N",
        "AKAR_GRPC_PORT=eighty make run",
        "AKAR_GRPC_PROT=8001 make run",
        "make bench-everything",
        "HOSTNAME=0.0.0.0 make run",
        "AKAR_UI_ARTIFACTS=docs/ui .venv/bin/pytest tests/web",
        "kubectl apply -k deploy/kubernetes",
        "kubectl rollout status",
        "kubectl get pods -l app=akar-gate",
        "grpc_health_probe -addr=127.0.0.1:50051",
        "pip install -e '.[benchmarks]'",
        "uvicorn --processes 2",
        "docker run akar-gate",
        "python deploy/prometheus/rules.py",
    ],
)
def test_a_wrong_command_fails_its_check(broken: str) -> None:
    assert is_command(broken)
    with pytest.raises((AssertionError, pytest.fail.Exception, ValueError)):
        check_command(broken)
