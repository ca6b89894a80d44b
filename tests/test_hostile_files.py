"""Hostile upload shapes are refused with the row and column, cheaply: limits are checked before a
table is built (columns, rows, cell length; an XLSX sheet's declared size and each cell as it
streams), formula cells with no saved value are refused by name, a file mixing UTF-8 and
Windows-1252 is refused at the first row that disagrees, and impossible values (years 0 and
9999, over-long ids and figures, non-ASCII digits in codes) are refused, never an unexpected error.

The cost of refusing the worst shapes is measured in a child process (peak RSS from /proc's VmHWM,
CPU time from `resource`, wall time): at most 1 GB and 10 s each, generous bounds on this shared machine."""
from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
import zipfile

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_ingest import FINGERTIPS_RULES, FT_HEADER, RULES, assert_consistent, ft_row, messages

from cypp_dash import actions, upload_limits
from cypp_dash.config import ROOT
from cypp_dash.ingest import FORMULA_WITHOUT_VALUE, validate_upload

HEADER = "kpi,area,period,value,numerator,denominator,note\n"


def check(data: bytes, rules=RULES):
    result = validate_upload(data, "hostile", rules)
    assert_consistent(result)
    assert not result.ok
    assert not any("unexpected error" in p.message for p in result.problems), messages(result)
    return result


def places(result) -> set[tuple[int | None, str | None]]:
    return {(p.row, p.column) for p in result.problems}


# --- building hostile workbooks by hand (openpyxl would not write these shapes) ---------------

