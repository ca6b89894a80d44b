"""A quarter released, then public: until a lead signs a period off, the public view does not show it
and signed-in readers see it marked "not yet signed off"; after sign-off the public view shows it as the
store held it then; withdrawal hides it again; each step checks the role where it acts and is audited;
as-at shows what was public at a date. The public page (AppTest) follows the same rules."""
from __future__ import annotations

import shutil
from datetime import datetime

import pytest
from page_text import texts

from cypp_dash import auth, commentary, loading, release, status, store
from cypp_dash.auth import Account

PASSWORD = "a long enough password"
ROLE_OF = {"vera": "viewer", "eddie": "editor", "lena": "lead", "leo": "lead"}
COUNTY = "E10000034"
LAST = "2025/26 Q4"
EARLIER = "2025/26 Q3"


def who(name):
    return None if name is None else Account(name, ROLE_OF[name])


@pytest.fixture(scope="module")
def _people_store(tmp_path_factory, _built_store_file):
    path = tmp_path_factory.mktemp("release") / "people.duckdb"
    shutil.copyfile(_built_store_file, path)
    conn = store.connect(path)
    for name, role in ROLE_OF.items():
        auth.add_user(conn, name, role, PASSWORD, actor="test setup")
    conn.execute("CHECKPOINT")
    conn.close()
    return path


@pytest.fixture
def people(db_path, _people_store):
    shutil.copyfile(_people_store, db_path)
    return store.process_connection(db_path)


@pytest.fixture
def clock(monkeypatch):
    class Clock:
        at = datetime(2027, 4, 20, 9, 0)

    monkeypatch.setattr(store, "now", lambda: Clock.at)
    return Clock


@pytest.fixture
def plan(config):
    return config.plan()


def public(conn, config, plan, as_at=None):
    return release.public_statuses(conn, config, plan, COUNTY, as_at, partnership_id="early-help")


def audit_actions(conn):
    return conn.execute("SELECT user_name, action FROM audit WHERE action IN ('quarter released', "
                        "'release withdrawn') ORDER BY logged_at").fetchall()


def test_a_quarter_not_signed_off_is_not_public_and_is_marked_for_signed_in_readers(people, config, plan):
    shown, rows = public(people, config, plan)
    assert (shown, rows) == (None, [])
    current = status.plan_status(people, config, plan, COUNTY, partnership_id="early-help")
    marks = release.marks(current, rows, shown)
    assert marks and set(marks.values()) == {release.NOT_SIGNED_OFF}
    assert set(marks) == {s.code for s in current if s.period is not None}


def test_after_sign_off_the_public_view_shows_it_and_withdrawal_hides_it_again(people, config, plan, clock):
    release.release(people, who("lena"), plan, EARLIER)
    clock.at = datetime(2027, 4, 21, 9, 0)
    release.release(people, who("lena"), plan, LAST)
    shown, rows = public(people, config, plan)
    assert shown.period == LAST and shown.released_by == "lena"
    current = status.plan_status(people, config, plan, COUNTY, partnership_id="early-help")
    assert [(s.code, s.period, s.value) for s in rows] == [(s.code, s.period, s.value) for s in current]
    assert release.marks(current, rows, shown) == {}
    clock.at = datetime(2027, 4, 22, 9, 0)
    release.withdraw(people, who("leo"), plan, LAST, "A figure was keyed wrongly.")
    shown, rows = public(people, config, plan)
    assert shown.period == EARLIER
    assert all(s.period is None or s.period <= EARLIER for s in rows)
    assert release.marks(current, rows, shown)  # LAST is marked again for signed-in readers
    assert audit_actions(people) == [("lena", "quarter released"), ("lena", "quarter released"),
                                     ("leo", "release withdrawn")]


@pytest.mark.parametrize("name", [None, "vera", "eddie"])
def test_only_a_lead_signs_off_or_withdraws_and_a_refusal_changes_nothing(people, plan, name):
    before = store.content_checksum(people)
    with pytest.raises(auth.PermissionDenied):
        release.release(people, who(name), plan, LAST)
    assert store.content_checksum(people) == before
    release.release(people, who("lena"), plan, LAST)
    before = store.content_checksum(people)
    with pytest.raises(auth.PermissionDenied):
        release.withdraw(people, who(name), plan, LAST, "no reason")
    assert store.content_checksum(people) == before


