"""The fenced code blocks of README.md and docs/*.md, their markers, and what running them needs.

Every block has a marker on the line just before its opening fence, so a block no test knows
fails the tests instead of drifting:

    <!-- example ID -->                    a test runs it or checks it (declared with `covers`)
    <!-- example ID, not run: REASON -->   it cannot run here (a cluster, an engine); a test
                                           checks what can be checked without running it

Commands written in prose (`python -m training export ...`), on every page the repo ships,
are found here too (`prose_commands`) and checked by tests/test_docs_inline.py.
"""

from __future__ import annotations

import ast
import itertools
import os
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

REPO = Path(__file__).resolve().parents[1]
# Each page's blocks belong to one test module: the service's to tests/test_docs_examples.py,
# the commands' and configuration's to tests/test_docs_commands.py.
SERVICE_PAGES = ("README.md", "docs/api.md", "docs/operations.md", "docs/policy.md")
COMMAND_PAGES = ("docs/batch.md", "docs/deployment.md", "docs/training.md")
FENCE = re.compile(r"^```(\S*)$")
MARKER = re.compile(r"^<!-- example (?P<id>[a-z0-9-]+)(?:, not run: (?P<reason>\S.*))? -->$")
# A doc's address of the service, replaced by the test server's.
DOC_HOST = "localhost:8000"

Test = TypeVar("Test", bound=Callable[..., None])


@dataclass(frozen=True)
class Block:
    page: str
    line: int  # of the opening fence, from 1
    language: str
    text: str
    id: str | None
    not_run: str | None  # the reason, for a block marked not run

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


def read_blocks(pages: tuple[str, ...]) -> list[Block]:
    found: list[Block] = []
    for page in pages:
        lines = (REPO / page).read_text(encoding="utf-8").splitlines()
        i = 0
        while i < len(lines):
            fence = FENCE.match(lines[i])
            if fence is None:
                i += 1
                continue
            end = lines.index("```", i + 1)
            marker = MARKER.match(lines[i - 1]) if i else None
            found.append(
                Block(
                    page=page,
                    line=i + 1,
                    language=fence.group(1),
                    text="\n".join(lines[i + 1 : end]) + "\n",
                    id=marker["id"] if marker else None,
                    not_run=marker["reason"] if marker else None,
                )
            )
            i = end + 1
    return found


@dataclass
class Examples:
    """The blocks of some pages, and the ids the tests of one module run or check."""

    pages: tuple[str, ...]
    covered: set[str] = field(default_factory=set)

    def covers(self, *ids: str) -> Callable[[Test], Test]:
        """Declares that the decorated test runs (or, for a block not run, checks) these blocks."""

        def declare(test: Test) -> Test:
            self.covered.update(ids)
            return test

        return declare

    def block(self, id: str) -> Block:
        [found] = [b for b in read_blocks(self.pages) if b.id == id]
        return found

    def problems(self) -> list[str]:
        """Blocks without a marker, ids used twice, blocks no test covers, tests of no block."""
        blocks = read_blocks(self.pages)
        ids = [b.id for b in blocks if b.id is not None]
        problems = [f"{b.where}: no `<!-- example ID -->` marker" for b in blocks if b.id is None]
        problems += [f"{id}: marks two blocks" for id in sorted(set(ids)) if ids.count(id) > 1]
        uncovered = [b for b in blocks if b.id is not None and b.id not in self.covered]
        problems += [f"{b.where} ({b.id}): no test covers it" for b in uncovered]
        problems += [f"{id}: a test covers it, no block has it" for id in self.covered - set(ids)]
        return problems


@dataclass(frozen=True)
class Curl:
    method: str
    path: str
    headers: dict[str, str]
    body: str | None


def curl_commands(text: str) -> list[Curl]:
    """The `curl` commands of a shell block, translated from their arguments as curl reads them:
    `-s` (silent) changes nothing in the answer, `-H 'name: value'` adds a header, `-d DATA`
    sends DATA as a POST's body, and a URL without a scheme is http. Any other option fails:
    it must be translated here before a doc uses it."""
    tokens = shlex.split(text.replace("\\\n", " "), comments=True)
    assert tokens and tokens[0] == "curl", f"not only curl commands: {text!r}"
    commands: list[list[str]] = []
    for token in tokens:
        if token == "curl":
            commands.append([])
        else:
            commands[-1].append(token)
    return [_curl(arguments) for arguments in commands]


def _curl(arguments: list[str]) -> Curl:
    headers: dict[str, str] = {}
    body: str | None = None
    urls: list[str] = []
    rest = iter(arguments)
    for argument in rest:
        if argument == "-s":
            continue
        if argument == "-H":
            name, _, value = next(rest).partition(":")
            headers[name.strip().lower()] = value.strip()
        elif argument == "-d":
            body = next(rest)
        elif argument.startswith("-"):
            raise ValueError(f"curl option {argument} is not translated (tests/docs_blocks.py)")
        else:
            urls.append(argument)
    [url] = urls
    assert url.startswith(DOC_HOST + "/"), url
    return Curl("POST" if body is not None else "GET", url.removeprefix(DOC_HOST), headers, body)


def matches(shown: Any, real: Any, volatile: frozenset[str] = frozenset()) -> bool:
    """An answer shown in a doc against the real one, parsed. In an object, `"...": 0` stands
    for the keys not shown, and a key in `volatile` (a time, a duration) must be there with a
    value of the same type; everything else shown must be equal."""
    if isinstance(shown, dict):
        if not isinstance(real, dict):
            return False
        keys = set(shown) - {"..."}
        if "..." not in shown and set(real) != keys:
            return False
        return all(
            k in real
            and (
                _kind(shown[k]) == _kind(real[k])
                if k in volatile
                else matches(shown[k], real[k], volatile)
            )
            for k in keys
        )
    if isinstance(shown, list):
        return (
            isinstance(real, list)
            and len(shown) == len(real)
            and all(matches(s, r, volatile) for s, r in zip(shown, real, strict=True))
        )
    return _kind(shown) == _kind(real) and bool(shown == real)


