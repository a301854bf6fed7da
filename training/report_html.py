"""The evaluation report as one HTML file: the Markdown report rendered, its figures embedded
as base64, so it opens anywhere (and the service's /ui can show it) without the PNGs beside it.

Raw HTML in the Markdown is escaped, not passed through: a title in the worst-errors table
(`--with-titles`) is text, whatever it contains. The page holds no script.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

from markdown_it import MarkdownIt

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; color: #1d232b; max-width: 72rem; margin: 2rem auto;
  padding: 0 1rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .9rem; display: block;
  overflow-x: auto; }
th, td { border: 1px solid #d5dbe1; padding: 3px 8px; text-align: left; }
thead th { background: #f0f3f6; }
img { max-width: 100%; height: auto; }
code { background: #f0f3f6; padding: 0 3px; }
"""
# Belt and braces beside the service's own header: the file may be opened from disk.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def render(markdown: str, folder: Path, title: str) -> str:
    """`markdown` as a complete HTML page; images whose source is a PNG in `folder` inlined."""
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    tokens = md.parse(markdown)
    for token in tokens:
        for child in token.children or []:
            source = str(child.attrGet("src") or "")
            if child.type != "image" or "/" in source or not source.endswith(".png"):
                continue
            path = folder / source
            if path.is_file():
                data = base64.b64encode(path.read_bytes()).decode("ascii")
                child.attrSet("src", f"data:image/png;base64,{data}")
    body = md.renderer.render(tokens, md.options, {})
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n"
        f"<body>\n{body}</body>\n</html>\n"
    )