def test_a_period_is_signed_off_once_and_a_withdrawal_needs_a_reason(people, plan):
    release.release(people, who("lena"), plan, LAST)
    with pytest.raises(release.ReleaseError, match="already signed off"):
        release.release(people, who("leo"), plan, LAST)
    with pytest.raises(release.ReleaseError, match="say why"):
        release.withdraw(people, who("leo"), plan, LAST, "")
    with pytest.raises(release.ReleaseError, match="nothing to withdraw"):
        release.withdraw(people, who("leo"), plan, EARLIER, "wrong")
    with pytest.raises(release.ReleaseError, match="in the future"):
        release.release(people, who("leo"), plan, "2099/00 Q1")


def test_an_upload_after_sign_off_waits_for_the_next_sign_off(people, config, plan, clock):
    release.release(people, who("lena"), plan, LAST)
    published = {s.code: s.value for s in public(people, config, plan)[1]}
    clock.at = datetime(2027, 5, 1, 9, 0)
    outcome = loading.import_file(people, config, f"kpi,area,period,value\nEH01,{COUNTY},{LAST},12.5\n".encode(),
                                  "revision.csv", "eddie")
    assert outcome.loaded
    shown, rows = public(people, config, plan)
    assert {s.code: s.value for s in rows} == published
    current = status.plan_status(people, config, plan, COUNTY, partnership_id="early-help")
    assert release.marks(current, rows, shown) == {"EH01": release.REVISED}


def test_as_at_shows_what_was_public_at_a_date(people, config, plan, clock):
    clock.at = datetime(2027, 4, 20, 9, 0)
    release.release(people, who("lena"), plan, EARLIER)
    clock.at = datetime(2027, 5, 20, 9, 0)
    release.release(people, who("lena"), plan, LAST)
    clock.at = datetime(2027, 6, 20, 9, 0)
    release.withdraw(people, who("lena"), plan, LAST, "Withdrawn for a check.")
    assert public(people, config, plan, datetime(2027, 4, 19).date())[0] is None
    assert public(people, config, plan, datetime(2027, 4, 20).date())[0].period == EARLIER
    assert public(people, config, plan, datetime(2027, 6, 1).date())[0].period == LAST
    assert public(people, config, plan, datetime(2027, 6, 20).date())[0].period == EARLIER


# --- the public page -----------------------------------------------------------------------------------

@pytest.fixture
def public_page(people, app_page, public_view_on):
    """Open pages/public.py with the public view switched on (a copy of config.yaml saying so)."""
    return lambda state=None: app_page("public.py", state=state)


def test_the_public_page_is_off_unless_config_switches_it_on(people, app_page):
    at = app_page("public.py")
    assert not at.exception
    assert "The public view is switched off" in texts(at)
    assert "<table" not in " ".join(e.value for e in at.get("html"))


def test_the_public_page_shows_only_signed_off_quarters_and_approved_commentary(people, config, plan,
                                                                                public_page, clock):
    at = public_page()
    assert not at.exception, [e.value for e in at.exception]
    assert "No figures of this plan have been published yet" in texts(at)
    c = commentary.write_draft(people, who("eddie"), config, "EH01", COUNTY, LAST, "Approved words for the public.")
    commentary.approve(people, who("lena"), c.comment_id)
    commentary.write_draft(people, who("eddie"), config, "EH01", COUNTY, LAST, "A draft nobody approved.")
    clock.at = datetime(2027, 4, 21, 9, 0)
    release.release(people, who("lena"), plan, LAST)
    at = public_page()
    shown = texts(at)
    assert not at.exception, [e.value for e in at.exception]
    assert f"published figures up to {LAST}" in shown
    assert "Approved words for the public." in shown
    assert "A draft nobody approved." not in shown
    assert "lena" not in shown and "eddie" not in shown  # dates only, no account names
    assert "Written from the figures" in shown
    clock.at = datetime(2027, 4, 22, 9, 0)
    release.withdraw(people, who("lena"), plan, LAST, "Pulled back.")
    at = public_page()
    assert "No figures of this plan have been published yet" in texts(at)
