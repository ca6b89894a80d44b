"""Commentary per KPI, area and period: drafts seen only by editors and leads, sign-off by a second person
with the lead role (refused where the write happens for anyone else), approved text in force until a new
draft is approved, as-at reads, the CSV upload (all or nothing, every problem by row and column), the
audit trail and the command line."""
from __future__ import annotations

import shutil
from datetime import datetime

import pytest

from cypp_dash import auth, cli, commentary, commentary_upload, store
from cypp_dash.auth import Account
from cypp_dash.web import session

PASSWORD = "a long enough password"
ROLE_OF = {"vera": "viewer", "eddie": "editor", "lena": "lead", "leo": "lead", "ada": "admin"}
PLAN = "worcs-2022-24"
COUNTY = "E10000034"
PERIOD = "2025/26 Q4"


def who(name: str | None) -> Account | None:
    return None if name is None else Account(name, ROLE_OF[name])


@pytest.fixture(scope="module")
def _people_store(tmp_path_factory, _built_store_file):
    path = tmp_path_factory.mktemp("commentary") / "people.duckdb"
    shutil.copyfile(_built_store_file, path)
    conn = store.connect(path)
    for name, role in ROLE_OF.items():
        auth.add_user(conn, name, role, PASSWORD, actor="test setup")
    conn.execute("CHECKPOINT")
    conn.close()
    return path


@pytest.fixture
def people(db_path, _people_store):
    """The test's private store (CYPP_DB) with a viewer, an editor, two leads and an admin."""
    shutil.copyfile(_people_store, db_path)
    return store.process_connection(db_path)


@pytest.fixture
def clock(monkeypatch):
    """store.now() under the test's control: set clock.at to move time."""
    class Clock:
        at = datetime(2026, 1, 10, 9, 0)

    monkeypatch.setattr(store, "now", lambda: Clock.at)
    return Clock


def draft(conn, config, text="Fewer reviews were held in the holidays; extra clinics run until March.",
          by="eddie", kpi="EH01", period=PERIOD):
    return commentary.write_draft(conn, who(by), config, kpi, COUNTY, period, text)


def audit_actions(conn) -> list[tuple[str, str]]:
    return conn.execute("SELECT user_name, action FROM audit WHERE action LIKE 'commentary%' "
                        "ORDER BY logged_at, action").fetchall()


# --- drafts and who sees them ----------------------------------------------------------------------------

def test_an_editors_draft_is_invisible_to_a_viewer(people, config):
    draft(people, config)
    assert commentary.approved(people, PLAN, COUNTY) == {}
    with pytest.raises(auth.PermissionDenied):
        commentary.pending(people, who("vera"), PLAN, COUNTY)
    with pytest.raises(auth.PermissionDenied):
        commentary.pending(people, None, PLAN, COUNTY)
    waiting = commentary.pending(people, who("eddie"), PLAN, COUNTY)
    assert [(c.kpi_code, c.state, c.written_by) for c in waiting.values()] == [("EH01", "draft", "eddie")]
    assert commentary.pending(people, who("lena"), PLAN, COUNTY).keys() == waiting.keys()


@pytest.mark.parametrize("name", [None, "vera"])
def test_a_viewer_or_nobody_cannot_write_commentary(people, config, name):
    before = store.content_checksum(people)
    with pytest.raises(auth.PermissionDenied):
        draft(people, config, by=name) if name else commentary.write_draft(people, None, config, "EH01", COUNTY,
                                                                           PERIOD, "text")
    assert store.content_checksum(people) == before


@pytest.mark.parametrize("name", [None, "vera", "eddie"])
def test_a_viewer_or_editor_cannot_approve_or_return_and_the_store_is_unchanged(people, config, name):
    c = draft(people, config)
    before = store.content_checksum(people)
    with pytest.raises(auth.PermissionDenied):
        commentary.approve(people, who(name), c.comment_id)
    with pytest.raises(auth.PermissionDenied):
        commentary.return_draft(people, who(name), c.comment_id, "not clear")
    assert store.content_checksum(people) == before


