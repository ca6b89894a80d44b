"""Ingest rules: the upload corpus, edge-case tables, generated broken files and a large file."""
from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import time
from datetime import date
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cypp_dash import ingest
from cypp_dash.ingest import (
    MAX_PROBLEMS,
    ROW_COLUMNS,
    Problem,
    UploadRules,
    Validated,
    contract,
    plain,
    validate_upload,
    xlsx,
)

CORPUS = Path(__file__).parent / "corpus"

# The KPI codes and units of CONTRACT.md (seed 003): "%" and "% of schools" are percent, "count" is
# count; SG02's baseline is a % so it is checked as one.
CONTRACT_KPIS = {
    "EH01": "percent", "EH02": "percent", "EH03": "percent", "EH04": "percent", "EH05": "percent",
    "EH06": "percent", "MH01": "count", "MH02": "count", "MH03": "percent", "MH04": "count",
    "MH05": "percent", "SD01": "percent", "SD02": "percent", "SD03": "percent", "SD04": "percent",
    "SG01": "percent", "SG02": "percent",
}
# The areas table of CONTRACT.md.
CONTRACT_AREAS = {
    "E92000001": "England", "E12000005": "West Midlands", "E10000034": "Worcestershire",
    "E07000234": "Bromsgrove", "E07000235": "Malvern Hills", "E07000236": "Redditch",
    "E07000237": "Worcester", "E07000238": "Wychavon", "E07000239": "Wyre Forest",
}
TODAY = date(2026, 11, 22)  # in 2026/27 Q3


def contract_rules(**changes) -> UploadRules:
    lookup = {code.lower(): code for code in CONTRACT_AREAS}
    lookup.update({name.lower(): code for code, name in CONTRACT_AREAS.items()})
    lookup["worcester city"] = "E07000237"
    return dataclasses.replace(UploadRules(CONTRACT_KPIS, lookup, TODAY), **changes)


RULES = contract_rules()
FINGERTIPS_RULES = contract_rules(accept_unknown_indicators=True)
HEADER = "kpi,area,period,value,numerator,denominator,note\n"


def check(text: str | bytes, rules: UploadRules = RULES, name: str = "upload.csv") -> Validated:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return validate_upload(data, name, rules)


def messages(result: Validated) -> list[str]:
    return [str(p) for p in result.problems]


def assert_consistent(result: Validated) -> None:
    """What every outcome must look like, good or bad."""
    assert isinstance(result, Validated)
    assert list(result.rows.columns) == list(ROW_COLUMNS)
    assert result.kind in ("upload", "fingertips")
    assert len(result.problems) <= MAX_PROBLEMS + 1
    for problem in result.problems:
        assert isinstance(problem, Problem)
        assert problem.row is None or problem.row >= 1
        assert str(problem)
    if result.problems:
        assert result.rows.empty and not result.ok
    else:
        assert result.ok and len(result.rows) > 0


# ---------------------------------------------------------------------------------------------
# The corpus: every bad file names its row and column, and loads nothing

BAD_FILES = [
    # file, expected (row, column) pairs, rules
    ("bad_missing_value_column.csv", [(1, "value")], RULES),
    ("bad_duplicate_column.csv", [(1, "Value")], RULES),
    ("bad_unknown_kpi.csv", [(3, "kpi")], RULES),
    ("bad_unknown_area.csv", [(2, "area")], RULES),
    ("bad_period_not_a_period.csv", [(2, "period")], RULES),
    ("bad_period_calendar_year.csv", [(3, "period")], RULES),
    ("bad_future_period.csv", [(3, "period"), (4, "period")], RULES),
    ("bad_value_not_a_number.csv", [(3, "value")], RULES),
    ("bad_percent_over_100.csv", [(2, "value")], RULES),
    ("bad_negative_count.csv", [(2, "value")], RULES),
    ("bad_fractional_count.csv", [(3, "value")], RULES),
    ("bad_percent_sign_on_count.csv", [(2, "value")], RULES),
    ("bad_numerator_over_denominator.csv", [(2, "numerator")], RULES),
    ("bad_denominator_zero.csv", [(2, "denominator")], RULES),
    ("bad_fractional_numerator.csv", [(2, "numerator")], RULES),
    ("bad_value_disagrees_with_fraction.csv", [(3, "value")], RULES),
    ("bad_duplicate_row.csv", [(4, "period")], RULES),
    ("bad_flag_word.csv", [(2, "flags")], RULES),
    ("bad_ragged_row.csv", [(3, None)], RULES),
    ("bad_unclosed_quote.csv", [(3, None)], RULES),
    ("bad_semicolon_separated.csv", [(1, None)], RULES),
    ("bad_empty_file.csv", [(None, None)], RULES),
    ("bad_header_only.csv", [(1, None)], RULES),
    ("bad_binary_file.csv", [(None, None)], RULES),
    ("bad_utf16.csv", [(None, None)], RULES),
    ("bad_oversize.csv", [(None, None)], contract_rules(max_bytes=1024)),
    ("bad_broken.xlsx", [(None, None)], RULES),
    ("bad_zip_not_a_workbook.xlsx", [(None, None)], RULES),
    ("bad_zip_bomb.xlsx", [(None, None)], contract_rules(max_bytes=10_000)),
    (
        "bad_fingertips_broken.csv",
        [(3, "Value"), (4, "Time period"), (5, "Indicator ID"), (6, "Area Code"), (7, "Time period")],
        FINGERTIPS_RULES,
    ),
]


