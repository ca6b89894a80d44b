"""Data that cannot hurt: an upload whose notes hold script, HTML, javascript: links and
spreadsheet formulas loads as valid data, and every page then shows it only as plain text;
the Streamlit settings that limit uploads and keep the dashboard quiet are in place."""
from __future__ import annotations

import re
import tomllib
from html.parser import HTMLParser

import pytest
from google.protobuf import json_format
from page_text import html_text
from security_payloads import (
    ALL_IN_ONE,
    DRAFT_PAYLOAD,
    FILE_NAME,
    PAYLOADS,
    RAW_MARKUP,
    load_commentary,
    load_payloads,
    payload_period,
    payload_rows,
)
from streamlit import dataframe_util

from cypp_dash import auth, store
from cypp_dash.auth import Account
from cypp_dash.config import ROOT
from cypp_dash.web import session
from cypp_dash.web.text import WORD_JOINER, markdown_literal

PAGE_FILES = sorted(p.name for p in (ROOT / "pages").glob("*.py"))
# Elements that draw their content as plain text, whatever it holds (a chart's tooltips are escaped by Vega).
PLAIN_TEXT = {"text", "dataframe", "code", "json", "vega_lite_chart", "selectbox", "multiselect", "radio",
              "button_group", "event", "text_area", "text_input"}  # a text box holds its value as editable text
CHARTS = {"vega_lite_chart"}
# Elements that put their content into the page as HTML, where a backslash escapes nothing.
HTML = {"html"}
# A backslash before ASCII punctuation makes Markdown show that character literally.
MARKDOWN_ESCAPE = re.compile(r"\\[!-/:-@\[-`{-~]")


def elements(node):
    """Every block and element of an AppTest tree, depth first."""
    yield node
    for child in getattr(node, "children", {}).values():
        yield from elements(child)