def test_the_role_is_read_from_the_store_when_approving(people, config):
    """A session that still says lead, for an account demoted to viewer, is refused."""
    c = draft(people, config)
    people.execute("UPDATE users SET role = 'viewer' WHERE name = 'lena'")
    with pytest.raises(auth.PermissionDenied):
        commentary.approve(people, Account("lena", "lead"), c.comment_id)


def test_a_lead_cannot_approve_their_own_draft(people, config):
    c = draft(people, config, by="lena")
    with pytest.raises(commentary.CommentaryError, match="another lead"):
        commentary.approve(people, who("lena"), c.comment_id)
    assert commentary.approve(people, who("leo"), c.comment_id).state == "approved"


def test_a_lead_approves_and_the_board_sees_it_with_names_and_dates(people, config, clock):
    c = draft(people, config)
    clock.at = datetime(2026, 1, 12, 14, 30)
    commentary.approve(people, who("lena"), c.comment_id)
    shown = commentary.approved(people, PLAN, COUNTY)[("EH01", PERIOD)]
    assert shown.body == c.body
    assert (shown.written_by, shown.written_at, shown.decided_by, shown.decided_at) == (
        "eddie", datetime(2026, 1, 10, 9, 0), "lena", datetime(2026, 1, 12, 14, 30))
    assert shown.byline == "Written by eddie on 10 January 2026; approved by lena on 12 January 2026."
    assert commentary.pending(people, who("eddie"), PLAN, COUNTY) == {}


def test_a_later_edit_does_not_replace_the_approved_text_until_it_is_approved(people, config, clock):
    first = draft(people, config, "First account of the quarter.")
    commentary.approve(people, who("lena"), first.comment_id)
    clock.at = datetime(2026, 2, 1, 9, 0)
    second = draft(people, config, "A fuller account of the quarter.")
    assert commentary.approved(people, PLAN, COUNTY)[("EH01", PERIOD)].body == "First account of the quarter."
    assert commentary.pending(people, who("eddie"), PLAN, COUNTY)[("EH01", COUNTY, PERIOD)].body == second.body
    clock.at = datetime(2026, 2, 2, 9, 0)
    commentary.approve(people, who("leo"), second.comment_id)
    assert commentary.approved(people, PLAN, COUNTY)[("EH01", PERIOD)].body == "A fuller account of the quarter."
    versions = commentary.history(people, commentary.Key(PLAN, "EH01", COUNTY, PERIOD))
    assert [(v.body, v.state, v.superseded_at is not None) for v in versions] == [
        ("First account of the quarter.", "approved", True), ("A fuller account of the quarter.", "approved", False)]


def test_a_returned_draft_keeps_its_reason_and_the_approved_text_stays(people, config, clock):
    first = draft(people, config, "Approved words.")
    commentary.approve(people, who("lena"), first.comment_id)
    second = draft(people, config, "Words the lead sends back.")
    with pytest.raises(commentary.CommentaryError, match="say why"):
        commentary.return_draft(people, who("lena"), second.comment_id, "  ")
    returned = commentary.return_draft(people, who("lena"), second.comment_id, "Say by when the clinics end.")
    assert returned.state == "returned"
    assert commentary.approved(people, PLAN, COUNTY)[("EH01", PERIOD)].body == "Approved words."
    waiting = commentary.pending(people, who("eddie"), PLAN, COUNTY)[("EH01", COUNTY, PERIOD)]
    assert (waiting.state, waiting.decision_reason) == ("returned", "Say by when the clinics end.")
    with pytest.raises(commentary.CommentaryError, match="not a draft waiting"):
        commentary.approve(people, who("leo"), second.comment_id)
    # The author's next version replaces the returned draft and waits for approval again.
    third = draft(people, config, "Words with a date: clinics run until 31 March.")
    assert commentary.pending(people, who("eddie"), PLAN, COUNTY)[("EH01", COUNTY, PERIOD)].comment_id == \
        third.comment_id


def test_saving_the_same_text_again_changes_nothing(people, config):
    c = draft(people, config, "Same words.")
    assert draft(people, config, "  Same words.  ") is None
    commentary.approve(people, who("lena"), c.comment_id)
    assert draft(people, config, "Same words.") is None
    assert commentary.pending(people, who("eddie"), PLAN, COUNTY) == {}