@pytest.mark.parametrize(("file_name", "expected", "rules"), BAD_FILES, ids=[f[0] for f in BAD_FILES])
def test_bad_file_is_refused_naming_its_row_and_column(file_name, expected, rules):
    result = validate_upload((CORPUS / file_name).read_bytes(), file_name, rules)
    found = {(p.row, p.column) for p in result.problems}
    for place in expected:
        assert place in found, messages(result)
    assert result.rows.empty
    assert not result.ok
    assert_consistent(result)


def test_every_corpus_file_is_in_a_test_table_and_the_readme():
    readme = (CORPUS / "README.md").read_text(encoding="utf-8")
    tested = {f[0] for f in BAD_FILES} | {f[0] for f in GOOD_FILES}
    for path in CORPUS.iterdir():
        if path.is_file() and path.name != "README.md":  # sub-folders hold other suites' corpora
            assert path.name in tested, path.name
            assert f"| {path.name} |" in readme, path.name


GOOD_FILES = [
    # file, rows expected, rules
    ("good_bom_crlf.csv", 2, RULES),
    ("good_cp1252_note.csv", 2, RULES),
    ("good_percent_sign_and_thousands.csv", 4, RULES),
    ("good_area_names_mixed_case.csv", 5, RULES),
    ("good_suppression_markers.csv", 9, RULES),
    ("good_trailing_blank_lines.csv", 2, RULES),
    ("good_columns_reordered_other_case.csv", 2, RULES),
    ("good_flags_and_notes.csv", 4, RULES),
    ("good_fingertips_respelt_headers.csv", 5, FINGERTIPS_RULES),
]


@pytest.mark.parametrize(("file_name", "count", "rules"), GOOD_FILES, ids=[f[0] for f in GOOD_FILES])
def test_messy_good_file_loads(file_name, count, rules):
    result = validate_upload((CORPUS / file_name).read_bytes(), file_name, rules)
    assert result.problems == [], messages(result)
    assert result.ok
    assert len(result.rows) == count
    assert_consistent(result)


def load(file_name: str, rules: UploadRules = RULES) -> Validated:
    result = validate_upload((CORPUS / file_name).read_bytes(), file_name, rules)
    assert result.ok, messages(result)
    return result


def test_bom_and_crlf_are_read_as_plain_text():
    rows = load("good_bom_crlf.csv").rows
    assert rows["indicator_id"].tolist() == ["EH01", "MH01"]  # no BOM glued to the first header
    assert rows["note"].tolist() == ["café open", None]
    assert rows["period"].tolist() == ["2023/24 Q1", "2023/24"]


def test_windows_1252_note_keeps_its_pound_sign_and_accent():
    result = load("good_cp1252_note.csv")
    assert result.rows["note"].iloc[0] == "Café staff cost £120 – see report"
    assert any("Windows-1252" in w for w in result.warnings)


def test_percent_sign_and_thousands_separator_are_numbers():
    rows = load("good_percent_sign_and_thousands.csv").rows
    assert rows["value"].tolist() == [87.6, 1204.0, 12.0, 33.3]
    assert rows["numerator"].iloc[0] == 876 and rows["denominator"].iloc[0] == 1000


def test_area_names_codes_and_alias_resolve_to_codes_whatever_the_case():
    rows = load("good_area_names_mixed_case.csv").rows
    assert rows["area_code"].tolist() == ["E07000237", "E07000235", "E07000236", "E07000239", "E92000001"]


def test_suppression_markers_are_no_figure_flagged_suppressed():
    rows = load("good_suppression_markers.csv").rows
    markers = rows[rows["indicator_id"] != "EH03"]
    assert markers["value"].isna().all()
    assert (markers["flags"] == "suppressed").all()
    assert rows.loc[rows["indicator_id"] == "EH03", "flags"].tolist() == [""]


def test_blank_rows_are_skipped_and_row_numbers_stay_the_spreadsheets():
    result = load("good_trailing_blank_lines.csv")
    assert result.rows["source_row"].tolist() == [2, 4]
    assert any("blank row" in w for w in result.warnings)


def test_columns_in_any_order_and_case_with_unknown_ones_warned():
    result = load("good_columns_reordered_other_case.csv")
    assert result.rows[["indicator_id", "area_code", "period", "value"]].values.tolist() == [
        ["EH01", "E07000237", "2023/24 Q1", 87.6],
        ["SD01", "E07000238", "2023/24", 70.0],
    ]
    assert result.rows["note"].tolist() == ["first quarter", None]
    assert any('"Comments"' in w for w in result.warnings)


