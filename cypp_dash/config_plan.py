"""Checking a plan (a plans/*.yaml file, or one under config.yaml's plans:) into a Plan: its partnerships, KPIs,
baselines, targets, published measures, SPC change points, actions and voice; and a list of areas."""
from __future__ import annotations

import csv
import re
from typing import Any

from cypp_dash.config_checker import ROOT, Checker, data_file, date_text, describe
from cypp_dash.config_model import (
    ACTION_STATUSES,
    AREA_TYPES,
    POLARITIES,
    RULE_TYPES,
    UNITS,
    Action,
    Area,
    Figure,
    Kpi,
    Partnership,
    Plan,
    Published,
    SpcRebase,
    Target,
    TargetRule,
)
from cypp_dash.periods import PeriodError, parse_period

_GSS = re.compile(r"^[EWSNK]\d{8}$")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def read_areas(c: Checker, node: Any, path: str = "areas") -> list[Area]:
    if not isinstance(node, list):
        c.fail(path, f"must be a list of areas, not {describe(node)}")
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


def _figure(c: Checker, node: Any, path: str, default_unit: str | None) -> Figure:
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


def _target(c: Checker, node: Any, path: str) -> Target:
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


def _spc_rebase(c: Checker, node: Any, path: str) -> tuple[SpcRebase, ...]:
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


def _kpi(c: Checker, node: Any, path: str, partnership_id: str) -> Kpi:
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


def _published(c: Checker, node: Any, path: str) -> Published | None:
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
    path = ROOT / "data" / "lait" / "lait_data_dictionary.csv"
    if not path.exists():
        return None
    with path.open(encoding="utf-8-sig", newline="") as f:
        return {row["Measure_short"].strip() for row in csv.DictReader(f)}


def _action(c: Checker, node: Any, path: str) -> Action:
    node = c.mapping(node, path)
    c.unknown_keys(node, {"id", "task", "lead", "start", "due", "status", "serves", "comments"}, path)
    due = date_text(c, node, "due", path)
    start = date_text(c, node, "start", path)
    return Action(id=str(c.required(node, "id", path, (str, int))), task=c.required(node, "task", path),
                  lead=c.required(node, "lead", path), start=start, due=due,
                  status=c.one_of(c.required(node, "status", path), ACTION_STATUSES, f"{path}.status"),
                  serves=c.optional(node, "serves", path, str, ""),
                  comments=c.optional(node, "comments", path, str, ""))


_PLAN_KEYS = {"id", "name", "council", "area", "districts", "comparators", "partnerships", "source_document",
              "board", "reports_to", "meets", "illustrative_data", "data_files", "vision", "outcomes",
              "priorities", "notes", "actions", "voice", "areas", "start", "end"}



def _check_action_ids(c: Checker, actions: tuple[Action, ...], path: str) -> None:
    seen: set[str] = set()
    for i, a in enumerate(actions):
        if a.id in seen:
            c.fail(f"{path}[{i}].id", f'"{a.id}" is used by two actions')
        seen.add(a.id)
        if a.start and a.due and a.start > a.due:
            c.fail(f"{path}[{i}].due", f"{a.due} is before the action's start, {a.start}")



def read_plan(c: Checker, node: Any, path: str, file: str) -> tuple[Plan, list[Area]]:
    node = c.mapping(node, path)
    c.unknown_keys(node, _PLAN_KEYS, path)
    pid = c.required(node, "id", path)
    if not _ID.match(pid):
        c.fail(f"{path}.id", f'"{pid}" must be lower-case letters, digits and hyphens')
    extra_areas = read_areas(c, node["areas"], f"{path}.areas") if "areas" in node else []
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
        data_files=tuple(data_file(c, f, f"{path}.data_files[{i}]")
                         for i, f in enumerate(c.optional(node, "data_files", path, list, []))),
        vision=c.optional(node, "vision", path, str, ""),
        outcomes=tuple(c.optional(node, "outcomes", path, list, [])),
        priorities=tuple(c.optional(node, "priorities", path, list, [])),
        notes=c.optional(node, "notes", path, str, ""), actions=actions,
        voice=voice, file=file,
        start=date_text(c, node, "start", path), end=date_text(c, node, "end", path))
    if plan.start and plan.end and plan.start > plan.end:
        c.fail(f"{path}.end", f"{plan.end} is before the plan's start, {plan.start}")
    return plan, extra_areas