def strings(value):
    """Every string inside a protobuf message turned into dicts and lists."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def table_strings(node):
    """The cells and headers of an st.table, as stored and as displayed through its Styler."""
    frames = [node.value]
    styler = node.proto.arrow_data.styler
    if styler.display_values:
        frames.append(dataframe_util.convert_arrow_bytes_to_pandas_df(styler.display_values))
    for df in frames:
        yield from (str(c) for c in df.columns)
        yield from (v for v in df.to_numpy().ravel() if isinstance(v, str))


AUTOLINK = re.compile(r"://|www\.|[\w.+-]@[\w-]+\.")


def markup_in(text: str, as_html: bool = False) -> list[str]:
    """The payload markup still live in text bound for Markdown (after its backslash escapes) or HTML;
    for Markdown also a payload that would become an automatic link (http://, www., name@host)."""
    if as_html:
        return live_html(text)
    live = MARKDOWN_ESCAPE.sub("", text).lower()
    found = [m for m in RAW_MARKUP if m in live]
    if "cypp-xss" in live and AUTOLINK.search(live):
        found.append("an automatic link")
    return found


class _LiveHtml(HTMLParser):
    """The markup a browser would act on in an HTML text: script-like tags, event handler attributes,
    javascript: addresses, and pictures other than the dashboard's own chart pictures (SVG data)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "iframe", "object", "embed", "svg", "math"):
            self.found.append(f"<{tag}")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{name}=")
            if value and value.strip().lower().startswith("javascript:"):
                self.found.append("javascript:")
        if tag == "img" and not (dict(attrs).get("src") or "").startswith("data:image/svg+xml;base64,"):
            self.found.append("<img")


def live_html(text: str) -> list[str]:
    parser = _LiveHtml()
    parser.feed(text)
    parser.close()
    return parser.found


def as_read(markdown_cell: str) -> str:
    """What a reader sees of a Markdown cell escaped by web.text.markdown_literal."""
    return MARKDOWN_ESCAPE.sub(lambda m: m.group(0)[1], markdown_cell).replace(WORD_JOINER, "")


def markup_leaks(at) -> list[str]:
    """Where raw markup from the payloads reached an element that renders Markdown or HTML
    (reusable by any page test: pass a run AppTest; an empty list means nothing leaked)."""
    leaks = []
    for node in elements(at._tree):
        proto = getattr(node, "proto", None)
        if proto is None:
            continue
        if node.type in PLAIN_TEXT:
            if node.type in CHARTS and '"href"' in str(proto):
                leaks.append(f"{node.type}: a chart mark links somewhere (href)")
            continue
        texts = table_strings(node) if node.type == "table" else strings(json_format.MessageToDict(proto))
        for text in texts:
            found = markup_in(text, as_html=node.type in HTML)
            if found:
                leaks.append(f"{node.type}: {', '.join(found)} in {text[:120]!r}")
    return leaks


def plain_text_shown(at) -> str:
    """Everything the page shows as plain text or in tables, joined (to find the notes in)."""
    parts = [t.value for t in at.text]
    for df in (d.value for d in at.dataframe):
        parts.extend(str(v) for v in df.astype(str).to_numpy().ravel())
    for table in at.table:
        # What a reader sees of an escaped Markdown cell: the characters without their backslashes.
        parts.extend(as_read(v) for v in table_strings(table))
    # Escaped HTML (tables and tiles drawn from cypp_dash/web/templates): the words as a browser shows them.
    parts.extend(html_text(e.value) for e in at.get("html"))
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
    state = {session.SESSION_ACCOUNT: who} if who else {}
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
    at = app_page("admin.py", state={session.SESSION_ACCOUNT: Account("ada", "admin")})
    assert not at.exception
    assert FILE_NAME in plain_text_shown(at)
    assert markup_leaks(at) == []


def test_the_leak_check_catches_markup_from_data():
    """The check itself fails when a note goes into markdown, so the page tests above can fail."""
    from streamlit.testing.v1 import AppTest

    def leaky_page():
        import pandas as pd
        import streamlit as st

        from cypp_dash.web.text import markdown_literal

        st.markdown("Note: <script>alert('cypp-xss-script')</script>")
        st.caption("[click](javascript:alert(1))")
        st.table(pd.DataFrame({"Note": ["<img src=x onerror=alert(1)>"]}))
        st.table(pd.DataFrame({"Note": [markdown_literal("<b>") + " http://example.invalid/cypp-xss-x"]}))
        st.expander("<img src=x onerror=alert(2)>")
        st.html('<p>Note: <a href="javascript:alert(3)">x</a></p>')
        # Shown safely: plain text, a table, and a Markdown table cell escaped character by character.
        st.text("<script>alert('harmless as text')</script>")
        st.dataframe(pd.DataFrame({"Note": ["<script>alert('harmless in a grid')</script>"]}))
        st.table(pd.DataFrame({"Note": [markdown_literal("<script>alert('escaped')</script>")]}))

    at = AppTest.from_function(leaky_page, default_timeout=60).run()
    leaks = markup_leaks(at)
    assert [leak.split(":")[0] for leak in leaks] == ["markdown", "caption", "table", "table", "expander", "html"]
    assert "an automatic link" in leaks[3]
    assert "<script>alert('escaped')</script>" in plain_text_shown(at)


def test_the_html_pieces_escape_every_value_so_a_note_shows_exactly_as_typed():
    """cypp_dash.web.components draws tables, tiles and definitions as HTML: a hostile note in a cell stays text."""
    from streamlit.testing.v1 import AppTest

    def table_page():
        import pandas as pd
        from security_payloads import ALL_IN_ONE, PAYLOADS

        from cypp_dash.web import components

        components.table_html(pd.DataFrame({"Area": list(PAYLOADS), "Note": list(PAYLOADS.values())}), caption=ALL_IN_ONE)
        components.table_html(pd.DataFrame({"Note": [ALL_IN_ONE]}), rag=["red"], rag_column="Note")

    at = AppTest.from_function(table_page, default_timeout=60).run()
    assert not at.exception
    assert markup_leaks(at) == []
    shown = plain_text_shown(at)
    for note in [*PAYLOADS.values(), ALL_IN_ONE]:
        assert note in shown


@pytest.mark.parametrize("text", [*PAYLOADS.values(), ALL_IN_ONE, "mail a@b.example or www.example.org",
                                  "*bold* _it_ `code` # h | \\ 87.6% &amp;"])
def test_markdown_literal_text_reads_exactly_as_typed_and_holds_no_live_markup(text):
    cell = markdown_literal(text)
    assert as_read(cell) == text
    assert markup_in(cell + " cypp-xss") == []


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


def test_pages_do_not_rely_on_streamlit_magic_which_is_switched_off():
    """runner.magicEnabled is false (README Performance), so a bare expression in a page would show
    nothing: no page or script has one (docstrings aside)."""
    import ast

    assert streamlit_settings()["runner"]["magicEnabled"] is False
    bare = []
    for script in [ROOT / "app.py", ROOT / "dashboard.py", *sorted((ROOT / "pages").glob("*.py"))]:
        for node in ast.walk(ast.parse(script.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Expr) and not isinstance(node.value, (ast.Call, ast.Await, ast.Yield)) and not (
                    isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
                bare.append(f"{script.name}:{node.lineno}")
    assert bare == []


def test_no_page_or_module_passes_unsafe_html_to_streamlit():
    """unsafe_allow_html is never used; st.html appears only with fixed text (checked by reading)."""
    sources = [*(ROOT / "pages").glob("*.py"), *(ROOT / "cypp_dash").glob("*.py"), ROOT / "app.py", ROOT / "dashboard.py"]
    offenders = [p.name for p in sources if "unsafe_allow_html=True" in p.read_text(encoding="utf-8")]
    assert offenders == []


# --- officer commentary is user text too (cypp_dash/commentary.py) ---------------------------------------

@pytest.fixture
def hostile_commentary(hostile_store, config):
    """The hostile store plus approved hostile commentary on the county's EH01 and a hostile draft."""
    load_commentary(hostile_store, config)
    return hostile_store


@pytest.mark.parametrize("who", [None, Account("ada", "admin")], ids=["nobody", "admin"])
@pytest.mark.parametrize("name", ["partnership.py", "commentary.py", "overview.py"])
def test_no_page_renders_commentary_as_markup(hostile_commentary, app_page, name, who):
    state = {session.SESSION_ACCOUNT: who} if who else {}
    at = app_page(name, query={"area": "E10000034", "partnership": "early-help", "kpi": "EH01"}, state=state)
    assert not at.exception, [e.value for e in at.exception]
    assert markup_leaks(at) == []
    shown = plain_text_shown(at)
    if name != "overview.py":
        assert ALL_IN_ONE in shown
    # The draft is for editors and leads: an admin sees it, a visitor never does.
    assert (DRAFT_PAYLOAD in shown) == (who is not None and name != "overview.py")


def test_the_public_view_shows_released_commentary_as_plain_text(hostile_commentary, app_page, config, tmp_path,
                                                                 monkeypatch):
    import yaml

    from cypp_dash import release

    release.release(hostile_commentary, Account("hostile-lead", "lead"), config.plan(), payload_period())
    raw = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    raw["settings"]["public_view"] = True
    raw["plan_files"] = str(ROOT / "plans")
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    monkeypatch.setenv("CYPP_CONFIG", str(tmp_path / "config.yaml"))
    at = app_page("public.py")
    assert not at.exception, [e.value for e in at.exception]
    assert markup_leaks(at) == []
    shown = plain_text_shown(at)
    assert ALL_IN_ONE in shown and DRAFT_PAYLOAD not in shown


def test_commentary_downloads_are_neutralised_and_the_word_report_holds_it_as_plain_text(hostile_commentary,
                                                                                         config):
    import io

    from openpyxl import load_workbook

    from cypp_dash import commentary, export

    table = commentary.frame(commentary.current_rows(hostile_commentary))
    csv_text = export.table_csv(table).decode("utf-8-sig")
    assert "'=HYPERLINK" in csv_text and "\n=HYPERLINK" not in csv_text and ",=HYPERLINK" not in csv_text
    sheet = load_workbook(io.BytesIO(export.table_xlsx(table))).active
    cells = [c for r in sheet.iter_rows() for c in r if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert cells and all(c.data_type == "s" and not c.value.startswith("=") for c in cells)

    doc = export.report_document(hostile_commentary, config, config.plan(), "early-help", area="E10000034")
    paragraphs = [p.text for p in doc.paragraphs]
    assert "Officer commentary: " + ALL_IN_ONE in paragraphs  # approved commentary, exactly as typed
    assert not any(DRAFT_PAYLOAD in p for p in paragraphs)  # never a draft
    xml = doc.element.xml
    assert "w:hyperlink" not in xml and "w:fldSimple" not in xml and "w:instrText" not in xml