def test_flags_column_and_note_words_set_flags():
    rows = load("good_flags_and_notes.csv").rows
    assert rows["flags"].tolist() == ["estimate,provisional", "provisional", "estimate", ""]


def test_fingertips_download_with_respelt_headers_is_read_by_its_own_rules():
    result = load("good_fingertips_respelt_headers.csv", FINGERTIPS_RULES)
    rows = result.rows
    assert result.kind == "fingertips"
    headline = rows.iloc[0]
    assert headline["indicator_id"] == "90886"
    assert headline["indicator_name"] == "Children on child protection plans: Rate per 10,000 children <18"
    assert (headline["area_code"], headline["area_name"]) == ("E07000237", "Worcester")
    assert (headline["period"], headline["period_start"], headline["period_end"]) == (
        "2013/14", date(2013, 4, 1), date(2014, 3, 31))
    assert headline["category"] == ""
    assert [headline[c] for c in ("value", "ci_low", "ci_high", "ci99_low", "ci99_high", "numerator",
                                  "denominator")] == [38.2, 35.1, 41.5, 33.9, 43.0, 430.0, 112550.0]
    assert headline["compared_with_england"] == "similar"
    assert rows["category"].tolist() == [
        "", "District & UA deprivation deciles in England (IMD2019): Most deprived decile", "Sex: Female", "", "",
    ]
    assert rows["flags"].tolist() == ["", "", "", "estimate", "suppressed"]
    assert rows["area_code"].iloc[3] == "E99999999" and rows["area_name"].iloc[3] == "Newtown"
    assert rows["period"].iloc[4] == "2015 - 17" and np.isnan(rows["value"].iloc[4])
    assert rows["compared_with_england"].tolist()[3:] == ["better", "not compared"]


# ---------------------------------------------------------------------------------------------
# The contract's wording, and file-level behaviour


def test_problem_reads_as_the_contract_example():
    result = check(HEADER + "EH01,Worcester,2023/24 Q1,87.6,,,\n" * 55 + "EH01,Worcester,2023/24 Q2,eighty,,,\n")
    assert 'row 57, column value: "eighty" is not a number' in messages(result)


@pytest.mark.parametrize(("problem", "text"), [
    (Problem(57, "value", '"eighty" is not a number'), 'row 57, column value: "eighty" is not a number'),
    (Problem(5, None, "this row has 5 cells"), "row 5: this row has 5 cells"),
    (Problem(None, None, "the file is empty"), "the file is empty"),
])
def test_problem_text(problem, text):
    assert str(problem) == text


@pytest.mark.parametrize(("line", "message"), [
    ("EH01,Worcester,2023/24 Q1,120,,,", "row 2, column value: 120 is not a percentage between 0 and 100"),
    ("XX99,Worcester,2023/24 Q1,1,,,", 'row 2, column kpi: "XX99" is not a KPI in this plan'),
    ("EH01,Nowhere,2023/24 Q1,1,,,", 'row 2, column area: "Nowhere" is not a known area'),
    ("EH01,Worcester,2031/32 Q1,1,,,", 'row 2, column period: "2031/32 Q1" is in the future'),
    ("MH01,Worcester,2023/24 Q1,-3,,,", "row 2, column value: -3 is not a count (a whole number, 0 or more)"),
    ("EH01,Worcester,2023/24 Q1,,,,", None),
])
def test_contract_messages(line, message):
    result = check(HEADER + line + "\n")
    if message is None:
        assert result.ok
    else:
        assert messages(result) == [message]


def test_duplicate_names_the_row_it_repeats():
    result = check(
        HEADER + "EH01,E07000237,2023/24 Q1,1,,,\n" + "EH02,Worcester,2023/24 Q1,1,,,\n" * 2
        + "EH01,Worcester City,2023/2024 q1,2,,,\n"
    )
    assert messages(result) == [
        "row 4, column period: EH02 / E07000237 / 2023/24 Q1 is already on row 3",
        "row 5, column period: EH01 / E07000237 / 2023/24 Q1 is already on row 2",
    ]


def test_every_problem_is_listed_sorted_by_row_then_column():
    result = check(HEADER + "XX99,Nowhere,2031/32 Q1,eighty,,,\nEH01,Worcester,2023,120,5,3,\n")
    assert [(p.row, p.column) for p in result.problems] == [
        (2, "area"), (2, "kpi"), (2, "period"), (2, "value"), (3, "numerator"), (3, "period"), (3, "value"),
    ]


