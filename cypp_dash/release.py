"""A quarter released: a lead (or the chair, holding the lead role) signs off a period's figures with
their approved commentary, and from then the public view shows them, exactly as the store held them at
that moment; later uploads and revisions wait for the next sign-off. A release can be withdrawn (the
public view falls back to the previous one). Both steps check the role in the store and are audited;
as-at views show what was public at a date."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import duckdb

from cypp_dash import auth, status, store, store_releases
from cypp_dash.config import Config, Plan
from cypp_dash.periods import PeriodError, is_future, parse_period

NOT_SIGNED_OFF = "not yet signed off"
REVISED = "revised since sign-off, not yet signed off"


class ReleaseError(ValueError):
    """A release or withdrawal that cannot be made; the message says why."""


@dataclass(frozen=True)
class Release:
    """One sign-off of a period's figures for a plan."""

    release_id: int
    plan_id: str
    period: str
    period_end: date
    released_by: str
    released_at: datetime
    withdrawn_by: str | None = None
    withdrawn_at: datetime | None = None
    withdrawal_reason: str | None = None

    @property
    def words(self) -> str:
        return f"{self.period}, signed off by {self.released_by} on {self.released_at:%d %B %Y}"


def _row(values) -> Release:
    d = dict(zip(store_releases.FIELDS, values))
    return Release(**d)


def releases(conn: duckdb.DuckDBPyConnection, plan_id: str, as_at: date | datetime | None = None,
             include_withdrawn: bool = False) -> list[Release]:
    """The plan's releases in force now (or at the end of `as_at`), latest period first; with
    `include_withdrawn`, every release ever made (the history)."""
    at = None if as_at is None else store.end_of(as_at)
    return [_row(r) for r in store_releases.release_rows(conn, plan_id, at, include_withdrawn)]


def public_release(conn: duckdb.DuckDBPyConnection, plan_id: str,
                   as_at: date | datetime | None = None) -> Release | None:
    """The release the public view shows: the latest period signed off and not withdrawn (now, or at
    the end of `as_at`); None when nothing is released."""
    found = releases(conn, plan_id, as_at)
    return found[0] if found else None


def release(conn: duckdb.DuckDBPyConnection, account, plan: Plan, period: str,
            today: date | None = None) -> Release:
    """Sign off a period's figures for public release (lead, checked in the store now). The public view
    then shows the figures at or before it as they stand at this moment, with their approved commentary."""
    account = auth.authorise(conn, account, "lead", "sign off a quarter for release")
    try:
        p = parse_period(period)
    except PeriodError as e:
        raise ReleaseError(str(e)) from None
    if is_future(p, today):
        raise ReleaseError(f"{p.label} is in the future, so it has no figures to sign off")
    with store.write_transaction(conn) as cur:
        if store_releases.release_in_force(cur, plan.id, p.label) is not None:
            raise ReleaseError(f"{p.label} is already signed off for {plan.name}")
        at = store.now()
        release_id = store_releases.save_release(cur, plan.id, p.label, p.end, account.name, at)
        store.log_event(cur, at, account.name, "quarter released", f"{plan.id} {p.label} (release {release_id})")
    return Release(release_id, plan.id, p.label, p.end, account.name, at)


def withdraw(conn: duckdb.DuckDBPyConnection, account, plan: Plan, period: str, reason: str) -> Release:
    """Withdraw a period's release (lead): the public view goes back to the previous release in force."""
    account = auth.authorise(conn, account, "lead", "withdraw a release")
    reason = (reason or "").strip()
    if not reason:
        raise ReleaseError("say why the release is withdrawn (it goes in the audit log)")
    if len(reason) > 500:
        raise ReleaseError("the reason must be at most 500 characters")
    try:
        label = parse_period(period).label
    except PeriodError as e:
        raise ReleaseError(str(e)) from None
    with store.write_transaction(conn) as cur:
        row = store_releases.release_in_force(cur, plan.id, label)
        if row is None:
            raise ReleaseError(f"{label} is not signed off for {plan.name}, so there is nothing to withdraw")
        held = _row(row)
        at = store.now()
        store_releases.save_withdrawal(cur, held.release_id, account.name, at, reason)
        store.log_event(cur, at, account.name, "release withdrawn",
                        f"{plan.id} {label} (release {held.release_id}): {reason}")
    return Release(**{**held.__dict__, "withdrawn_by": account.name, "withdrawn_at": at, "withdrawal_reason": reason})


def public_statuses(conn: duckdb.DuckDBPyConnection, config: Config, plan: Plan, area: str,
                    as_at: date | datetime | None = None,
                    partnership_id: str | None = None) -> tuple[Release | None, list[status.KpiStatus]]:
    """What the public view shows (now, or what it showed at the end of `as_at`): the release in force
    and one status row per KPI at or before its period, as the store held the figures when it was
    signed off. No release, no rows: nothing is public until a lead signs it off."""
    shown = public_release(conn, plan.id, as_at)
    if shown is None:
        return None, []
    return shown, status.plan_status(conn, config, plan, area, shown.period, as_at=shown.released_at,
                                     partnership_id=partnership_id)


def marks(current: list[status.KpiStatus], public: list[status.KpiStatus],
          shown: Release | None) -> dict[str, str]:
    """For signed-in readers: KPI code -> "not yet signed off" for a figure the public view does not show
    (a period after the release in force, or none released), or "revised since sign-off, ..." when the
    same period's figure has changed since. KPIs with no figure are not marked."""
    out: dict[str, str] = {}
    released = {s.code: s for s in public}
    for s in current:
        if s.period is None:
            continue
        if shown is None or parse_period(s.period).end > shown.period_end:
            out[s.code] = NOT_SIGNED_OFF
            continue
        was = released.get(s.code)
        if was is None or was.period != s.period or was.value != s.value:
            out[s.code] = REVISED
    return out
