"""The action tracker: every action rated by due date and status (overdue is red with the reason),
editors' CSV uploads checked row by row and kept with history, and the Actions page."""
from __future__ import annotations

import time
from datetime import date, datetime, timedelta

import pytest
from page_text import texts

from cypp_dash import actions, auth, store
from cypp_dash.config import Settings
from cypp_dash.web import session

TODAY = date(2026, 11, 22)
SETTINGS = Settings()  # action_due_soon_days = 30


def days(n: int) -> str:
    return (TODAY + timedelta(days=n)).isoformat()


# --- rating -------------------------------------------------------------------------------------

RATINGS = [
    # status, start, due, rag, words in the reason
    ("complete", None, days(-400), "green", "Complete"),
    ("cancelled", None, days(-10), "not rated", "cancelled"),
    ("in progress", None, days(-1), "red", "Overdue: was due 21 November 2026, 1 day ago, and is in progress"),
    ("not started", days(-90), days(-30), "red", "Overdue"),
    ("on hold", None, days(-5), "red", "Overdue"),
    ("not started", None, days(0), "amber", "today) and not started"),
    ("not started", None, days(30), "amber", "in 30 days) and not started: within the 30-day warning"),
    ("not started", None, days(31), "green", "more than 30 days away"),
    ("not started", days(-3), days(60), "amber", "Should have started on 19 November 2026"),
    ("not started", days(10), days(60), "green", "Not due to start until 02 December 2026"),
    ("in progress", None, days(2), "green", "In progress; due 24 November 2026 (in 2 days)"),
    ("on hold", None, days(40), "amber", "On hold"),
    ("on hold", None, None, "amber", "On hold, with no due date"),
    ("in progress", None, None, "not rated", "no due date set"),
]


@pytest.mark.parametrize("status, start, due, rag, words", RATINGS,
                         ids=[f"{r[0]}-{r[2]}-{r[3]}" for r in RATINGS])
def test_each_action_is_rated_by_its_due_date_and_status_with_the_reason(status, start, due, rag, words):
    rating = actions.rate(status, start, due, TODAY, SETTINGS)
    assert rating.rag == rag
    assert words in rating.reason


def test_the_due_soon_warning_comes_from_the_settings():
    short = Settings(action_due_soon_days=7)
    assert actions.rate("not started", None, days(8), TODAY, short).rag == "green"
    assert actions.rate("not started", None, days(7), TODAY, short).rag == "amber"


def test_a_negative_due_soon_setting_is_refused_at_start_up(tmp_path):
    import yaml

    from cypp_dash.config import ROOT, ConfigError, load_config

    raw = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    raw["plan_files"] = None
    raw["settings"]["action_due_soon_days"] = -1
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"settings\.action_due_soon_days: must not be negative"):
        load_config(path)


def test_bromleys_project_plan_is_all_overdue_and_red_on_a_date_long_after_it(conn, config):
    held = actions.current(conn, "bromley-2011-14")
    assert len(held) == 11
    rated = actions.rated(held, TODAY, config.settings)
    by_id = rated.set_index("action_id")
    assert by_id.loc["B-01", "rag"] == "red"
    assert by_id.loc["B-01", "reason"].startswith("Overdue: was due 31 May 2010")
    assert by_id.loc["B-11", "rag"] == "not rated", "Promote the plan has no end date in the project plan"
    assert (rated["rag"] == "red").sum() == 10
    assert list(rated["rag"])[:10] == ["red"] * 10, "worst first"


def test_on_the_papers_own_date_the_bromley_actions_read_as_the_board_saw_them(conn, config):
    rated = actions.rated(actions.current(conn, "bromley-2011-14"), date(2010, 5, 17), config.settings)
    by_id = rated.set_index("action_id")
    assert by_id.loc["B-01", "rag"] == "green", "in progress, due in 14 days"
    assert by_id.loc["B-02", "rag"] == "amber", "should have started on 1 May"
    assert by_id.loc["B-04", "rag"] == "green", "not due to start until July"