def test_problems_are_capped_with_a_count_of_the_rest():
    keys = [(k, a, f"{y}/{y - 1999} Q{q}") for k in CONTRACT_KPIS for a in CONTRACT_AREAS for y in (2021, 2022, 2023)
            for q in range(1, 5)]
    lines = "".join(f"{k},{a},{p},bad{i},,,\n" for i, (k, a, p) in enumerate(keys[: MAX_PROBLEMS + 250]))
    result = check(HEADER + lines)
    assert len(result.problems) == MAX_PROBLEMS + 1
    assert result.problems[0].row == 2
    assert result.problems[-1] == Problem(None, None, "... and 250 more problems not listed; nothing was loaded")


def test_missing_required_columns_are_each_named_on_the_header_row():
    result = check("KPI,Area\nEH01,Worcester\n")
    assert [(p.row, p.column) for p in result.problems] == [(1, "period"), (1, "value")]


def test_oversize_file_is_refused_before_reading():
    data = (CORPUS / "good_bom_crlf.csv").read_bytes()
    assert validate_upload(data, "x.csv", contract_rules(max_bytes=len(data))).ok
    refused = validate_upload(data, "x.csv", contract_rules(max_bytes=len(data) - 1))
    assert messages(refused) == [f"the file is {len(data)} bytes; the largest file accepted is {len(data) - 1} bytes"]


def test_file_name_and_checksum_are_recorded():
    data = (CORPUS / "good_bom_crlf.csv").read_bytes()
    result = validate_upload(data, "march.csv", RULES)
    assert result.file_name == "march.csv"
    assert result.sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("where", [(contract, "validate_contract"), (plain, "store_table_quickly")],
                         ids=["careful path", "quick path"])
