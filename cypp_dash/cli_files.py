"""How the command line reads a file it is given to load and reports the checks on it: one wording for
`import` (figures) and `commentary import`. Refusals go to stderr as well, so scripts see them."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable, TypeVar

Checked = TypeVar("Checked")  # a checked file: has .ok, .problems and .warnings


def checked_file(path: Path, check: Callable[[bytes, str], Checked]) -> Checked | None:
    """The file checked by `check(bytes, file name)`, its notes said; None, with every problem said (one
    a line), when there is no such file or the checks refused it."""
    if not path.is_file():
        print(f"refused: {path} does not exist", file=sys.stderr)
        return None
    result = check(path.read_bytes(), path.name)
    if not result.ok:
        print(f"refused: {path.name}: {len(result.problems)} problem(s); nothing was loaded")
        for p in result.problems:
            print(f"  {p}")
        print(f"refused: {path.name} ({len(result.problems)} problem(s)); nothing was loaded", file=sys.stderr)
        return None
    for w in result.warnings:
        print(f"note: {w}")
    return result
