"""mkdocs hooks: the README is the site's home page and CONTRIBUTING.md its contributing page,
each read from the repository's root, with links rewritten for the site (``docs/x.md`` ->
``x.md``; a file outside the site -> its path as code), so that no link breaks on either."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parents[1]
PAGES = {"index.md": "README.md", "contributing.md": "CONTRIBUTING.md"}
LINK = re.compile(r"(!?)\[([^\]]*)\]\(([^)\s#]+)(#[^)]*)?\)")


def _site_link(match: re.Match[str]) -> str:
    bang, text, target, anchor = match.group(1), match.group(2), match.group(3), match.group(4)
    if target.startswith(("http://", "https://", "mailto:")):
        return match.group(0)
    if target.startswith("docs/"):
        return f"{bang}[{text}]({target[5:]}{anchor or ''})"
    if target in PAGES.values():
        page = next(k for k, v in PAGES.items() if v == target)
        return f"[{text}]({page}{anchor or ''})"
    return f"{text} (`{target}`)"  # a file of the repository, not of the site


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    source = PAGES.get(page.file.src_uri)
    if source is None:
        return markdown
    return LINK.sub(_site_link, (ROOT / source).read_text(encoding="utf-8"))