def test_an_unexpected_error_becomes_a_file_level_problem(monkeypatch, where):
    def explode(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(*where, explode)
    if where[0] is contract:  # this plain file would otherwise be checked on the quick path
        monkeypatch.setattr(plain, "store_table_quickly", lambda *args: None)
    result = check(HEADER + "EH01,Worcester,2023/24 Q1,1,,,\n")
    assert len(result.problems) == 1 and result.problems[0].row is None
    assert "disk on fire" in result.problems[0].message
    assert_consistent(result)


def test_rows_have_exactly_the_agreed_columns_and_types():
    rows = load("good_percent_sign_and_thousands.csv").rows
    assert list(rows.columns) == list(ROW_COLUMNS)
    assert rows["source_row"].dtype == "int64"
    for name in ("value", "numerator", "denominator", "ci_low", "ci_high", "ci99_low", "ci99_high"):
        assert rows[name].dtype == "float64"
    assert rows["indicator_name"].tolist() == [None] * 4 and rows["area_name"].tolist() == [None] * 4
    assert rows["compared_with_england"].tolist() == [None] * 4
    assert rows["category"].tolist() == [""] * 4
    assert rows["period_start"].iloc[0] == date(2023, 4, 1) and rows["period_end"].iloc[0] == date(2023, 6, 30)
    assert list(ingest.empty_rows().columns) == list(ROW_COLUMNS)


# ---------------------------------------------------------------------------------------------
# Edge cases as tables


@pytest.mark.parametrize(("written", "number"), [
    ("87.6%", 87.6), ("87.6 %", 87.6), ("1,204", 1204.0), (" 12 ", 12.0), ("1e2", 100.0), ("+5", 5.0),
    (".5", 0.5), ("007", 7.0), ("1,234,567.5", 1234567.5),
])
def test_number_spellings_that_are_numbers(written, number):
    result = check(f'kpi,area,period,value\nX1,Worcester,2023/24 Q1,"{written}"\n', contract_rules(
        indicator_units={"X1": "weeks"}))
    assert result.rows["value"].tolist() == [number], messages(result)


@pytest.mark.parametrize("written", ["eighty", "1,2", "12.3.4", "NaN", "inf", "1 204", "1e999", "£5", "5-", "NA"])
def test_number_spellings_that_are_not(written):
    result = check(f'kpi,area,period,value\nX1,Worcester,2023/24 Q1,"{written}"\n', contract_rules(
        indicator_units={"X1": "weeks"}))
    assert messages(result) == [f'row 2, column value: "{written}" is not a number']


@pytest.mark.parametrize(("unit", "value", "ok"), [
    ("percent", "0", True), ("percent", "100", True), ("percent", "100.1", False), ("percent", "-0.1", False),
    ("count", "0", True), ("count", "12", True), ("count", "12.0", True), ("count", "12.5", False),
    ("count", "-1", False), ("weeks", "26.4", True), ("weeks", "-1", False), ("days", "-0.5", False),
    ("rate per 10,000", "412.7", True), ("rate per 10,000", "-2", False),
])
def test_unit_ranges(unit, value, ok):
    result = check(f"kpi,area,period,value\nX1,Worcester,2023/24 Q1,{value}\n", contract_rules(
        indicator_units={"X1": unit}))
    assert result.ok is ok, messages(result)
    if not ok:
        assert [(p.row, p.column) for p in result.problems] == [(2, "value")]


@pytest.mark.parametrize(("unit", "value", "numerator", "denominator", "ok"), [
    ("percent", "33.3", 1, 3, True),       # 33.33 rounds to 33.3
    ("percent", "33", 1, 3, True),
    ("percent", "33.33", 1, 3, True),
    ("percent", "33.4", 1, 3, False),
    ("percent", "66.7", 2, 3, True),       # 66.67 rounds up
    ("percent", "66.6", 2, 3, False),
    ("percent", "87.6%", 876, 1000, True),
    ("percent", "87.65", 876, 1000, False),
    ("percent", "50", 1, 2, True),
    ("percent", "0", 0, 5, True),
    ("percent", "12.5", 1, 8, True),       # an exact half at the last place
    ("percent", "13", 1, 8, True),         # 12.5 written to 0 places: either neighbour is within half a unit
    ("rate per 10,000", "38.2", 430, 112550, True),
    ("rate per 10,000", "3.8", 430, 112550, False),
    ("count", "7", 3, 10, True),           # a count's value is not checked against its fraction
    ("weeks", "30", 3, 10, True),
])
def test_value_agrees_with_fraction_to_its_own_rounding(unit, value, numerator, denominator, ok):
    result = check(
        f"kpi,area,period,value,numerator,denominator\nX1,Worcester,2023/24 Q1,{value},{numerator},{denominator}\n",
        contract_rules(indicator_units={"X1": unit}),
    )
    assert result.ok is ok, messages(result)
    if not ok:
        assert [(p.row, p.column) for p in result.problems] == [(2, "value")]


@pytest.mark.parametrize(("numerator", "denominator", "problem"), [
    ("", "", None), ("c", "[x]", None), ("3", "", None), ("", "10", None),
    ("10", "10", None), ("11", "10", (2, "numerator")), ("1", "0", (2, "denominator")),
    ("-1", "10", (2, "numerator")), ("1.5", "10", (2, "numerator")), ("1", "ten", (2, "denominator")),
])
def test_numerator_and_denominator_rules(numerator, denominator, problem):
    value = "c" if not (numerator.isdigit() and denominator.isdigit() and int(denominator)) else "x"
    if value == "x":
        value = f"{100 * int(numerator) / int(denominator):.1f}" if int(numerator) <= int(denominator) else "50"
    result = check(f"kpi,area,period,value,numerator,denominator\nEH01,Worcester,2023/24 Q1,{value},"
                   f"{numerator},{denominator}\n")
    if problem is None:
        assert result.ok, messages(result)
    else:
        assert problem in [(p.row, p.column) for p in result.problems], messages(result)


@pytest.mark.parametrize(("period", "label", "ok"), [
    ("2023/24 Q1", "2023/24 Q1", True), ("2023/2024 q1", "2023/24 Q1", True), (" 2023/24 ", "2023/24", True),
    ("2026/27 Q3", "2026/27 Q3", True),     # the quarter containing today
    ("2026/27 Q4", None, False),            # the next quarter
    ("2026/27", "2026/27", True),           # a financial year that has started
    ("2027/28", None, False),
    ("2023", None, False), ("2015 - 17", None, False), ("2023/25", None, False), ("", None, False),
])
def test_contract_periods(period, label, ok):
    result = check(f'kpi,area,period,value\nEH01,Worcester,"{period}",1\n')
    assert result.ok is ok, messages(result)
    if ok:
        assert result.rows["period"].tolist() == [label]
    else:
        assert [(p.row, p.column) for p in result.problems] == [(2, "period")]


@pytest.mark.parametrize(("flags", "expected", "ok"), [
    ("", "", True), ("estimate", "estimate", True), ("Provisional;ESTIMATE", "estimate,provisional", True),
    ("estimated, provisional", "estimate,provisional", True), ("urgent", None, False),
    ("suppressed", None, False), ("estimate; draft", None, False),
])
def test_flags_column_words(flags, expected, ok):
    result = check(f'kpi,area,period,value,flags\nEH01,Worcester,2023/24 Q1,1,"{flags}"\n')
    assert result.ok is ok, messages(result)
    if ok:
        assert result.rows["flags"].tolist() == [expected]
    else:
        assert [(p.row, p.column) for p in result.problems] == [(2, "flags")]


def test_note_is_kept_as_written_and_its_words_set_flags():
    note = 'Provisional: =SUM(A1) <b>"quoted"</b>'
    result = check(f'kpi,area,period,value,note\nEH01,Worcester,2023/24 Q1,1,"{note.replace(chr(34), 2 * chr(34))}"\n')
    assert result.rows["note"].tolist() == [note]
    assert result.rows["flags"].tolist() == ["provisional"]


def test_accept_unknown_indicators_lets_any_code_through_without_unit_checks():
    result = check("kpi,area,period,value\nzz77,Worcester,2023/24 Q1,250\n", contract_rules(
        accept_unknown_indicators=True))
    assert result.rows["indicator_id"].tolist() == ["ZZ77"]


# ---------------------------------------------------------------------------------------------
# XLSX built here with openpyxl


def workbook_bytes(rows: list[list], percent_cells: tuple[str, ...] = (), blank_rows_first: int = 0) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for _ in range(blank_rows_first):
        sheet.append([])
    for row in rows:
        sheet.append(row)
    for ref in percent_cells:
        sheet[ref].number_format = "0.0%"
    extra = book.create_sheet("Ignored")
    extra.append(["kpi", "area", "period", "value"])
    extra.append(["XX99", "Nowhere", "never", "eighty"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_xlsx_first_sheet_is_read_with_spreadsheet_row_numbers():
    data = workbook_bytes([
        ["KPI", "Area", "Period", "Value", "Numerator", "Denominator", "Note"],
        ["EH01", "Worcester City", "2023/24 Q1", 0.876, 876, 1000, "typed as 87.6%"],
        ["MH01", "Redditch", "2023/24", 1204, None, None, None],
        [],
        ["EH02", "Bromsgrove", "2023/24 Q2", "c", None, None, "£ and é"],
        ["EH03", "Wychavon", "2023/24 Q2", 33.3, 1, 3, None],
    ], percent_cells=("D4",), blank_rows_first=2)
    result = validate_upload(data, "return.xlsx", RULES)
    assert result.ok, messages(result)
    rows = result.rows
    assert rows["source_row"].tolist() == [4, 5, 7, 8]
    assert rows["value"].tolist()[:2] == [87.6, 1204.0]
    assert np.isnan(rows["value"].iloc[2]) and rows["flags"].iloc[2] == "suppressed"
    assert rows["note"].iloc[2] == "£ and é"
    assert_consistent(result)


def test_xlsx_problem_names_the_spreadsheet_row():
    data = workbook_bytes([
        ["kpi", "area", "period", "value"],
        ["EH01", "Worcester", "2023/24 Q1", 87.6],
        ["EH01", "Worcester", "2023/24 Q2", "eighty"],
    ], blank_rows_first=3)
    result = validate_upload(data, "return.xlsx", RULES)
    assert messages(result) == ['row 6, column value: "eighty" is not a number']


def test_xlsx_never_evaluates_formulas():
    data = workbook_bytes([["kpi", "area", "period", "value"], ["EH01", "Worcester", "2023/24 Q1", "=10*5"]])
    result = validate_upload(data, "return.xlsx", RULES)
    # openpyxl stores no calculated result, and the formula is never worked out here: the cell is refused
    # (it used to become "no figure" and supersede a stored one). Excel-saved files hold the result, which
    # is read (tests/test_hostile_files.py).
    assert messages(result) == [f"row 2, column value: {ingest.FORMULA_WITHOUT_VALUE}"]


def test_zip_bomb_is_refused_before_opening(monkeypatch):
    def must_not_open(*args, **kwargs):
        raise AssertionError("opened a zip bomb")

    monkeypatch.setattr(openpyxl, "load_workbook", must_not_open)
    monkeypatch.setattr(xlsx, "_open_first_sheet", must_not_open)
    result = validate_upload((CORPUS / "bad_zip_bomb.xlsx").read_bytes(), "bomb.xlsx", contract_rules(max_bytes=10_000))
    assert "it was not opened" in messages(result)[0]


# ---------------------------------------------------------------------------------------------
# Fingertips


FT_HEADER = (
    "Indicator ID,Indicator Name,Parent Code,Parent Name,Area Code,Area Name,Area Type,Sex,Age,Category Type,"
    "Category,Time period,Value,Lower CI 95.0 limit,Upper CI 95.0 limit,Lower CI 99.8 limit,Upper CI 99.8 limit,"
    "Count,Denominator,Value note,Recent Trend,Compared to England value or percentiles,"
    "Compared to Region value or percentiles,Time period Sortable,New data,Compared to goal"
)


def ft_row(ind="90803", area="E10000034", sex="Persons", age="<18 yrs", ctype="", cat="", period="2017",
           value="61.0", note="", compared="Worse") -> str:
    return (f"{ind},Children in care,E12000005,West Midlands region,{area},Somewhere,County,{sex},{age},{ctype},"
            f"{cat},{period},{value},,,,,,,{note},,{compared},,,,")


@pytest.mark.parametrize("spelling", [
    "IndicatorID", "Indicator_ID", "indicator id", "INDICATOR.ID", "Indicator-ID", " Indicator ID ",
])
def test_fingertips_header_spellings_are_recognised(spelling):
    result = check(FT_HEADER.replace("Indicator ID", spelling) + "\n" + ft_row() + "\n", FINGERTIPS_RULES)
    assert result.kind == "fingertips" and result.ok, messages(result)


@pytest.mark.parametrize("spelling", [
    "Lower_CI_95.0_limit", "LowerCI95.0limit", "Lower CI 95 limit", "lower ci 95.00 limit",
])
def test_fingertips_ci_header_spellings_are_recognised(spelling):
    header = FT_HEADER.replace("Lower CI 95.0 limit", spelling)
    line = ft_row().replace(",61.0,,,,,", ",61.0,57.2,65.0,55.9,66.4,")
    result = check(header + "\n" + line + "\n", FINGERTIPS_RULES)
    assert result.rows[["ci_low", "ci_high", "ci99_low", "ci99_high"]].values.tolist() == [[57.2, 65.0, 55.9, 66.4]]


def test_fingertips_sex_and_age_breakdowns_go_into_category():
    lines = [
        ft_row(), ft_row(sex="Male", value="60"), ft_row(sex="Female", value="62"),
        ft_row(age="0-4 yrs", value="20"), ft_row(ctype="Ethnic groups", cat="Mixed", value="70"),
        ft_row(sex="Female", ctype="Deprivation deciles", cat="Most deprived", value="90"),
        ft_row(ind="11111", sex="Female", age="15-44 yrs", value="5"),  # one sex and age only: no category
    ]
    result = check(FT_HEADER + "\n" + "\n".join(lines) + "\n", FINGERTIPS_RULES)
    assert result.rows["category"].tolist() == [
        "", "Sex: Male", "Sex: Female", "Age: 0-4 yrs", "Ethnic groups: Mixed",
        "Sex: Female; Deprivation deciles: Most deprived", "",
    ], messages(result)


def test_fingertips_value_notes_set_flags_and_blank_value_is_only_missing():
    lines = [
        ft_row(period="2014", value="", note=""),
        ft_row(period="2015", value="", note="Value suppressed for disclosure control"),
        ft_row(period="2016", value="3", note="Synthetic estimate"),
        ft_row(period="2017", value="3", note="Provisional data"),
        ft_row(period="2018", value="3", note="Modelled from survey"),
    ]
    result = check(FT_HEADER + "\n" + "\n".join(lines) + "\n", FINGERTIPS_RULES)
    assert result.rows["flags"].tolist() == ["", "suppressed", "estimate", "provisional", "estimate"]


def test_fingertips_exact_repeat_is_skipped_but_a_different_one_is_a_problem():
    same = check(FT_HEADER + "\n" + ft_row() + "\n" + ft_row() + "\n", FINGERTIPS_RULES)
    assert same.ok and same.rows["source_row"].tolist() == [2]
    assert any("repeat an earlier row" in w for w in same.warnings)
    different = check(FT_HEADER + "\n" + ft_row() + "\n" + ft_row(value="62") + "\n", FINGERTIPS_RULES)
    assert messages(different) == [
        "row 3, column Time period: 90803 / E10000034 / 2017 is already on row 2 with different figures"
    ]


def test_fingertips_indicators_outside_the_plan_are_refused_unless_accepted():
    result = check(FT_HEADER + "\n" + ft_row() + "\n", RULES)
    assert messages(result) == ['row 2, column Indicator ID: "90803" is not an indicator in this plan']


def test_fingertips_periods_of_every_kind_are_accepted():
    lines = [ft_row(period=p) for p in ("2017", "2017/18", "2015/16 - 17/18", "2016 - 18", "2018/19 Q2")]
    result = check(FT_HEADER + "\n" + "\n".join(lines) + "\n", FINGERTIPS_RULES)
    assert result.rows["period"].tolist() == ["2017", "2017/18", "2015/16 - 17/18", "2016 - 18", "2018/19 Q2"]


def test_fingertips_newer_header_with_time_period_range_and_named_parent_column():
    header = FT_HEADER.replace("Compared to Region", "Compared to County & UA (4/19 - 3/20)") + ",Time period range"
    result = check(header + "\n" + ft_row() + ",1y\n", FINGERTIPS_RULES)
    assert result.ok and result.warnings == [], (messages(result), result.warnings)


# ---------------------------------------------------------------------------------------------
# Generated broken files: never a traceback; either rows or problems


def assert_never_raises(data: bytes, rules: UploadRules = RULES) -> None:
    result = validate_upload(data, "generated.csv", rules)
    assert_consistent(result)
    assert not any("unexpected error" in p.message for p in result.problems), messages(result)


# No example database: generated cases stay out of the working tree.
GENERATED = settings(max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@GENERATED
@given(st.binary(max_size=3000))
def test_random_bytes_never_raise(data):
    assert_never_raises(data)


@GENERATED
@given(st.binary(max_size=2000))
def test_random_bytes_behind_a_zip_signature_never_raise(data):
    assert_never_raises(b"PK\x03\x04" + data)


@GENERATED
@given(st.text(max_size=1500))
def test_random_text_never_raises(text):
    assert_never_raises(text.encode("utf-8"))
    assert_never_raises(("kpi,area,period,value\n" + text).encode("utf-8"))
    assert_never_raises((FT_HEADER + "\n" + text).encode("utf-8"), FINGERTIPS_RULES)


GOOD_CELLS = {
    "kpi": st.sampled_from(["EH01", "eh02", "MH01", " MH04 ", "SG02"]),
    "area": st.sampled_from(["Worcester", "worcester city", "E07000236", "WYRE FOREST", "Malvern Hills"]),
    "period": st.sampled_from(["2023/24 Q1", "2023/24 Q2", "2024/25", "2022/2023 Q4", "2026/27 Q3"]),
    "value": st.sampled_from(["12", "87.6%", "1,204", "c", "[x]", "", "0", "99.9"]),
    "numerator": st.sampled_from(["", "3", "30"]),
    "denominator": st.sampled_from(["", "10", "100"]),
    "note": st.sampled_from(["", "provisional", "£ note", 'has "quotes", and commas']),
}
ANY_CELL = st.one_of(st.text(max_size=12), st.sampled_from(["-1", "1e400", "100.5", "2031/32 Q1", ",", '"', "\r\n"]))


@st.composite
def valid_looking_files(draw) -> bytes:
    names = list(GOOD_CELLS)
    header = draw(st.permutations(names))
    header = [draw(st.sampled_from([n, n.upper(), f" {n.title()} "])) for n in header]
    rows = []
    for _ in range(draw(st.integers(0, 12))):
        row = []
        for name in header:
            strategy = GOOD_CELLS[name.strip().lower()]
            row.append(draw(st.one_of(strategy, ANY_CELL) if draw(st.booleans()) else strategy))
        rows.append(row)
    out = io.StringIO()
    csv.writer(out, lineterminator=draw(st.sampled_from(["\n", "\r\n"]))).writerows([header, *rows])
    text = out.getvalue() + draw(st.sampled_from(["", "\n\n", "\r\n \r\n"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
    data = text.encode(encoding, errors="replace")
    if draw(st.booleans()):  # and sometimes a few random bytes somewhere
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(max_size=8)) + data[at:]
    return data


@GENERATED
@given(valid_looking_files())
def test_valid_looking_files_with_random_cells_never_raise(data):
    assert_never_raises(data)


@st.composite
def fingertips_looking_files(draw) -> bytes:
    lines = [FT_HEADER]
    for _ in range(draw(st.integers(0, 8))):
        cells = {
            "ind": draw(st.sampled_from(["90803", "93088", "abc", "", "90803.0"])),
            "area": draw(st.sampled_from(["E10000034", "e07000237", "Worcester", "Nowhere", ""])),
            "sex": draw(st.sampled_from(["Persons", "Male", "Female", ""])),
            "ctype": draw(st.sampled_from(["", "Deprivation deciles"])),
            "cat": draw(st.sampled_from(["", "Most deprived", "Least deprived"])),
            "period": draw(st.sampled_from(["2017", "2015/16 - 17/18", "2031", "soon", ""])),
            "value": draw(st.one_of(st.sampled_from(["61.0", "", "x", "-2.5"]), st.text(max_size=5))),
            "note": draw(st.sampled_from(["", "Modelled estimate", "Value suppressed", "provisional"])),
        }
        lines.append(ft_row(**{k: v.replace(",", ";").replace("\n", " ") for k, v in cells.items()}))
    return ("\n".join(lines) + "\n").encode("utf-8")


@GENERATED
@given(fingertips_looking_files())
def test_fingertips_looking_files_with_random_cells_never_raise(data):
    assert_never_raises(data, FINGERTIPS_RULES)


# ---------------------------------------------------------------------------------------------
# A large file


def test_a_200000_row_file_validates():
    codes = [f"K{i:03d}" for i in range(1000)]
    rules = contract_rules(indicator_units={c: ("count" if i % 4 == 0 else "percent") for i, c in enumerate(codes)},
                           max_bytes=200 * 1024 * 1024)
    quarters = [f"{y}/{str(y + 1)[2:]} Q{q}" for y in range(2020, 2026) for q in range(1, 5)]
    areas = list(CONTRACT_AREAS.values())
    lines = [HEADER.rstrip("\n")]
    for i, code in enumerate(codes):
        for area in areas:
            for period in quarters:
                if i % 4 == 0:
                    lines.append(f"{code},{area},{period},{len(lines) % 500},,,")
                else:
                    n = len(lines) % 1000
                    lines.append(f"{code},{area},{period},{n / 10:.1f}%,{n},1000,note {n}")
                if len(lines) > 200_000:
                    break
            if len(lines) > 200_000:
                break
        if len(lines) > 200_000:
            break
    data = ("\r\n".join(lines) + "\r\n").encode("utf-8")
    started = time.perf_counter()
    result = validate_upload(data, "big.csv", rules)
    print(f"\n200,000 rows ({len(data) / 1e6:.1f} MB) validated in {time.perf_counter() - started:.2f} s")
    assert result.ok, messages(result)[:5]
    assert len(result.rows) == 200_000
    assert result.rows["source_row"].iloc[-1] == 200_001
    broken = data.replace(b"K001,Worcester,2021/22 Q3,", b"K001,Worcester,2021/22 Q3,x")
    refused = validate_upload(broken, "big.csv", rules)
    assert len(refused.problems) == 1 and refused.problems[0].column == "value"
