"""MkDocs hooks: the pages that live outside docs/ (README, CONTRIBUTING, the benchmark results)
join the site, and every relative link is written so that it works both on GitHub (where a
page's links are relative to its file in the repository) and in the built site.

Why a hook and not a plugin: the three pages must stay where GitHub shows them (the repository's
front page, its contributing guide, the benchmarks folder), and MkDocs only builds docs_dir; a
plugin such as include-markdown would need a stub page per file and a dependency more.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent
# a page kept outside docs/ (its path in the repository) -> its place in the site
OUTSIDE = {"README.md": "index.md", "CONTRIBUTING.md": "contributing.md", "benchmarks/README.md": "benchmarks.md"}
INSIDE = {site: real for real, site in OUTSIDE.items()}
LINK = re.compile(r"(\]\(|<img src=\")([^)\s\"]+)")


def on_files(files: Files, config) -> Files:
    for real, site in OUTSIDE.items():
        files.append(File.generated(config, site, abs_src_path=str(ROOT / real)))
    return files


def site_target(page_real: str, target: str) -> str | None:
    """Where a link written in the repository file `page_real` points in the site (None: leave it)."""
    if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith(("#", "/")):
        return None  # a URL, an anchor on the same page, or an absolute path
    path, _, anchor = target.partition("#")
    real = posixpath.normpath(posixpath.join(posixpath.dirname(page_real), path))
    if real in OUTSIDE:
        site = OUTSIDE[real]
    elif real.startswith("docs/"):
        site = real.removeprefix("docs/")
    else:
        return None  # outside the site: MkDocs' strict link check names it
    return site + (f"#{anchor}" if anchor else "")


def on_page_markdown(markdown: str, page, config, files) -> str:
    uri = page.file.src_uri
    page_real = INSIDE.get(uri, f"docs/{uri}")

    def rewrite(match: re.Match) -> str:
        site = site_target(page_real, match.group(2))
        if site is None:
            return match.group(0)
        path, _, anchor = site.partition("#")
        relative = posixpath.relpath(path, posixpath.dirname(uri) or ".")
        return match.group(1) + relative + (f"#{anchor}" if anchor else "")

    return LINK.sub(rewrite, markdown)