# --- uploads ------------------------------------------------------------------------------------

GOOD = ("\ufeffID,Task,LEAD,Start,Due,Status,Serves,Comments\r\n"
        "B-01,Undertake strategic needs analysis,Performance & Statistics Manager,2010-01-01,31/05/2010,Completed,"
        "Priorities,Draft done\r\n"
        ",Agree the five priorities,Trust Board,,2026-12-01,not started,The five priorities,\r\n"
        "\r\n").encode("utf-8")


def test_a_good_file_of_actions_is_read_with_uk_dates_any_case_headers_and_status_words():
    checked = actions.validate_csv(GOOD, "actions.csv")
    assert checked.ok, checked.problems
    first, second = checked.rows
    assert (first.id, first.due, first.status) == ("B-01", date(2010, 5, 31), "complete")
    assert (second.id, second.start, second.status) == ("", None, "not started")


BAD = [
    ("no task column", b"id,lead,status\nA,B,complete\n", "row 1, column task: there is no task column"),
    ("empty task", b"task,lead,status\n,Someone,complete\n", "row 2, column task: no task given"),
    ("unknown status", b"task,lead,status\nDo it,Someone,finishedish\n",
     'row 2, column status: "finishedish" is not a status'),
    ("bad date", b"task,lead,status,due\nDo it,Someone,complete,31/13/2011\n",
     'row 2, column due: "31/13/2011" is not a date'),
    ("words for a date", b"task,lead,status,due\nDo it,Someone,complete,next week\n",
     'row 2, column due: "next week" is not a date'),
    ("due before start", b"task,lead,status,start,due\nDo it,Someone,complete,2011-03-01,2011-02-01\n",
     "row 2, column due: 2011-02-01 is before the start, 2011-03-01"),
    ("repeated id", b"id,task,lead,status\nA1,Do it,Someone,complete\na1,Again,Someone,complete\n",
     'row 3, column id: "a1" is already on row 2'),
    ("header only", b"task,lead,status\n", "row 1: the file has a header row but no actions"),
    ("empty", b"", "the file is empty"),
    ("a workbook", b"PK\x03\x04rest", "save it as CSV"),
    ("ragged row", b"task,lead,status\nDo it,Someone,complete,extra\n", "row 2: this row has 4 cells"),
]


@pytest.mark.parametrize("case, data, message", BAD, ids=[b[0] for b in BAD])
def test_a_bad_file_of_actions_is_refused_naming_row_and_column(case, data, message):
    checked = actions.validate_csv(data, "x.csv")
    assert not checked.ok
    assert not checked.rows, "a refused file yields no rows at all"
    assert any(message in str(p) for p in checked.problems), [str(p) for p in checked.problems]


@pytest.fixture
def people(conn):
    auth.add_user(conn, "eddie", "editor", "a long editor password", actor="test setup")
    auth.add_user(conn, "vera", "viewer", "a long viewer password", actor="test setup")
    return {"editor": auth.Account("eddie", "editor"), "viewer": auth.Account("vera", "viewer")}


@pytest.mark.parametrize("who", ["viewer", None])
def test_only_an_editor_may_change_the_tracker(conn, config, people, who):
    before = store.content_checksum(conn)
    with pytest.raises(auth.PermissionDenied):
        actions.save(conn, people.get(who), config.plan("bromley-2011-14"), actions.validate_csv(GOOD, "a.csv"))
    assert store.content_checksum(conn) == before


