"""Checking a parsed YAML tree: ConfigError, and the Checker that names each bad key by its file and path
(types, allowed words, unknown keys, periods, dates, bundled data files)."""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

from cypp_dash.periods import PeriodError, parse_period

ROOT = Path(__file__).resolve().parent.parent  # the project folder: bundled data files are named relative to it


class ConfigError(ValueError):
    """The plan configuration is wrong; the message names the file and key."""



class Checker:
    """Walks a parsed YAML tree, naming each key by its path when something is wrong."""

    def __init__(self, file: str):
        self.file = file

    def fail(self, path: str, message: str):
        raise ConfigError(f"{self.file}: {path}: {message}")

    def mapping(self, value: Any, path: str) -> dict:
        if not isinstance(value, dict):
            self.fail(path, f"must be a mapping of keys, not {describe(value)}")
        return value

    def required(self, node: dict, key: str, path: str, kind: type | tuple = str) -> Any:
        if key not in node:
            self.fail(f"{path}.{key}" if path else key, "is missing (a required key)")
        return self.typed(node[key], f"{path}.{key}" if path else key, kind)

    def optional(self, node: dict, key: str, path: str, kind: type | tuple = str, default: Any = None) -> Any:
        if key not in node or node[key] is None:
            return default
        return self.typed(node[key], f"{path}.{key}" if path else key, kind)

    def typed(self, value: Any, path: str, kind: type | tuple) -> Any:
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if float in kinds and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, bool) and bool not in kinds:
            self.fail(path, f"must be {kind_names(kinds)}, not {describe(value)}")
        if not isinstance(value, kinds):
            self.fail(path, f"must be {kind_names(kinds)}, not {describe(value)}")
        if isinstance(value, str) and not value.strip():
            self.fail(path, "must not be empty")
        return value

    def one_of(self, value: Any, allowed: tuple, path: str) -> Any:
        if value not in allowed:
            self.fail(path, f'"{value}" is not one of ' + ", ".join(f'"{a}"' for a in allowed))
        return value

    def unknown_keys(self, node: dict, allowed: set[str], path: str) -> None:
        for key in node:
            if key not in allowed:
                where = f"{path}.{key}" if path else str(key)
                self.fail(where, "is not a key this dashboard knows (check its spelling); allowed: "
                          + ", ".join(sorted(allowed)))

    def period(self, value: Any, path: str) -> str | None:
        if value is None:
            return None
        try:
            return parse_period(str(value)).label
        except PeriodError as e:
            self.fail(path, str(e))


def describe(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return f"true/false ({value})"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, str):
        return f'text ("{value}")'
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def kind_names(kinds: tuple) -> str:
    names = {str: "text", float: "a number", int: "a whole number", bool: "true or false", list: "a list",
             dict: "a mapping"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)



def date_text(c: Checker, node: dict, key: str, path: str) -> str | None:
    """A date key as YYYY-MM-DD text (YAML reads an unquoted 2011-03-31 as a date: both are fine)."""
    value = node.get(key)
    if isinstance(value, date):
        return value.isoformat()
    text = c.optional(node, key, path, str)
    if text is not None and not is_iso_date(text):
        c.fail(f"{path}.{key}", f'"{text}" is not a date written YYYY-MM-DD')
    return text


def is_iso_date(text: str) -> bool:
    if not re.match(r"^\d{4}-\d{2}-\d{2}$", text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True



def data_file(c: Checker, value: Any, path: str) -> str:
    """A bundled data file named relative to the project folder; it must exist."""
    rel = c.typed(value, path, str)
    if not (ROOT / rel).is_file():
        c.fail(path, f'"{rel}" is not a file in the project folder')
    return rel
