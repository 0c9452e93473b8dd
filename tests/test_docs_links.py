"""Every relative link in the README and the docs pages points at a file in the repository
(users get the repository, not the project's internal notes)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PAGES = [
    ROOT / "README.md",
    ROOT / "CONTRIBUTING.md",
    *sorted((ROOT / "docs").rglob("*.md")),
    *sorted((ROOT / "examples").rglob("*.md")),
]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_relative_links_resolve(page: Path) -> None:
    missing = [
        target
        for target in LINK.findall(page.read_text(encoding="utf-8"))
        if not target.startswith(("http://", "https://", "mailto:"))
        and not (page.parent / target).exists()
    ]
    assert missing == [], f"{page.name} links to files that do not exist: {missing}"


def test_no_page_cites_what_users_do_not_have() -> None:
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        assert "DESIGN.md" not in text and not re.search(r"\bissue \d+\b", text), page.name
