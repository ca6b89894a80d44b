"""Load and validate the plans (config.yaml and plans/*.yaml) into small dataclasses."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from cypp_dash.periods import PeriodError, parse_period

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = ROOT / "config.yaml"

UNITS = ("percent", "count", "weeks", "days", "rate per 1,000", "rate per 10,000", "rate per 100,000")
POLARITIES = ("higher", "lower", "none")
RULE_TYPES = ("above_england", "in_line_with_england", "improving_vs_baseline", "improving_vs_target",
              "improving_trend", "absolute")
AREA_TYPES = ("country", "region", "county", "unitary", "district", "london borough", "metropolitan district")
ACTION_STATUSES = ("not started", "in progress", "complete", "on hold", "cancelled")
_GSS = re.compile(r"^[EWSNK]\d{8}$")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class ConfigError(ValueError):
    """The plan configuration is wrong; the message names the file and key."""


@dataclass(frozen=True)
class Figure:
    """A published figure as the plan gives it: value (or None), period and the plan's words."""

    value: float | None
    period: str | None
    text: str
    unit: str | None = None
    districts: tuple[tuple[str, float], ...] = ()  # baselines the plan gives its districts: (area code, value)

    def for_area(self, code: str) -> float | None:
        """The plan's baseline for a district, or None when the plan gives none for it."""
        return dict(self.districts).get(code)


@dataclass(frozen=True)
class TargetRule:
    type: str
    value: float | None = None
    required: bool = True


@dataclass(frozen=True)
class Target:
    text: str
    rules: tuple[TargetRule, ...]

    @property
    def value(self) -> float | None:
        """The figure the charts, pages and Word report mark as the target line: the first rule with a number,
        or None when no rule names one."""
        return next((r.value for r in self.rules if r.value is not None), None)

    @property
    def goal(self) -> float | None:
        """The figure the plan aims to reach (an `absolute` or `improving_vs_target` rule's value): SPC's
        assurance line. None when the target is judged against England, a baseline or a trend only."""
        return next((r.value for r in self.rules if r.type in ("absolute", "improving_vs_target")
                     and r.value is not None), None)


def _by(items: tuple, field: str, key: str):
    """The first of `items` whose `field` is `key`; KeyError(key) when there is none."""
    for item in items:
        if getattr(item, field) == key:
            return item
    raise KeyError(key)


@dataclass(frozen=True)
class Published:
    """A published measure (LAIT `lait:<Short Desc>`) shown and benchmarked beside a KPI: `same` when it is
    the plan's measure, `related` when it is only related (shown as such, never rated against the aim)."""

    measure: str
    relation: str
    note: str = ""


@dataclass(frozen=True)
class SpcRebase:
    """A change point the plan names for a KPI's SPC chart: limits are recalculated from `period` on."""

    period: str
    reason: str


@dataclass(frozen=True)
class Kpi:
    code: str
    name: str
    definition: str
    unit: str
    polarity: str
    baseline: Figure
    england: Figure
    target: Target
    source: str
    partnership_id: str
    owner: str = ""
    unit_label: str = ""
    indicator_id: str = ""        # the indicator whose figures this KPI reads (default: its code)
    relation: str = "measure"     # "measure", "related" (a published indicator related to the measure) or "none"
    relation_note: str = ""
    licence: str = ""
    illustrative: bool = True      # whether the plan's illustrative series covers it
    published: Published | None = None  # a DfE published measure (LAIT) that is the KPI's or related to it
    spc_rebase: tuple[SpcRebase, ...] = ()  # change points where SPC limits are recalculated

    @property
    def unit_text(self) -> str:
        return self.unit_label or {"percent": "%", "count": "count"}.get(self.unit, self.unit)


@dataclass(frozen=True)
class Partnership:
    id: str
    name: str
    board: str
    reports_to: str
    meets: str
    priority: str
    kpis: tuple[Kpi, ...]
    status_note: str = ""


@dataclass(frozen=True)
class Action:
    id: str
    task: str
    lead: str
    start: str | None
    due: str | None
    status: str
    serves: str
    comments: str = ""


