"""The plainest contract CSV is checked as whole columns (ingest.plain.store_table_quickly) and gives exactly what
the careful path gives; anything less plain, and every file with a problem, goes the careful path, which
names every problem by row and column. Not timed (benchmarks/bench.py times the million-row upload)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from test_ingest import BAD_FILES, CONTRACT_AREAS, CONTRACT_KPIS, RULES, contract_rules

from cypp_dash.ingest import plain, validate_upload

CORPUS = Path(__file__).parent / "corpus"
GOOD_CONTRACT_FILES = sorted(p.name for p in CORPUS.glob("good_*.csv") if "fingertips" not in p.name)


def both_ways(data: bytes, rules=RULES, monkeypatch=None):
    """(the outcome as shipped, the outcome of the careful path alone, whether the plain path took the file)."""
    taken = []
    real = plain.store_table_quickly

    def spying(*args):
        rows = real(*args)
        taken.append(rows is not None)
        return rows

    monkeypatch.setattr(plain, "store_table_quickly", spying)
    shipped = validate_upload(data, "upload.csv", rules)
    monkeypatch.setattr(plain, "store_table_quickly", lambda *args: None)
    careful = validate_upload(data, "upload.csv", rules)
    monkeypatch.setattr(plain, "store_table_quickly", real)
    return shipped, careful, any(taken)


def assert_same(shipped, careful):
    assert [str(p) for p in shipped.problems] == [str(p) for p in careful.problems]
    assert shipped.warnings == careful.warnings
    assert shipped.kind == careful.kind and shipped.sha256 == careful.sha256
    pd.testing.assert_frame_equal(shipped.rows, careful.rows)


def plain_file(rows: int = 3000) -> bytes:
    """A contract file in its plainest form: every KPI, area and a run of quarters, figures that agree."""
    quarters = [f"{y}/{str(y + 1)[2:]} Q{q}" for y in range(2019, 2025) for q in range(1, 5)]
    lines = ["kpi,area,period,value,numerator,denominator,note"]
    i = 0
    for period in quarters:
        for area in CONTRACT_AREAS:
            for kpi, unit in CONTRACT_KPIS.items():
                if i >= rows:
                    break
                i += 1
                den = 50 + (i * 37) % 950
                num = (i * 13) % den
                if unit == "percent":
                    lines.append(f"{kpi},{area},{period},{round(100 * num / den, 1)},{num},{den},")
                else:
                    lines.append(f"{kpi},{area},{period},{num},,,note {i % 7}")
    return ("\n".join(lines) + "\n").encode()


def test_a_plain_file_takes_the_quick_path_and_gives_the_careful_paths_rows(monkeypatch):
    shipped, careful, taken = both_ways(plain_file(), monkeypatch=monkeypatch)
    assert taken, "a plain file is checked as whole columns"
    assert shipped.ok and len(shipped.rows) == 3000
    assert_same(shipped, careful)


@pytest.mark.parametrize("name", GOOD_CONTRACT_FILES)
def test_every_messy_good_file_gives_the_same_rows_and_warnings_either_way(name, monkeypatch):
    shipped, careful, _ = both_ways((CORPUS / name).read_bytes(), monkeypatch=monkeypatch)
    assert shipped.ok
    assert_same(shipped, careful)


@pytest.mark.parametrize(("file_name", "expected", "rules"), BAD_FILES, ids=[f[0] for f in BAD_FILES])
def test_a_file_with_a_problem_goes_the_careful_path_and_gets_every_message(file_name, expected, rules, monkeypatch):
    shipped, careful, taken = both_ways((CORPUS / file_name).read_bytes(), rules, monkeypatch=monkeypatch)
    assert not taken
    assert shipped.problems
    assert_same(shipped, careful)


# One change each to a plain file: what the careful path must explain or tidy, so the quick path declines.
NOT_PLAIN = {
    "a quoted cell": lambda t: t.replace(",note 1\n", ',"note, 1"\n', 1),
    "a space after a figure": lambda t: t.replace(",note 1\n", ",note 1 \n", 1),
    "a percent sign": lambda t: _first_data_line(t, lambda cells: cells[:3] + [cells[3] + "%"] + cells[4:]),
    "a suppression marker": lambda t: _first_data_line(t, lambda cells: cells[:3] + ["c"] + cells[4:]),
    "a lower-case KPI": lambda t: _first_data_line(t, lambda cells: [cells[0].lower()] + cells[1:]),
    "an area by name": lambda t: _first_data_line(t, lambda cells: [cells[0], "Worcestershire"] + cells[2:]),
    "a blank line": lambda t: t.replace("\n", "\n\n", 2),
    "a thousands separator": lambda t: _first_data_line(t, lambda cells: cells[:4] + ['"1,000"'] + cells[5:]),
    "a repeated row": lambda t: t + t.splitlines()[1] + "\n",
    "a value that disagrees": lambda t: _first_data_line(t, lambda cells: cells[:3] + ["99.9"] + cells[4:]),
    "a future quarter": lambda t: _first_data_line(t, lambda cells: cells[:2] + ["2031/32 Q1"] + cells[3:]),
}


def _first_data_line(text: str, change) -> str:
    lines = text.split("\n")
    lines[1] = ",".join(change(lines[1].split(",")))
    return "\n".join(lines)


@pytest.mark.parametrize("change", sorted(NOT_PLAIN))
def test_anything_less_than_plain_gives_the_same_outcome_either_way(change, monkeypatch):
    data = NOT_PLAIN[change](plain_file(300).decode()).encode()
    shipped, careful, _ = both_ways(data, monkeypatch=monkeypatch)
    assert_same(shipped, careful)


def test_declining_leaves_no_trace_in_the_outcome(monkeypatch):
    """The quick path's own look at the header (an unused column is warned) is not repeated by the careful path."""
    data = plain_file(300).decode().replace("kpi,area,period,value,numerator,denominator,note",
                                            "kpi,area,period,value,numerator,denominator,note,comment", 1)
    data = "\n".join(line + ("," if i else "") for i, line in enumerate(data.split("\n")) if line) + "\n"
    data = data.replace(",note 1,\n", ",note 1,c\n", 1).replace("\n", "\n\n", 1)  # then a blank line: declined
    shipped, careful, taken = both_ways(data.encode(), monkeypatch=monkeypatch)
    assert not taken
    assert shipped.warnings == careful.warnings
    assert sum("comment" in w for w in shipped.warnings) == 1


def test_the_quick_path_keeps_the_rules_limits(monkeypatch):
    small = contract_rules(max_bytes=1024)
    shipped, careful, taken = both_ways(plain_file(300), small, monkeypatch=monkeypatch)
    assert not taken and shipped.problems
    assert_same(shipped, careful)
