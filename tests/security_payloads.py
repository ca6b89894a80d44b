"""Hostile text for the "data that cannot hurt" tests: notes that would run script, open a
javascript: link or become a spreadsheet formula if any output treated them as more than text.
Shared by the AppTest checks (tests/test_security.py) and the browser checks."""
from __future__ import annotations

import csv
import io
from datetime import date

from cypp_dash.periods import quarter_containing

# Each payload carries its own harmless marker, so a test can tell which one leaked where.
PAYLOADS = {
    "script": "<script>alert('cypp-xss-script')</script>",
    "img": "<img src=x onerror=alert('cypp-xss-img')>",
    "javascript link": "[click](javascript:alert('cypp-xss-link'))",
    "hyperlink formula": '=HYPERLINK("http://example.invalid/cypp-xss-formula","click")',
    "plus formula": "+1+1 cypp-xss-plus",
    "minus formula": "-1+2 cypp-xss-minus",
    "at formula": "@SUM(A1) cypp-xss-at",
}
# Substrings that must never reach an output that interprets markup (markdown, HTML) raw.
RAW_MARKUP = ("<script", "<img", "onerror=", "javascript:")
KPI = "EH01"
COUNTY = "E10000034"
DISTRICTS = ("E07000234", "E07000235", "E07000236", "E07000237", "E07000238", "E07000239")
FILE_NAME = "notes.csv"
# The county's note holds every payload at once, so a page showing only the county shows them all.
ALL_IN_ONE = " | ".join(PAYLOADS.values())


def payload_period(today: date | None = None) -> str:
    """The quarter containing today: the newest period an upload may give, so these notes are the
    latest figures' notes (the ones pages show) whatever else the store holds."""
    return quarter_containing(today or date.today()).label


def payload_rows(today: date | None = None) -> list[dict[str, str]]:
    """EH01 for the county (every payload in one note) and each district (one payload each), one period."""
    period = payload_period(today)
    rows = [{"kpi": KPI, "area": COUNTY, "period": period, "value": "84.5", "note": ALL_IN_ONE}]
    for area, note in zip(DISTRICTS, [*PAYLOADS.values()][:len(DISTRICTS)]):
        rows.append({"kpi": KPI, "area": area, "period": period, "value": "80.0", "note": note})
    return rows


def payload_csv(today: date | None = None) -> bytes:
    """The upload file: valid data whose notes are hostile (written with csv, so quotes are escaped)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["kpi", "area", "period", "value", "note"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(payload_rows(today))
    return out.getvalue().encode("utf-8")


def load_payloads(conn, config, user: str = "security-test"):
    """Validate and load the payload file into a store; returns loading.ImportOutcome."""
    from cypp_dash import loading

    return loading.import_file(conn, config, payload_csv(), FILE_NAME, user)

# For a browser test: run in the page (Playwright's page.evaluate) after it has drawn; every count
# must be 0. `shown` says whether any payload's marker is visible as text on the page.
BROWSER_CHECK_JS = """() => ({
  javascript_links: [...document.querySelectorAll('a[href]')]
      .filter(a => a.getAttribute('href').trim().toLowerCase().startsWith('javascript')).length,
  links_from_notes: [...document.querySelectorAll('a[href]')].filter(a => a.href.includes('example.invalid')).length,
  images_with_handlers: [...document.querySelectorAll('img')].filter(i => i.getAttribute('onerror')).length,
  scripts_from_notes: [...document.querySelectorAll('script')].filter(s => s.textContent.includes('cypp-xss')).length,
  shown: document.body.innerText.includes('cypp-xss'),
})"""


def load_commentary(conn, config, today: date | None = None) -> None:
    """Hostile officer commentary on the county's EH01 at the payload period: one approved version holding
    every payload, then a hostile draft waiting (a writer and a lead account are added to do it)."""
    from cypp_dash import auth, commentary
    from cypp_dash.auth import Account

    auth.add_user(conn, "hostile-writer", "editor", "writer password three", actor="test setup")
    auth.add_user(conn, "hostile-lead", "lead", "lead password three", actor="test setup")
    writer, lead = Account("hostile-writer", "editor"), Account("hostile-lead", "lead")
    period = payload_period(today)
    c = commentary.write_draft(conn, writer, config, KPI, COUNTY, period, ALL_IN_ONE)
    commentary.approve(conn, lead, c.comment_id)
    commentary.write_draft(conn, writer, config, KPI, COUNTY, period, DRAFT_PAYLOAD)
    # A commentary that starts as a spreadsheet formula (on another KPI), for the downloads.
    c = commentary.write_draft(conn, writer, config, "EH02", COUNTY, period, PAYLOADS["hyperlink formula"])
    commentary.approve(conn, lead, c.comment_id)


DRAFT_PAYLOAD = "draft: " + PAYLOADS["img"] + " " + PAYLOADS["hyperlink formula"]