@dataclass(frozen=True)
class Plan:
    id: str
    name: str
    council: str
    area: str
    districts: tuple[str, ...]
    comparators: tuple[str, ...]
    partnerships: tuple[Partnership, ...]
    source_document: str = ""
    board: str = ""
    reports_to: str = ""
    meets: str = "quarterly"
    illustrative_data: str | None = None
    data_files: tuple[str, ...] = ()
    vision: str = ""
    outcomes: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()
    notes: str = ""
    actions: tuple[Action, ...] = ()
    voice: dict | None = None
    file: str = ""
    start: str | None = None      # the plan's first and last day (YYYY-MM-DD), where the plan gives them
    end: str | None = None

    @property
    def kpis(self) -> tuple[Kpi, ...]:
        return tuple(k for p in self.partnerships for k in p.kpis)

    def kpi(self, code: str) -> Kpi:
        return _by(self.kpis, "code", code)

    def partnership(self, pid: str) -> Partnership:
        return _by(self.partnerships, "id", pid)


@dataclass(frozen=True)
class Area:
    code: str
    name: str
    type: str
    parent: str | None = None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Settings:
    in_line_tolerance: float = 2.0
    amber_multiple: float = 2.0
    improvement_threshold: float = 0.02
    absolute_amber_gap: float = 10.0
    provisional_quarters: int = 1
    spc_min_points: int = 12
    trend_points: int = 5
    viewing_requires_sign_in: bool = False
    idle_minutes: int = 30
    max_failed_sign_ins: int = 5
    lockout_minutes: int = 15
    upload_max_mb: int = 50
    action_due_soon_days: int = 30
    commentary_max_chars: int = 1500
    commentary_new_days: int = 30
    public_view: bool = False


@dataclass(frozen=True)
class Config:
    settings: Settings
    areas: tuple[Area, ...]
    plans: tuple[Plan, ...]
    path: str = ""

    def area(self, code: str) -> Area:
        return _by(self.areas, "code", code)

    def area_name(self, code: str) -> str:
        try:
            return self.area(code).name
        except KeyError:
            return code

    def plan(self, plan_id: str | None = None) -> Plan:
        return _by(self.plans, "id", plan_id) if plan_id else self.plans[0]

    def area_lookup(self) -> dict[str, str]:
        """Lower-cased code, name or alias -> GSS code (what uploads may write in `area`)."""
        out: dict[str, str] = {}
        for a in self.areas:
            for key in (a.code, a.name, *a.aliases):
                out[key.strip().lower()] = a.code
        return out

    def indicator_units(self) -> dict[str, str]:
        """Every KPI code of every plan -> its unit (what uploads may write in `kpi`)."""
        out: dict[str, str] = {}
        for plan in self.plans:
            for k in plan.kpis:
                out.setdefault(k.code.upper(), k.unit)
        return out


# --- validation -----------------------------------------------------------------------------

class _Checker:
    """Walks a parsed YAML tree, naming each key by its path when something is wrong."""

    def __init__(self, file: str):
        self.file = file

    def fail(self, path: str, message: str):
        raise ConfigError(f"{self.file}: {path}: {message}")

    def mapping(self, value: Any, path: str) -> dict:
        if not isinstance(value, dict):
            self.fail(path, f"must be a mapping of keys, not {_describe(value)}")
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
            self.fail(path, f"must be {_kind_names(kinds)}, not {_describe(value)}")
        if not isinstance(value, kinds):
            self.fail(path, f"must be {_kind_names(kinds)}, not {_describe(value)}")
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


def _describe(value: Any) -> str:
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