def test_as_at_shows_the_commentary_approved_at_that_date(people, config, clock):
    first = draft(people, config, "January's words.")
    clock.at = datetime(2026, 1, 15, 10, 0)
    commentary.approve(people, who("lena"), first.comment_id)
    clock.at = datetime(2026, 3, 1, 10, 0)
    second = draft(people, config, "March's words.")
    clock.at = datetime(2026, 3, 5, 10, 0)
    commentary.approve(people, who("lena"), second.comment_id)

    def at(day):
        found = commentary.approved(people, PLAN, COUNTY, as_at=day).get(("EH01", PERIOD))
        return found.body if found else None

    assert at(datetime(2026, 1, 14).date()) is None
    assert at(datetime(2026, 1, 15).date()) == "January's words."
    assert at(datetime(2026, 3, 4).date()) == "January's words."  # the March draft was not yet approved
    assert at(datetime(2026, 3, 5).date()) == "March's words."


@pytest.mark.parametrize("text, problem", [
    ("", "empty"), ("   \n ", "empty"), ("x" * 1501, "1,501 characters; at most 1,500"),
    ("bell \x07 ring", "control characters"),
])
def test_commentary_must_be_plain_text_within_the_stated_limit(people, config, text, problem):
    with pytest.raises(commentary.CommentaryError, match=problem):
        draft(people, config, text)


@pytest.mark.parametrize("kpi, area, period, problem", [
    ("ZZ99", COUNTY, PERIOD, "not a KPI"), ("EH01", "Atlantis", PERIOD, "not a known area"),
    ("EH01", COUNTY, "Spring", "not a period"), ("EH01", COUNTY, "2099/00 Q1", "in the future"),
])
def test_the_kpi_area_and_period_are_checked(people, config, kpi, area, period, problem):
    with pytest.raises(commentary.CommentaryError, match=problem):
        commentary.write_draft(people, who("eddie"), config, kpi, area, period, "Words.")


def test_every_step_is_audited_with_who_did_it(people, config):
    c = draft(people, config, "One.")
    commentary.return_draft(people, who("lena"), c.comment_id, "Too short.")
    c = draft(people, config, "One, with more.")
    commentary.approve(people, who("leo"), c.comment_id)
    assert audit_actions(people) == [("eddie", "commentary draft"), ("lena", "commentary returned"),
                                     ("eddie", "commentary draft"), ("leo", "commentary approved")]


def test_the_overview_mark_lists_commentary_approved_in_the_last_days(people, config, clock):
    c = draft(people, config)
    clock.at = datetime(2026, 1, 11, 9, 0)
    commentary.approve(people, who("lena"), c.comment_id)
    assert commentary.new_approvals(people, PLAN, COUNTY, 30, as_at=datetime(2026, 1, 20)) == {("EH01", PERIOD)}
    assert commentary.new_approvals(people, PLAN, COUNTY, 30, as_at=datetime(2026, 3, 1)) == set()


# --- the CSV upload ------------------------------------------------------------------------------------

GOOD = (b"KPI,Area,Period,Commentary\r\n"
        b"EH01,Worcestershire,2025/26 Q4,Reviews fell in the holidays.\r\n"
        b"eh02,E10000034,2025/26 q4,\"Take-up rose; the new \"\"text reminder\"\" began in February.\"\r\n")


def test_a_clean_file_becomes_drafts_all_at_once(people, config):
    upload = commentary_upload.validate_csv(config, GOOD, "words.csv")
    assert upload.ok, [str(p) for p in upload.problems]
    result = commentary_upload.save_upload(people, who("eddie"), upload)
    assert (result.drafts, result.unchanged) == (2, 0)
    waiting = commentary.pending(people, who("eddie"), PLAN, COUNTY)
    assert waiting[("EH02", COUNTY, PERIOD)].body == 'Take-up rose; the new "text reminder" began in February.'
    assert commentary.approved(people, PLAN, COUNTY) == {}
    assert ("eddie", "commentary upload") in audit_actions(people)