def _workbook(sheet_xml: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                   '<Default Extension="xml" ContentType="application/xml"/>'
                   '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
                   'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" '
                   'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
        z.writestr("_rels/.rels",
                   '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                   'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
                   '2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml",
                   '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                   'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
                   '<sheet name="upload" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels",
                   '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                   'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
                   '2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
        z.writestr("xl/worksheets/sheet1.xml", sheet_xml)
    return out.getvalue()


def _inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def padded_workbook(rows: int = 60_000, dimension: str | None = "A1:XFD60000") -> bytes:
    """The issue's 484 KB workbook: a real header and figures, then every row has one cell in XFD."""
    head = "".join(_inline(f"{c}1", t) for c, t in zip("ABCD", ["kpi", "area", "period", "value"]))
    body = [f'<row r="1">{head}</row>']
    for r in range(2, rows + 1):
        body.append(f'<row r="{r}">{_inline(f"A{r}", "EH01")}<c r="XFD{r}"><v>1</v></c></row>')
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return _workbook('<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
                     f'main">{dim}<sheetData>{"".join(body)}</sheetData></worksheet>')


def wide_csv(columns: int = 100_000) -> bytes:
    return (",".join(f"c{i}" for i in range(columns)) + "\n" + ",".join("1" for _ in range(columns)) + "\n").encode()


# --- the costly shapes, each refused within 1 GB and 10 s --------------------------------------

HOSTILE = {
    "100,000-column CSV": lambda: wide_csv(),
    "CSV whose data row has 100,000 cells": lambda: (HEADER + "EH01,Worcester,2023/24 Q1,5" + "," * 100_000
                                                     + "\n").encode(),
    "XLSX padded to column XFD on 60,000 rows": lambda: padded_workbook(),
    "XLSX padded to column XFD, dimension missing": lambda: padded_workbook(dimension=None),
    "XLSX padded to column XFD, dimension lying (A1:D2)": lambda: padded_workbook(dimension="A1:D2"),
    "XLSX declaring 5,000,000 rows": lambda: padded_workbook(rows=3, dimension="A1:D5000000"),
    "CSV of 2,100,000 rows (over the row limit)": lambda: (HEADER + "EH01,E10000034,2023/24 Q1,5,,,\n" * 2_100_000)
    .encode(),
    "CSV with a 49 MB note": lambda: (HEADER + "EH01,Worcester,2023/24 Q1,5,,," + "n" * (49 << 20) + "\n").encode(),
    "CSV of 1,000,000 rows, every value bad": lambda: (HEADER + "".join(
        f"EH01,E10000034,2023/24 Q1,x{i},,,\n" for i in range(1_000_000))).encode(),
}


def _measure_in_child(name: str, tmp_path) -> dict:
    path = tmp_path / "hostile.bin"
    path.write_bytes(HOSTILE[name]())
    script = textwrap.dedent(f"""
        import json, resource, time
        from pathlib import Path
        import test_ingest
        from cypp_dash.ingest import validate_upload
        data = Path({str(path)!r}).read_bytes()
        started = time.perf_counter()
        import dataclasses
        rules = dataclasses.replace(test_ingest.RULES, max_bytes=60 << 20)  # the shape is refused, not the size
        result = validate_upload(data, "hostile", rules)
        seconds = time.perf_counter() - started
        usage = resource.getrusage(resource.RUSAGE_SELF)
        # VmHWM is this process image's own peak: Linux carries ru_maxrss across exec, so it would count the
        # forked copy of a large parent (a full test run) as the child's.
        peak_kb = next(int(line.split()[1]) for line in Path("/proc/self/status").read_text().splitlines()
                       if line.startswith("VmHWM:"))
        print(json.dumps({{"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime, "peak_mb": peak_kb / 1024,
                          "ok": result.ok,
                          "problems": [[p.row, p.column, p.message] for p in result.problems]}}))
    """)
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT / "tests", capture_output=True, text=True,
                         timeout=300, env={"PYTHONPATH": f"{ROOT}:{ROOT / 'tests'}", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name", list(HOSTILE))
def test_costly_shapes_are_refused_within_1_gb_and_10_seconds(name, tmp_path):
    outcome = _measure_in_child(name, tmp_path)
    print(f"\n{name}: refused in {outcome['seconds']:.2f} s ({outcome['cpu']:.2f} s of CPU, start-up included), "
          f"peak {outcome['peak_mb']:.0f} MB")
    assert not outcome["ok"]
    assert outcome["problems"], outcome
    assert not any("unexpected error" in p[2] for p in outcome["problems"])
    assert outcome["peak_mb"] < 1024
    # The 10 s is the work the refusal costs this machine: CPU time (the shared two cores make wall time
    # depend on the neighbours), with a wall-clock bound as a guard against a hang.
    assert outcome["cpu"] < 10
    assert outcome["seconds"] < 60


def test_the_column_limit_names_the_row_and_the_first_column_beyond_it():
    result = check(wide_csv(1_000))
    assert places(result) == {(1, upload_limits.column_letter(upload_limits.MAX_COLUMNS))}
    assert "at most 200 columns" in messages(result)[0]


def test_a_padded_workbook_names_the_first_cell_beyond_the_limit():
    result = check(padded_workbook(rows=50, dimension=None))
    assert places(result) == {(2, "XFD")}
    declared = check(padded_workbook(rows=50))
    assert "runs to column XFD" in messages(declared)[0]


def test_cells_and_notes_longer_than_the_limit_are_refused():
    note = "n" * (upload_limits.MAX_CELL_CHARS + 1)
    result = check((HEADER + f"EH01,Worcester,2023/24 Q1,50,,,{note}\n").encode())
    assert places(result) == {(2, "note")}
    assert "1,001 characters; at most 1,000" in messages(result)[0]
    result = check((HEADER + f"EH01,{'W' * 5000},2023/24 Q1,50,,,\n").encode())
    assert (2, "area") in places(result)


# --- formulas with no saved value ---------------------------------------------------------------

def test_a_formula_with_no_saved_value_is_refused_naming_the_cell():
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["kpi", "area", "period", "value"])
    sheet.append(["EH01", "Worcester", "2023/24 Q1", "=40+2"])  # openpyxl saves no value for a formula
    sheet.append(["EH01", "Redditch", "2023/24 Q1", 55])
    out = io.BytesIO()
    book.save(out)
    result = check(out.getvalue())
    assert messages(result) == [f"row 2, column value: {FORMULA_WITHOUT_VALUE}"]


def test_a_formula_with_a_saved_value_is_read_as_that_value():
    sheet = ('<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             '<sheetData><row r="1">' + "".join(_inline(f"{c}1", t) for c, t in
                                                 zip("ABCD", ["kpi", "area", "period", "value"]))
             + '</row><row r="2">' + _inline("A2", "EH01") + _inline("B2", "Worcester") + _inline("C2", "2023/24 Q1")
             + '<c r="D2"><f>40+2</f><v>42</v></c></row></sheetData></worksheet>')
    result = validate_upload(_workbook(sheet), "saved.xlsx", RULES)
    assert result.ok, messages(result)
    assert result.rows["value"].tolist() == [42.0]


# --- encodings ------------------------------------------------------------------------------------

def test_a_file_mixing_utf8_and_windows_1252_is_refused_at_the_first_row_that_disagrees():
    data = (HEADER.encode() + "EH01,Worcester,2023/24 Q1,50,,,café\n".encode("utf-8")
            + b"EH01,Redditch,2023/24 Q1,51,,,\n" + "EH01,Wychavon,2023/24 Q1,52,,,caf\u00e9\n".encode("cp1252"))
    result = check(data)
    assert places(result) == {(4, None)}
    assert "mixes two encodings" in messages(result)[0]
    # The other way round: Windows-1252 first, then UTF-8.
    data = (HEADER.encode() + "EH01,Worcester,2023/24 Q1,50,,,caf\u00e9\n".encode("cp1252")
            + "EH01,Wychavon,2023/24 Q1,52,,,café\n".encode("utf-8"))
    assert places(check(data)) == {(3, None)}


def test_a_quoted_note_with_line_breaks_does_not_shift_the_row_named():
    data = (HEADER.encode() + 'EH01,Worcester,2023/24 Q1,50,,,"one\ntwo\nthree é"\n'.encode("utf-8")
            + "EH01,Wychavon,2023/24 Q1,52,,,caf\u00e9\n".encode("cp1252"))
    assert places(check(data)) == {(3, None)}


def test_plain_windows_1252_and_plain_utf8_still_load_without_garbling():
    for encoding in ("utf-8", "cp1252"):
        data = (HEADER + "EH01,Worcester,2023/24 Q1,50,,,café £5\n").encode(encoding)
        result = validate_upload(data, "x.csv", RULES)
        assert result.ok, messages(result)
        assert result.rows["note"].tolist() == ["café £5"]


def test_the_actions_upload_uses_the_same_decoder():
    data = ("task,lead,status\n" + "Plan café,Jo,in progress\n").encode("utf-8") + "Caf\u00e9 two,Al,complete\n".encode(
        "cp1252")
    upload = actions.validate_csv(data, "actions.csv")
    assert not upload.ok
    assert [(p.row, "mixes two encodings" in p.message) for p in upload.problems] == [(3, True)]
    wide = actions.validate_csv(wide_csv(5_000), "wide.csv")
    assert [(p.row, p.column) for p in wide.problems] == [(1, upload_limits.column_letter(upload_limits.MAX_COLUMNS))]


# --- impossible values ----------------------------------------------------------------------------

@pytest.mark.parametrize(("row", "column"), [
    ("EH01,Worcester,0000/01 Q1,50", "period"),
    ("EH01,Worcester,9999/00 Q1,50", "period"),
    ("EH01,Worcester,9998/99,50", "period"),
    ("EH01,Worcester,\u0662\u0660\u0662\u0663/24 Q1,50", "period"),  # Arabic-Indic digits
    ("EH01,E0700023\u0667,2023/24 Q1,50", "area"),
    ("EH01,Worcester,2023/24 Q1,\u0665\u0660", "value"),
    ("EH01,Worcester,2023/24 Q1," + "1" * 5000, "value"),
    ("MH01,Worcester,2023/24 Q1," + "9" * 300, "value"),
    ("EH01,Worcester,2023/24 Q1,50,3," + "1" * 60, "denominator"),
    ("EH0\u0661,Worcester,2023/24 Q1,50", "kpi"),
])
def test_impossible_values_are_refused_with_row_and_column(row, column):
    result = check((HEADER + row + "\n").encode())
    assert (2, column) in places(result), messages(result)


@pytest.mark.parametrize(("cells", "column"), [
    ({"ind": "9" * 5000}, "Indicator ID"),
    ({"ind": "9" * 13}, "Indicator ID"),
    ({"ind": "\u0669\u0660\u0668\u0660\u0663"}, "Indicator ID"),
    ({"area": "E1000003\u0664"}, "Area Code"),
    ({"period": "0000"}, "Time period"),
    ({"period": "9999"}, "Time period"),
    ({"period": "9990 - 9999"}, "Time period"),
])
def test_impossible_values_in_a_fingertips_download_are_refused(cells, column):
    result = check((FT_HEADER + "\n" + ft_row(**cells) + "\n").encode(), FINGERTIPS_RULES)
    assert (2, column) in places(result), messages(result)


# --- generated hostile shapes -------------------------------------------------------------------

HOSTILE_CELLS = st.one_of(
    st.sampled_from(["0000/01", "9999/00 Q1", "0001/02 Q4", "1899/00", "2101/02", "9999", "0"]),
    st.text(alphabet="\u0660\u0661\u0662\u06f1\uff11\u0967\u09e8123/Q ", min_size=1, max_size=12),
    st.integers(10, 5000).map(lambda n: "9" * n),
    st.integers(1001, 3000).map(lambda n: "x" * n),
    st.sampled_from(["1e308", "-1e308", "1e-400", "nan", "inf", "1,2,3", "1..2", "E0700023\u0667", "e10000034"]),
)


@st.composite
def hostile_rows(draw) -> bytes:
    lines = []
    for _ in range(draw(st.integers(1, 6))):
        cells = [draw(st.sampled_from(["EH01", "MH01"])), draw(st.sampled_from(["Worcester", "E07000236"])),
                 "2023/24 Q1", "50", "", "", ""]
        for position in draw(st.sets(st.integers(0, 6), min_size=1, max_size=3)):
            cells[position] = draw(HOSTILE_CELLS)
        lines.append(",".join(c.replace(",", ";") for c in cells))
    text = HEADER + "\n".join(lines) + "\n"
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig"]))
    data = text.encode(encoding)
    if draw(st.booleans()):  # a Windows-1252 row after the UTF-8 ones
        data += "EH01,Wychavon,2023/24 Q1,52,,,caf\u00e9\n".encode("cp1252")
    return data


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_rows())
def test_generated_hostile_cells_never_raise_and_never_load_garbled(data):
    result = validate_upload(data, "generated.csv", RULES)
    assert_consistent(result)
    assert not any("unexpected error" in p.message for p in result.problems), messages(result)
    if result.ok:
        assert result.rows["period_start"].map(lambda d: 1900 <= d.year <= 2100).all()
        assert set(result.rows["area_code"]) <= {"E07000237", "E07000236", "E07000238"}
        notes = [n for n in result.rows["note"] if n]
        assert not any("Ã" in n for n in notes)
        assert all(len(n) <= upload_limits.MAX_CELL_CHARS for n in notes)


