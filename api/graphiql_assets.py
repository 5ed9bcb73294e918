"""Installs GraphiQL's pinned browser bundles: `python -m api.graphiql_assets`.

Runs `npm ci` in `graphiql/` (exact versions from its committed package-lock.json) and
copies the few files the page loads into `api/static/graphiql/`, which git ignores.
Nothing is fetched at serve time, so GraphiQL then works with no internet access.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from api.graphiql import ASSETS, STATIC_DIR

PACKAGE_DIR = Path(__file__).resolve().parent.parent / "graphiql"
NODE_MODULES = PACKAGE_DIR / "node_modules"

# Served name -> file inside node_modules: React 18's UMD builds and GraphiQL 3's
# browser bundle (which carries graphql-js and inlines its fonts).
SOURCES = {
    "react.production.min.js": "react/umd/react.production.min.js",
    "react-dom.production.min.js": "react-dom/umd/react-dom.production.min.js",
    "graphiql.min.js": "graphiql/graphiql.min.js",
    "graphiql.min.css": "graphiql/graphiql.min.css",
}
assert set(SOURCES) == set(ASSETS), "every asset the page loads has a source, and no more"


class AssetsError(Exception):
    pass


def _installed_is_current() -> bool:
    """npm's own record of the tree it installed is newer than the lock file."""
    record = NODE_MODULES / ".package-lock.json"
    lock = PACKAGE_DIR / "package-lock.json"
    return (
        record.is_file()
        and record.stat().st_mtime >= lock.stat().st_mtime
        and all((NODE_MODULES / source).is_file() for source in SOURCES.values())
    )


def npm_ci(force: bool = False) -> None:
    if not (PACKAGE_DIR / "package-lock.json").is_file():
        raise AssetsError(
            f"{PACKAGE_DIR}/package-lock.json is missing: run from a source checkout."
        )
    if not force and _installed_is_current():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise AssetsError(
            "npm was not found on PATH: install Node.js and npm to get GraphiQL's assets."
            " The API works without them."
        )
    done = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=PACKAGE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise AssetsError(f"`npm ci` in {PACKAGE_DIR} failed:\n{done.stderr or done.stdout}")


def copy_assets(target: Path = STATIC_DIR) -> list[Path]:
    target.mkdir(parents=True, exist_ok=True)
    copied = []
    for name, source in SOURCES.items():
        origin = NODE_MODULES / source
        if not origin.is_file():
            raise AssetsError(f"{origin} is missing after `npm ci`: check graphiql/package.json.")
        # Copy then rename, so a running server never serves half a file.
        partial = target / f".{name}.partial"
        shutil.copyfile(origin, partial)
        os.replace(partial, target / name)
        copied.append(target / name)
    return copied


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m api.graphiql_assets", description="Install GraphiQL's pinned assets."
    )
    parser.add_argument("--force", action="store_true", help="run `npm ci` even if up to date")
    args = parser.parse_args(argv)
    try:
        npm_ci(force=args.force)
        copied = copy_assets()
    except AssetsError as exc:
        print(f"graphiql assets: {exc}", file=sys.stderr)
        return 1
    print(f"GraphiQL assets installed in {STATIC_DIR} ({len(copied)} files).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