def test_a_file_with_any_problem_loads_nothing_and_names_row_and_column(people, config):
    bad = (b"kpi,area,period,commentary\n"
           b"EH01,E10000034,2025/26 Q4,Fine words.\n"
           b"XX01,E10000034,2025/26 Q4,Words.\n"
           b"EH02,Nowhere,2025/26 Q4,\n"
           b"EH03,E10000034,Spring,Words.\n"
           b"EH01,Worcestershire,2025/26 Q4,The same KPI again.\n")
    before = store.content_checksum(people)
    upload = commentary_upload.validate_csv(config, bad, "bad.csv")
    assert not upload.ok and upload.rows == []
    assert [str(p) for p in upload.problems] == [
        'row 3, column kpi: "XX01" is not a KPI in any plan',
        'row 4, column area: "Nowhere" is not a known area',
        "row 4, column commentary: the commentary is empty: write what happened, why, what is being done and by when",
        'row 5, column period: "Spring" is not a period: write a quarter like "2023/24 Q1" or a year like "2023/24"',
        "row 6, column kpi: EH01, E10000034, 2025/26 Q4 is already on row 2",
    ]
    with pytest.raises(commentary.CommentaryError):
        commentary_upload.save_upload(people, who("eddie"), upload)
    assert store.content_checksum(people) == before


@pytest.mark.parametrize("data, problem", [
    (b"kpi,area,period\nEH01,E10000034,2025/26 Q4\n", "column commentary: there is no commentary column"),
    (b"", "the file is empty"),
    (b"kpi,area,period,commentary\n", "row 1: the file has a header row but no commentary"),
    (b"PK\x03\x04rest", "Excel workbook"),
])
def test_a_file_that_is_not_a_commentary_csv_is_refused(config, data, problem):
    upload = commentary_upload.validate_csv(config, data, "x.csv")
    assert not upload.ok
    assert any(problem in str(p) for p in upload.problems), [str(p) for p in upload.problems]


def test_an_upload_needs_an_editor(people, config):
    upload = commentary_upload.validate_csv(config, GOOD, "words.csv")
    before = store.content_checksum(people)
    with pytest.raises(auth.PermissionDenied):
        commentary_upload.save_upload(people, who("vera"), upload)
    assert store.content_checksum(people) == before


# --- the command line ------------------------------------------------------------------------------------

def test_the_command_line_imports_lists_and_exports(people, config, tmp_path, capsys):
    good = tmp_path / "words.csv"
    good.write_bytes(GOOD.replace(b"Reviews fell", b"=Reviews fell"))
    assert cli.main(["commentary", "import", str(good), "--user", "pat"]) == 0
    assert "2 draft(s)" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"kpi,area,period,commentary\nEH01,E10000034,2025/26 Q4,\n")
    assert cli.main(["commentary", "import", str(bad)]) == 1
    out = capsys.readouterr()
    assert "row 2, column commentary" in out.out and "nothing was loaded" in out.err
    assert cli.main(["commentary", "list", "--format", "json"]) == 0
    listed = capsys.readouterr().out
    assert '"written_by": "pat"' in listed and '"state": "draft"' in listed
    out_file = tmp_path / "export.csv"
    assert cli.main(["commentary", "export", "--out", str(out_file)]) == 0
    exported = out_file.read_text(encoding="utf-8-sig")
    assert exported.splitlines()[0].startswith("kpi,area,period,commentary,state")
    assert "'=Reviews fell" in exported  # neutralised for spreadsheets
    # The export goes back in as it came out: nothing new to sign off.
    capsys.readouterr()
    assert cli.main(["commentary", "import", str(out_file), "--user", "pat"]) == 0
    assert "0 draft(s)" in capsys.readouterr().out


# --- the partnership page (AppTest) -------------------------------------------------------------------

QUERY = {"area": COUNTY, "partnership": "early-help", "kpi": "EH01"}


def page_as(app_page, name):
    from page_text import texts

    at = app_page("partnership.py", query=QUERY, state={session.SESSION_ACCOUNT: who(name)} if name else {})
    assert not at.exception, [e.value for e in at.exception]
    return at, texts(at)