@settings(max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["ind", "area", "period", "value"]), HOSTILE_CELLS)
def test_generated_hostile_fingertips_cells_never_raise(key, cell):
    data = (FT_HEADER + "\n" + ft_row(**{key: cell.replace(",", ";")}) + "\n").encode()
    result = validate_upload(data, "generated.csv", FINGERTIPS_RULES)
    assert_consistent(result)
    assert not any("unexpected error" in p.message for p in result.problems), messages(result)
    if result.ok:
        assert result.rows["period_start"].map(lambda d: 1900 <= d.year <= 2100).all()
        assert all(code.isascii() for code in result.rows["area_code"])
        assert all(i.isascii() and len(i) <= 12 for i in result.rows["indicator_id"])


# --- the Upload page states the limits and refuses a hostile file once ---------------------------

def test_the_upload_page_states_the_limits_and_refuses_a_hostile_workbook(app_page, conn, monkeypatch):
    import time

    from page_text import texts

    from cypp_dash import auth, loading
    from cypp_dash.web import session

    auth.add_user(conn, "pat", "editor", "correct horse battery", actor="test")
    editor = {session.SESSION_ACCOUNT: auth.Account("pat", "editor"), session.SESSION_SEEN: time.time()}
    at = app_page("upload.py", state=editor)
    shown = texts(at)
    assert f"at most {upload_limits.MAX_COLUMNS} columns" in shown
    assert f"{upload_limits.MAX_CELL_CHARS:,} characters in any cell" in shown
    assert "a formula that was never calculated" in shown
    checks = []
    real = loading.validate
    monkeypatch.setattr(loading, "validate", lambda *a, **k: checks.append(1) or real(*a, **k))
    at.file_uploader[0].set_value(("padded.xlsx", padded_workbook(rows=200), "application/octet-stream")).run()
    assert not at.exception
    assert "padded.xlsx was not loaded" in texts(at)
    assert "runs to column XFD" in texts(at)
    at.run()  # a rerun (any widget) does not check the file again
    assert len(checks) == 1
