"""Data that cannot hurt: an upload whose notes hold script, HTML, javascript: links and
spreadsheet formulas loads as valid data, and every page then shows it only as plain text;
the Streamlit settings that limit uploads and keep the dashboard quiet are in place."""
from __future__ import annotations

import tomllib

import pytest
from security_payloads import ALL_IN_ONE, FILE_NAME, PAYLOADS, RAW_MARKUP, load_payloads, payload_rows

from cypp_dash import auth, store
from cypp_dash.auth import Account
from cypp_dash.config import ROOT

PAGE_FILES = sorted(p.name for p in (ROOT / "pages").glob("*.py"))
# Elements that draw their content as plain text, whatever it holds.
PLAIN_TEXT = {"text", "dataframe", "arrow_data_frame", "code", "json", "vega_lite_chart", "arrow_vega_lite_chart",
              "selectbox", "multiselect", "radio", "button_group", "event"}
# Elements that put their content into the page as HTML: not even a link may come from data.
HTML = {"html"}


def elements(node):
    """Every block and element of an AppTest tree, depth first."""
    yield node
    for child in getattr(node, "children", {}).values():
        yield from elements(child)


def markup_leaks(at) -> list[str]:
    """Where raw markup from the payloads reached an element that renders markdown or HTML
    (reusable by any page test: pass a run AppTest; an empty list means nothing leaked)."""
    leaks = []
    for node in elements(at._tree):
        proto = getattr(node, "proto", None)
        if proto is None or node.type in PLAIN_TEXT:
            if node.type in ("vega_lite_chart", "arrow_vega_lite_chart") and '"href"' in str(proto):
                leaks.append(f"{node.type}: a chart mark links somewhere (href)")
            continue
        text = str(proto)
        markers = ("<script", "<img") if node.type in HTML else RAW_MARKUP
        found = [m for m in markers if m in text.lower()]
        if found:
            leaks.append(f"{node.type}: {', '.join(found)} in {text[:160]!r}")
    return leaks


def plain_text_shown(at) -> str:
    """Everything the page shows as plain text or in tables, joined (to find the notes in)."""
    parts = [t.value for t in at.text]
    for df in (d.value for d in at.dataframe):
        parts.extend(str(v) for v in df.astype(str).to_numpy().ravel())
    return "\n".join(parts)


@pytest.fixture
def hostile_store(db_path, monkeypatch, config):
    """The bundled store with the hostile notes loaded, and an admin account (who sees every page)."""
    conn = store.process_connection(db_path)
    outcome = load_payloads(conn, config)
    assert outcome.loaded, [str(p) for p in outcome.validated.problems]
    auth.add_user(conn, "ada", "admin", "admin password three", actor="test setup")
    return conn


def test_the_hostile_notes_are_valid_data_and_are_stored_exactly_as_written(hostile_store):
    notes = {area: note for area, note in hostile_store.execute(
        "SELECT area_code, note FROM observations WHERE note LIKE '%cypp-xss%' AND superseded_at IS NULL").fetchall()}
    expected = {row["area"]: row["note"] for row in payload_rows()}
    assert notes == expected
    assert notes["E10000034"] == ALL_IN_ONE


@pytest.mark.parametrize("who", [None, Account("ada", "admin")], ids=["nobody", "admin"])
@pytest.mark.parametrize("name", PAGE_FILES)
def test_no_page_renders_a_note_as_markup(hostile_store, app_page, name, who):
    state = {auth.SESSION_ACCOUNT: who} if who else {}
    at = app_page(name, query={"area": "E10000034"}, state=state)
    assert not at.exception, [e.value for e in at.exception]
    assert markup_leaks(at) == []


@pytest.mark.parametrize("name, expected", [
    ("partnership.py", [ALL_IN_ONE]),
    ("districts.py", list(PAYLOADS.values())[:6]),
])
def test_the_notes_are_shown_beside_their_figures_as_plain_text(hostile_store, app_page, name, expected):
    at = app_page(name, query={"area": "E10000034", "partnership": "early-help", "kpi": "EH01"})
    assert not at.exception
    shown = plain_text_shown(at)
    for note in expected:
        assert note in shown


def test_the_admin_audit_log_shows_the_upload_file_name_as_text(hostile_store, app_page):
    at = app_page("admin.py", state={auth.SESSION_ACCOUNT: Account("ada", "admin")})
    assert not at.exception
    assert FILE_NAME in plain_text_shown(at)
    assert markup_leaks(at) == []


def test_the_leak_check_catches_markup_from_data():
    """The check itself fails when a note goes into markdown, so the page tests above can fail."""
    from streamlit.testing.v1 import AppTest

    def leaky_page():
        import streamlit as st

        st.markdown("Note: <script>alert('cypp-xss-script')</script>")
        st.caption("[click](javascript:alert(1))")
        st.text("<script>alert('harmless as text')</script>")

    at = AppTest.from_function(leaky_page).run()
    leaks = markup_leaks(at)
    assert len(leaks) == 2
    assert leaks[0].startswith("markdown: <script")


# --- the Streamlit settings ---------------------------------------------------------------------

def streamlit_settings() -> dict:
    return tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))


def test_the_upload_limit_in_streamlit_matches_the_dashboard_setting(config):
    assert streamlit_settings()["server"]["maxUploadSize"] == config.settings.upload_max_mb


@pytest.mark.parametrize("section, key, value", [
    ("browser", "gatherUsageStats", False),
    ("server", "enableXsrfProtection", True),
    ("server", "enableCORS", True),
    ("client", "toolbarMode", "viewer"),
    ("client", "showErrorDetails", "type"),
])
def test_streamlit_is_set_up_safely(section, key, value):
    assert streamlit_settings()[section][key] == value


def test_no_page_or_module_passes_unsafe_html_to_streamlit():
    """unsafe_allow_html is never used; st.html appears only with fixed text (checked by reading)."""
    sources = [*(ROOT / "pages").glob("*.py"), *(ROOT / "cypp_dash").glob("*.py"), ROOT / "app.py"]
    offenders = [p.name for p in sources if "unsafe_allow_html=True" in p.read_text(encoding="utf-8")]
    assert offenders == []