def _kind_names(kinds: tuple) -> str:
    names = {str: "text", float: "a number", int: "a whole number", bool: "true or false", list: "a list",
             dict: "a mapping"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


_SETTINGS_KEYS = {"in_line_tolerance": float, "amber_multiple": float, "improvement_threshold": float,
                  "absolute_amber_gap": float, "provisional_quarters": int, "spc_min_points": int,
                  "trend_points": int, "upload_max_mb": int, "action_due_soon_days": int,
                  "commentary_max_chars": int, "commentary_new_days": int, "public_view": bool}
_AUTH_KEYS = {"viewing_requires_sign_in": bool, "idle_minutes": int, "max_failed_sign_ins": int,
              "lockout_minutes": int}


def _settings(c: _Checker, node: Any) -> Settings:
    node = c.mapping(node or {}, "settings")
    c.unknown_keys(node, set(_SETTINGS_KEYS) | {"auth"}, "settings")
    values: dict[str, Any] = {}
    for key, kind in _SETTINGS_KEYS.items():
        v = c.optional(node, key, "settings", kind)
        if v is not None:
            if v < 0:
                c.fail(f"settings.{key}", f"must not be negative ({v})")
            values[key] = v
    if values.get("commentary_max_chars", 1) < 1:
        c.fail("settings.commentary_max_chars", "must be at least 1 (the longest commentary, in characters)")
    auth = c.mapping(node.get("auth") or {}, "settings.auth")
    c.unknown_keys(auth, set(_AUTH_KEYS), "settings.auth")
    for key, kind in _AUTH_KEYS.items():
        v = c.optional(auth, key, "settings.auth", kind)
        if v is not None:
            values[key] = v
    return Settings(**values)


def _areas(c: _Checker, node: Any, path: str = "areas") -> list[Area]:
    if not isinstance(node, list):
        c.fail(path, f"must be a list of areas, not {_describe(node)}")
    out = []
    for i, a in enumerate(node):
        p = f"{path}[{i}]"
        a = c.mapping(a, p)
        c.unknown_keys(a, {"code", "name", "type", "parent", "aliases"}, p)
        code = c.required(a, "code", p)
        if not _GSS.match(code):
            c.fail(f"{p}.code", f'"{code}" is not an ONS GSS code (a letter and eight digits, e.g. E10000034)')
        aliases = c.optional(a, "aliases", p, list, [])
        out.append(Area(code=code, name=c.required(a, "name", p),
                        type=c.one_of(c.required(a, "type", p), AREA_TYPES, f"{p}.type"),
                        parent=c.optional(a, "parent", p), aliases=tuple(str(x) for x in aliases)))
    return out


def _figure(c: _Checker, node: Any, path: str, default_unit: str | None) -> Figure:
    node = c.mapping(node, path)
    c.unknown_keys(node, {"value", "period", "text", "unit", "districts"}, path)
    unit = c.optional(node, "unit", path, str, default_unit)
    if unit is not None:
        c.one_of(unit, UNITS, f"{path}.unit")
    districts = c.optional(node, "districts", path, dict, {})
    pairs = tuple((str(code), c.typed(v, f"{path}.districts.{code}", float)) for code, v in districts.items())
    return Figure(value=c.optional(node, "value", path, float),
                  period=c.period(node.get("period"), f"{path}.period"),
                  text=c.required(node, "text", path), unit=unit, districts=pairs)


def _target(c: _Checker, node: Any, path: str) -> Target:
    node = c.mapping(node, path)
    c.unknown_keys(node, {"text", "rules"}, path)
    rules_node = c.required(node, "rules", path, list)
    rules = []
    for i, r in enumerate(rules_node):
        p = f"{path}.rules[{i}]"
        r = c.mapping(r, p)
        c.unknown_keys(r, {"type", "value", "required"}, p)
        rtype = c.one_of(c.required(r, "type", p), RULE_TYPES, f"{p}.type")
        value = c.optional(r, "value", p, float)
        if rtype in ("absolute", "improving_vs_target") and value is None:
            c.fail(f"{p}.value", f'is missing: a "{rtype}" rule needs the target value')
        rules.append(TargetRule(type=rtype, value=value, required=c.optional(r, "required", p, bool, True)))
    return Target(text=c.required(node, "text", path), rules=tuple(rules))


_KPI_KEYS = {"code", "name", "definition", "unit", "unit_label", "polarity", "owner", "baseline", "england",
             "target", "source", "indicator_id", "relation", "relation_note", "licence", "illustrative",
             "published", "spc_rebase"}


def _spc_rebase(c: _Checker, node: Any, path: str) -> tuple[SpcRebase, ...]:
    """`spc_rebase: [{period: "2024/25 Q1", reason: "new recording system"}]`: each a period and a reason."""
    if node is None:
        return ()
    if not isinstance(node, list):
        c.fail(path, "must be a list of {period, reason}")
    out = []
    for i, item in enumerate(node):
        p = f"{path}[{i}]"
        item = c.mapping(item, p)
        c.unknown_keys(item, {"period", "reason"}, p)
        period = c.required(item, "period", p)
        try:
            period = parse_period(period).label
        except PeriodError as e:
            c.fail(f"{p}.period", str(e))
        out.append(SpcRebase(period, c.required(item, "reason", p)))
    return tuple(out)


def _kpi(c: _Checker, node: Any, path: str, partnership_id: str) -> Kpi:
    node = c.mapping(node, path)
    c.unknown_keys(node, _KPI_KEYS, path)
    code = c.required(node, "code", path)
    if not re.match(r"^[A-Za-z0-9_.-]+$", code):
        c.fail(f"{path}.code", f'"{code}" must be letters, digits, "-", "_" or "." only')
    unit = c.one_of(c.required(node, "unit", path), UNITS, f"{path}.unit")
    relation = c.one_of(c.optional(node, "relation", path, str, "measure"), ("measure", "related", "none"),
                        f"{path}.relation")
    return Kpi(
        code=code, name=c.required(node, "name", path), definition=c.required(node, "definition", path),
        unit=unit, unit_label=c.optional(node, "unit_label", path, str, ""),
        polarity=c.one_of(c.required(node, "polarity", path), POLARITIES, f"{path}.polarity"),
        owner=c.optional(node, "owner", path, str, ""),
        baseline=_figure(c, c.required(node, "baseline", path, dict), f"{path}.baseline", unit),
        england=_figure(c, c.required(node, "england", path, dict), f"{path}.england", unit),
        target=_target(c, c.required(node, "target", path, dict), f"{path}.target"),
        source=c.required(node, "source", path), partnership_id=partnership_id,
        indicator_id=str(c.optional(node, "indicator_id", path, (str, int), code)),
        relation=relation, relation_note=c.optional(node, "relation_note", path, str, ""),
        licence=c.optional(node, "licence", path, str, ""),
        illustrative=c.optional(node, "illustrative", path, bool, True),
        published=_published(c, node.get("published"), f"{path}.published"),
        spc_rebase=_spc_rebase(c, node.get("spc_rebase"), f"{path}.spc_rebase"),
    )


def _published(c: _Checker, node: Any, path: str) -> Published | None:
    """A KPI's `published:` key: {measure: "lait:<Short Desc>", relation: same|related, note: ...}."""
    if node is None:
        return None
    node = c.mapping(node, path)
    c.unknown_keys(node, {"measure", "relation", "note"}, path)
    measure = c.required(node, "measure", path)
    if not measure.startswith("lait:") or not measure[5:].strip():
        c.fail(f"{path}.measure", f'"{measure}" is not a published measure id (lait:<Short Desc>, e.g. lait:LACHealth%)')
    known = _lait_measures()
    if known is not None and measure[5:] not in known:
        c.fail(f"{path}.measure", f'"{measure[5:]}" is not a measure in the LAIT data dictionary (data/lait)')
    relation = c.one_of(c.required(node, "relation", path), ("same", "related"), f"{path}.relation")
    note = c.optional(node, "note", path, str, "")
    if relation == "related" and not note.strip():
        c.fail(f"{path}.note", "is missing: a related measure needs a note saying what it is and is not")
    return Published(measure=measure, relation=relation, note=note)


def _lait_measures() -> set[str] | None:
    """The measure names in the bundled LAIT data dictionary (None when it is not bundled)."""
    import csv

    path = ROOT / "data" / "lait" / "lait_data_dictionary.csv"
    if not path.exists():
        return None
    with path.open(encoding="utf-8-sig", newline="") as f:
        return {row["Measure_short"].strip() for row in csv.DictReader(f)}


def _action(c: _Checker, node: Any, path: str) -> Action:
    node = c.mapping(node, path)
    c.unknown_keys(node, {"id", "task", "lead", "start", "due", "status", "serves", "comments"}, path)
    due = _date_text(c, node, "due", path)
    start = _date_text(c, node, "start", path)
    return Action(id=str(c.required(node, "id", path, (str, int))), task=c.required(node, "task", path),
                  lead=c.required(node, "lead", path), start=start, due=due,
                  status=c.one_of(c.required(node, "status", path), ACTION_STATUSES, f"{path}.status"),
                  serves=c.optional(node, "serves", path, str, ""),
                  comments=c.optional(node, "comments", path, str, ""))


_PLAN_KEYS = {"id", "name", "council", "area", "districts", "comparators", "partnerships", "source_document",
              "board", "reports_to", "meets", "illustrative_data", "data_files", "vision", "outcomes",
              "priorities", "notes", "actions", "voice", "areas", "start", "end"}


def _date_text(c: _Checker, node: dict, key: str, path: str) -> str | None:
    """A date key as YYYY-MM-DD text (YAML reads an unquoted 2011-03-31 as a date: both are fine)."""
    value = node.get(key)
    if isinstance(value, date):
        return value.isoformat()
    text = c.optional(node, key, path, str)
    if text is not None and not _is_iso_date(text):
        c.fail(f"{path}.{key}", f'"{text}" is not a date written YYYY-MM-DD')
    return text


def _is_iso_date(text: str) -> bool:
    if not re.match(r"^\d{4}-\d{2}-\d{2}$", text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _check_action_ids(c: _Checker, actions: tuple[Action, ...], path: str) -> None:
    seen: set[str] = set()
    for i, a in enumerate(actions):
        if a.id in seen:
            c.fail(f"{path}[{i}].id", f'"{a.id}" is used by two actions')
        seen.add(a.id)
        if a.start and a.due and a.start > a.due:
            c.fail(f"{path}[{i}].due", f"{a.due} is before the action's start, {a.start}")


def _data_file(c: _Checker, value: Any, path: str) -> str:
    """A bundled data file named relative to the project folder; it must exist."""
    rel = c.typed(value, path, str)
    if not (ROOT / rel).is_file():
        c.fail(path, f'"{rel}" is not a file in the project folder')
    return rel


def _plan(c: _Checker, node: Any, path: str, file: str) -> tuple[Plan, list[Area]]:
    node = c.mapping(node, path)
    c.unknown_keys(node, _PLAN_KEYS, path)
    pid = c.required(node, "id", path)
    if not _ID.match(pid):
        c.fail(f"{path}.id", f'"{pid}" must be lower-case letters, digits and hyphens')
    extra_areas = _areas(c, node["areas"], f"{path}.areas") if "areas" in node else []
    partnerships = []
    for i, p in enumerate(c.required(node, "partnerships", path, list)):
        pp = f"{path}.partnerships[{i}]"
        p = c.mapping(p, pp)
        c.unknown_keys(p, {"id", "name", "board", "reports_to", "meets", "priority", "kpis", "status_note"}, pp)
        part_id = c.required(p, "id", pp)
        if not _ID.match(part_id):
            c.fail(f"{pp}.id", f'"{part_id}" must be lower-case letters, digits and hyphens')
        kpis = tuple(_kpi(c, k, f"{pp}.kpis[{j}]", part_id)
                     for j, k in enumerate(c.optional(p, "kpis", pp, list, [])))
        partnerships.append(Partnership(
            id=part_id, name=c.required(p, "name", pp), board=c.optional(p, "board", pp, str, ""),
            reports_to=c.optional(p, "reports_to", pp, str, ""), meets=c.optional(p, "meets", pp, str, ""),
            priority=c.optional(p, "priority", pp, str, ""), kpis=kpis,
            status_note=c.optional(p, "status_note", pp, str, "")))
    actions = tuple(_action(c, a, f"{path}.actions[{i}]")
                    for i, a in enumerate(c.optional(node, "actions", path, list, [])))
    _check_action_ids(c, actions, f"{path}.actions")
    voice = c.optional(node, "voice", path, dict)
    if voice is not None:
        from cypp_dash.voice import check_voice  # here: voice.py reads plans, config must not need it to load

        check_voice(voice, c.fail, f"{path}.voice")
    plan = Plan(
        id=pid, name=c.required(node, "name", path), council=c.required(node, "council", path),
        area=c.required(node, "area", path),
        districts=tuple(c.optional(node, "districts", path, list, [])),
        comparators=tuple(c.optional(node, "comparators", path, list, [])),
        partnerships=tuple(partnerships), source_document=c.optional(node, "source_document", path, str, ""),
        board=c.optional(node, "board", path, str, ""), reports_to=c.optional(node, "reports_to", path, str, ""),
        meets=c.optional(node, "meets", path, str, "quarterly"),
        illustrative_data=c.optional(node, "illustrative_data", path, str),
        data_files=tuple(_data_file(c, f, f"{path}.data_files[{i}]")
                         for i, f in enumerate(c.optional(node, "data_files", path, list, []))),
        vision=c.optional(node, "vision", path, str, ""),
        outcomes=tuple(c.optional(node, "outcomes", path, list, [])),
        priorities=tuple(c.optional(node, "priorities", path, list, [])),
        notes=c.optional(node, "notes", path, str, ""), actions=actions,
        voice=voice, file=file,
        start=_date_text(c, node, "start", path), end=_date_text(c, node, "end", path))
    if plan.start and plan.end and plan.start > plan.end:
        c.fail(f"{path}.end", f"{plan.end} is before the plan's start, {plan.start}")
    return plan, extra_areas


def _check_references(c: _Checker, plans: list[Plan], areas: list[Area]) -> None:
    codes = {a.code for a in areas}
    seen_plans: set[str] = set()
    for i, plan in enumerate(plans):
        where = f"plans[{i}]" if not plan.file else plan.file
        if plan.id in seen_plans:
            c.fail(f"{where}: id", f'"{plan.id}" is used by two plans')
        seen_plans.add(plan.id)
        for key, values in (("area", [plan.area]), ("districts", plan.districts), ("comparators", plan.comparators)):
            for v in values:
                if v not in codes:
                    c.fail(f"{where}: {key}", f'"{v}" is not an area listed under areas')
        seen_kpis: set[str] = set()
        seen_parts: set[str] = set()
        for p in plan.partnerships:
            if p.id in seen_parts:
                c.fail(f"{where}: partnerships", f'the id "{p.id}" is used twice')
            seen_parts.add(p.id)
            for k in p.kpis:
                if k.code in seen_kpis:
                    c.fail(f"{where}: kpis", f'the code "{k.code}" is used twice')
                seen_kpis.add(k.code)


def load_config(path: str | os.PathLike | None = None) -> Config:
    """Read config.yaml and every plan file beside it; raise ConfigError naming any bad key."""
    path = Path(path or os.environ.get("CYPP_CONFIG") or DEFAULT_CONFIG)
    c = _Checker(path.name)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: the configuration file does not exist") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path.name}: is not valid YAML: {e}") from None
    raw = c.mapping(raw, "(top level)")
    c.unknown_keys(raw, {"settings", "areas", "plans", "plan_files"}, "")
    settings = _settings(c, raw.get("settings"))
    areas = _areas(c, c.required(raw, "areas", "", list))
    plans: list[Plan] = []
    for i, p in enumerate(c.optional(raw, "plans", "", list, [])):
        plan, extra = _plan(c, p, f"plans[{i}]", "")
        plans.append(plan)
        areas.extend(a for a in extra if a.code not in {x.code for x in areas})
    plan_dir = c.optional(raw, "plan_files", "", str)
    if plan_dir:
        for f in sorted((path.parent / plan_dir).glob("*.yaml")):
            fc = _Checker(f"{plan_dir}/{f.name}")
            try:
                node = yaml.safe_load(f.read_text(encoding="utf-8"))
            except yaml.YAMLError as e:
                raise ConfigError(f"{plan_dir}/{f.name}: is not valid YAML: {e}") from None
            plan, extra = _plan(fc, node, "plan", f"{plan_dir}/{f.name}")
            plans.append(plan)
            areas.extend(a for a in extra if a.code not in {x.code for x in areas})
    if not plans:
        c.fail("plans", "no plan is configured: add one under plans or in the plan_files folder")
    _check_references(c, plans, areas)
    return Config(settings=settings, areas=tuple(areas), plans=tuple(plans), path=str(path))