def test_the_page_shows_viewers_the_approved_commentary_and_editors_the_draft(people, config, app_page):
    c = draft(people, config, "Approved: reviews recovered in March.")
    commentary.approve(people, who("lena"), c.comment_id)
    draft(people, config, "Draft: a fuller account.")
    at, shown = page_as(app_page, "vera")
    assert "Approved: reviews recovered in March." in shown
    assert "approved by lena on" in shown
    assert "Draft: a fuller account." not in shown
    assert not at.text_area  # no form for a viewer
    at, shown = page_as(app_page, "eddie")
    assert "Draft: a fuller account." in shown and "Draft waiting for a lead's approval" in shown
    assert "at most 1,500 characters" in shown
    labels = [b.label for b in at.button]
    assert "Save draft" in labels and "Approve" not in labels  # an editor cannot approve
    at, shown = page_as(app_page, None)
    assert "Draft: a fuller account." not in shown and "Written from the figures" in shown


def test_an_editor_writes_and_a_lead_approves_on_the_page(people, config, app_page):
    at, _ = page_as(app_page, "eddie")
    at.text_area(key="w_commentary_EH01").input("Typed on the page.")
    next(b for b in at.button if b.label == "Save draft").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert [s.value for s in at.success] == [f"Draft saved for EH01 ({PERIOD})."]
    at, shown = page_as(app_page, "lena")
    assert "Typed on the page." in shown
    next(b for b in at.button if b.label == "Approve").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert commentary.approved(people, PLAN, COUNTY)[("EH01", PERIOD)].decided_by == "lena"
    assert ("lena", "commentary approved") in audit_actions(people)


def test_the_page_marks_figures_not_yet_signed_off(people, config, app_page):
    _, shown = page_as(app_page, "vera")
    assert "Not yet signed off" in shown
    from cypp_dash import release

    release.release(people, who("lena"), config.plan(), PERIOD)
    _, shown = page_as(app_page, "vera")
    assert "Not yet signed off" not in shown


def test_the_overview_marks_kpis_with_new_approved_commentary(people, config, app_page):
    from page_text import texts

    at = app_page("overview.py", query={"area": COUNTY})
    assert "New commentary" not in texts(at)
    c = draft(people, config)
    commentary.approve(people, who("lena"), c.comment_id)
    at = app_page("overview.py", query={"area": COUNTY})
    assert not at.exception, [e.value for e in at.exception]
    assert "New commentary approved in the last 30 days on EH01" in " ".join(texts(at).split())


def test_a_lead_signs_off_a_quarter_on_the_commentary_page(people, config, app_page):
    from page_text import texts

    from cypp_dash import release

    at = app_page("commentary.py", state={session.SESSION_ACCOUNT: who("vera")})
    assert not at.exception and "Sign off for the public view" not in [b.label for b in at.button]
    at = app_page("commentary.py", state={session.SESSION_ACCOUNT: who("lena")})
    assert "No period of this plan has been signed off yet" in texts(at)
    next(b for b in at.button if b.label == "Sign off for the public view").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert release.public_release(people, PLAN).released_by == "lena"
    assert f"The public view shows figures up to {release.public_release(people, PLAN).period}" in texts(at)


def test_the_history_of_every_version_is_for_editors_and_leads(people, config):
    c = draft(people, config, "One.")
    commentary.return_draft(people, who("lena"), c.comment_id, "More, please.")
    draft(people, config, "One, and more.")
    with pytest.raises(auth.PermissionDenied):
        commentary.versions(people, who("vera"), PLAN)
    states = [(v.body, v.state) for v in commentary.versions(people, who("eddie"), PLAN)]
    assert states == [("One.", "replaced"), ("One, and more.", "draft")]


def test_the_word_report_carries_the_narrative_and_the_approved_commentary_only(people, config):
    from cypp_dash import export, narrative, status

    c = draft(people, config, "Approved words for the board paper.")
    commentary.approve(people, who("lena"), c.comment_id)
    draft(people, config, "Draft words never in the paper.")
    doc = export.report_document(people, config, config.plan(), "early-help", area=COUNTY)
    paragraphs = [p.text for p in doc.paragraphs]
    rows = status.plan_status(people, config, config.plan(), COUNTY, partnership_id="early-help")
    assert f"{narrative.LABEL}: {narrative.paragraph(rows)}" in paragraphs
    assert "Officer commentary: Approved words for the board paper." in paragraphs
    assert any(p.startswith("Written by eddie on ") and "approved by lena" in p for p in paragraphs)
    assert not any("Draft words" in p for p in paragraphs)
    assert any(p.startswith("Sign-off: ") and "not yet signed off" in p for p in paragraphs)
