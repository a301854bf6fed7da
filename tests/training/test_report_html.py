"""report.html: the Markdown report as one page, its PNG figures inside, no HTML let through."""

from __future__ import annotations

import base64
from pathlib import Path

from training import report_html

PNG = b"\x89PNG\r\n\x1a\n\x00tiny"


def test_local_png_figures_are_embedded_and_others_left_alone(tmp_path: Path) -> None:
    (tmp_path / "confusion.png").write_bytes(PNG)
    (tmp_path / "notes.txt").write_text("x")
    markdown = "# Report\n\n![cm](confusion.png)\n\n![gone](missing.png)\n\n![up](../x.png)\n"
    page = report_html.render(markdown, tmp_path, "Evaluation of tiny-1")
    data = base64.b64encode(PNG).decode()
    assert f'<img src="data:image/png;base64,{data}" alt="cm" />' in page
    assert '<img src="missing.png" alt="gone" />' in page
    assert '<img src="../x.png" alt="up" />' in page
    assert "<title>Evaluation of tiny-1</title>" in page


def test_tables_are_rendered_and_html_in_the_text_is_escaped(tmp_path: Path) -> None:
    markdown = "| title | p |\n|---|---|\n| <script>alert(1)</script> Kaos | 0.9 |\n"
    page = report_html.render(markdown, tmp_path, "<r>")
    assert "<table>" in page and "<td>0.9</td>" in page
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Kaos" in page
    assert "<title>&lt;r&gt;</title>" in page
