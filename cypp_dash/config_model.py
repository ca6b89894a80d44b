"""What a loaded configuration is: the plans, partnerships, KPIs, targets, areas and settings as small frozen
dataclasses, and the words each may use (units, polarities, rule types, area types, action statuses).
Read through cypp_dash.config, which loads and checks them."""
from __future__ import annotations

from dataclasses import dataclass

UNITS = ("percent", "count", "weeks", "days", "rate per 1,000", "rate per 10,000", "rate per 100,000")
POLARITIES = ("higher", "lower", "none")
RULE_TYPES = ("above_england", "in_line_with_england", "improving_vs_baseline", "improving_vs_target",
              "improving_trend", "absolute")
AREA_TYPES = ("country", "region", "county", "unitary", "district", "london borough", "metropolitan district")
ACTION_STATUSES = ("not started", "in progress", "complete", "on hold", "cancelled")


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
