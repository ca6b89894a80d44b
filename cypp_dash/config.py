"""Load and validate the plans (config.yaml and plans/*.yaml) into small dataclasses.

The front door: load_config and the settings live here; what a loaded plan is (cypp_dash.config_model), how a
YAML tree is checked (cypp_dash.config_checker) and how a plan is read (cypp_dash.config_plan) have modules of
their own, and every name is read through here as before."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from cypp_dash.config_checker import ROOT, Checker, ConfigError
from cypp_dash.config_model import (
    ACTION_STATUSES,
    AREA_TYPES,
    POLARITIES,
    RULE_TYPES,
    UNITS,
    Action,
    Area,
    Config,
    Figure,
    Kpi,
    Partnership,
    Plan,
    Published,
    Settings,
    SpcRebase,
    Target,
    TargetRule,
)
from cypp_dash.config_plan import read_areas, read_plan

__all__ = ["ACTION_STATUSES", "AREA_TYPES", "DEFAULT_CONFIG", "POLARITIES", "ROOT", "RULE_TYPES", "UNITS", "Action",
           "Area", "Config", "ConfigError", "Figure", "Kpi", "Partnership", "Plan", "Published", "Settings",
           "SpcRebase", "Target", "TargetRule", "load_config"]

DEFAULT_CONFIG = ROOT / "config.yaml"


_SETTINGS_KEYS = {"in_line_tolerance": float, "amber_multiple": float, "improvement_threshold": float,
                  "absolute_amber_gap": float, "provisional_quarters": int, "spc_min_points": int,
                  "trend_points": int, "upload_max_mb": int, "action_due_soon_days": int,
                  "commentary_max_chars": int, "commentary_new_days": int, "public_view": bool}
_AUTH_KEYS = {"viewing_requires_sign_in": bool, "idle_minutes": int, "max_failed_sign_ins": int,
              "lockout_minutes": int}


def _settings(c: Checker, node: Any) -> Settings:
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



def _check_references(c: Checker, plans: list[Plan], areas: list[Area]) -> None:
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
    c = Checker(path.name)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: the configuration file does not exist") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path.name}: is not valid YAML: {e}") from None
    raw = c.mapping(raw, "(top level)")
    c.unknown_keys(raw, {"settings", "areas", "plans", "plan_files"}, "")
    settings = _settings(c, raw.get("settings"))
    areas = read_areas(c, c.required(raw, "areas", "", list))
    plans: list[Plan] = []
    for i, p in enumerate(c.optional(raw, "plans", "", list, [])):
        plan, extra = read_plan(c, p, f"plans[{i}]", "")
        plans.append(plan)
        areas.extend(a for a in extra if a.code not in {x.code for x in areas})
    plan_dir = c.optional(raw, "plan_files", "", str)
    if plan_dir:
        for f in sorted((path.parent / plan_dir).glob("*.yaml")):
            fc = Checker(f"{plan_dir}/{f.name}")
            try:
                node = yaml.safe_load(f.read_text(encoding="utf-8"))
            except yaml.YAMLError as e:
                raise ConfigError(f"{plan_dir}/{f.name}: is not valid YAML: {e}") from None
            plan, extra = read_plan(fc, node, "plan", f"{plan_dir}/{f.name}")
            plans.append(plan)
            areas.extend(a for a in extra if a.code not in {x.code for x in areas})
    if not plans:
        c.fail("plans", "no plan is configured: add one under plans or in the plan_files folder")
    _check_references(c, plans, areas)
    return Config(settings=settings, areas=tuple(areas), plans=tuple(plans), path=str(path))