def _kind(value: Any) -> str:
    """JSON's types: 1 and 1.0 are both numbers, True is not one."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "number"
    return type(value).__name__


@dataclass(frozen=True)
class Snippet:
    """A Python block ready to run: a last line that is a bare expression with a `# comment`
    printed as the REPL would show it, and what each `print` is shown to print (its line's
    comment, None without one)."""

    code: str
    shown: list[str | None]


def python_snippet(text: str) -> Snippet:
    lines = text.rstrip("\n").split("\n")
    last, _, comment = lines[-1].partition("  # ")
    if comment and isinstance(ast.parse(last).body[0], ast.Expr) and "print(" not in last:
        lines[-1] = f"print(repr({last}))  # {comment}"
    shown: list[str | None] = []
    for line in lines:
        statement, _, comment = line.strip().partition("  # ")
        if statement.startswith("print("):
            shown.append(comment or None)
    return Snippet("\n".join(lines) + "\n", shown)


def printed_as_shown(shown: str, printed: str) -> bool:
    """A printed line against its comment, where `...` stands for anything."""
    return re.fullmatch(".*".join(map(re.escape, shown.split("..."))), printed) is not None


# Commands written in prose: inline code spans, and the shell blocks of the pages beyond README.md
# and docs/ (bench/README.md, model cards), whose blocks no example test runs. A span is a command
# when, after `NAME=value` assignments, it starts with one of these and has an argument: each is
# checked by tests/test_docs_inline.py, which fails on a command it does not know how to check.
COMMANDS = frozenset(
    """python python3 .venv/bin/python make pytest .venv/bin/pytest kubectl curl grpc_health_probe
    promtool docker uvicorn git bash sh pip .venv/bin/pip mlserver apt-get spark-submit
    /usr/bin/time""".split()
)
# `train --seed N`: a `python -m training` subcommand with its options, the CLI left implicit.
TRAINING_SHORTHAND = re.compile(
    r"(train|evaluate|compare|profile|drift|export|screen|sources|rescreen) --"
)
# Folders whose Markdown the repo does not ship: written by commands, or installed.
NOT_SHIPPED = frozenset({"reports", "build", "dist", "htmlcov", "tmp", "__pycache__"})
CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.DOTALL)
ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")


def shipped_pages() -> tuple[str, ...]:
    """Every Markdown page in the repo: README.md, docs/, and those beside the code."""
    pages: list[str] = []
    for folder, folders, files in os.walk(REPO):
        folders[:] = [f for f in folders if not f.startswith(".") and f not in NOT_SHIPPED]
        here = Path(folder).relative_to(REPO)
        pages += [(here / f).as_posix() for f in files if f.endswith(".md")]
    return tuple(sorted(pages))


@dataclass(frozen=True)
class Span:
    page: str
    line: int  # where it starts, from 1
    text: str

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


def code_spans(page: str) -> list[Span]:
    """A page's inline code spans outside its fenced blocks, as CommonMark reads them: within a
    paragraph (or table row), a line break read as a space, one space each side stripped."""
    lines = (REPO / page).read_text(encoding="utf-8").splitlines()
    prose: list[str] = []
    inside = False
    for line in lines:
        if line.startswith("```"):
            inside = not inside
        prose.append("" if inside or line.startswith("```") else line)
    spans: list[Span] = []
    start = 0
    for end in [*(i for i, line in enumerate(prose) if not line.strip()), len(prose)]:
        paragraph = "\n".join(prose[start:end])
        for m in CODE_SPAN.finditer(paragraph):
            text = m.group(2).replace("\n", " ")
            if text.startswith(" ") and text.endswith(" ") and text.strip():
                text = text[1:-1]
            spans.append(Span(page, start + 1 + paragraph.count("\n", 0, m.start()), text))
        start = end + 1
    return spans


def words(text: str) -> list[str]:
    """A command's words as the shell splits them (a text that is not shell: split on spaces)."""
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def is_command(text: str) -> bool:
    rest = list(itertools.dropwhile(ASSIGNMENT.match, words(text)))
    return (len(rest) > 1 and rest[0] in COMMANDS) or TRAINING_SHORTHAND.match(text) is not None


def shell_commands(page: str) -> list[Span]:
    """The commands of a page's shell blocks: each line's, and one its comment gives (`# or:
    CMD`, or a comment that is a command); a comment line of options (`#   [--x N]`) continues
    the command above it."""
    found: list[Span] = []
    for block in read_blocks((page,)):
        if block.language not in ("", "sh"):
            continue
        for i, line in enumerate(block.text.replace("\\\n", " ").splitlines()):
            code, _, comment = line.partition("#")
            comment = comment.strip().removeprefix("or:").strip()
            if not code.strip() and comment.startswith("[") and found:
                last = found[-1]
                found[-1] = Span(last.page, last.line, f"{last.text} {comment}")
                continue
            for text in (code.strip(), comment):
                if is_command(text):
                    found.append(Span(page, block.line + 1 + i, text))
    return found


def prose_commands() -> list[Span]:
    """The commands of every shipped page's prose, and of the shell blocks no example test runs."""
    found: list[Span] = []
    for page in shipped_pages():
        found += [s for s in code_spans(page) if is_command(s.text)]
        if page not in SERVICE_PAGES + COMMAND_PAGES:
            found += shell_commands(page)
    return found