def test_an_upload_revises_with_history_adds_new_actions_and_rolls_back_exactly(conn, config, people):
    plan = config.plan("bromley-2011-14")
    before_rows = actions.current(conn, plan.id)
    before = store.content_checksum(conn)
    loaded_before = datetime.now()
    time.sleep(0.01)
    result = actions.save(conn, people["editor"], plan, actions.validate_csv(GOOD, "progress.csv"))
    assert (result.added, result.revised, result.unchanged) == (1, 1, 0)

    now = actions.current(conn, plan.id).set_index("action_id")
    assert now.loc["B-01", "status"] == "complete"
    assert "A-001" in now.index, "a row without an id becomes a new action"
    assert len(now) == 12
    hist = actions.history(conn, plan.id)
    b01 = hist[hist["action_id"] == "B-01"]
    assert list(b01["status"]) == ["in progress", "complete"], "the old version is kept"
    assert b01["superseded_by"].iloc[0] == result.batch_id
    assert b01["loaded_by"].iloc[1] == "eddie"

    as_then = actions.current(conn, plan.id, as_at=loaded_before).set_index("action_id")
    assert as_then.loc["B-01", "status"] == "in progress", "the tracker as it stood before the upload"

    again = actions.save(conn, people["editor"], plan, actions.validate_csv(GOOD.replace(b",\r\n\r\n", b",\r\n"),
                                                                            "same.csv"))
    assert again.revised == 0 and again.unchanged == 1 and again.added == 1, "rows without an id are always new"
    store.rollback(conn, again.batch_id, "eddie")
    store.rollback(conn, result.batch_id, "eddie")
    after_rows = actions.current(conn, plan.id)
    assert after_rows.drop(columns=["loaded_at"]).equals(before_rows.drop(columns=["loaded_at"]))
    assert store.content_checksum(conn) != before, "the rolled-back batches stay in the history"


def test_the_download_round_trips_and_neutralises_formulas(conn, config, people):
    plan = config.plan("bromley-2011-14")
    risky = b"id,task,lead,status\nX-1,=HYPERLINK(\"http://evil\"),@lead,in progress\n"
    actions.save(conn, people["editor"], plan, actions.validate_csv(risky, "risky.csv"))
    csv_bytes = actions.to_csv(actions.current(conn, plan.id))
    text = csv_bytes.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'@lead" in text
    checked = actions.validate_csv(csv_bytes, "back.csv")
    assert checked.ok
    preview = actions.preview(conn, plan.id, checked)
    assert set(preview["change"]) == {"unchanged"}, "what was downloaded uploads back unchanged"


# --- the page -------------------------------------------------------------------------------------



def test_the_actions_page_shows_bromleys_overdue_actions_red_with_the_reason(app_page):
    at = app_page("actions.py", query={"plan": "bromley-2011-14"})
    assert not at.exception
    body = texts(at)
    assert "Off track" in [s.value for s in at.subheader]
    assert "B-01 · Undertake strategic needs analysis" in body
    assert "Overdue: was due 31 May 2010" in body
    table = at.dataframe[0].value
    assert set(table.loc[table["ID"] == "B-01", "RAG"]) == {"✖ Off track"}
    assert "Sign in with an editor account" in body, "no upload for someone not signed in"
    assert not at.file_uploader


def test_a_plan_without_actions_says_so(app_page):
    at = app_page("actions.py", query={"plan": "worcs-2022-24"})
    assert not at.exception
    assert "No actions are recorded for this plan yet" in texts(at)


def test_an_editor_uploads_actions_on_the_page_and_sees_them(app_page, conn, people):
    at = app_page("actions.py", query={"plan": "bromley-2011-14"},
                  state={session.SESSION_ACCOUNT: people["editor"], session.SESSION_SEEN: time.time()})
    assert not at.exception
    at.file_uploader[0].set_value(("bad.csv", b"task,lead,status\nDo it,Someone,finishedish\n", "text/csv")).run()
    assert "bad.csv was refused" in texts(at)
    assert 'row 2, column status: "finishedish" is not a status' in texts(at)
    at.file_uploader[0].set_value(("progress.csv", GOOD, "text/csv")).run()
    assert not at.exception
    next(b for b in at.button if b.label == "Save these actions").click().run()
    assert not at.exception
    assert "Saved progress.csv as upload" in texts(at)
    table = at.dataframe[0].value
    assert set(table.loc[table["ID"] == "B-01", "Status"]) == {"complete"}
