"""Every corpus file through `python -m cypp_dash import`: a bad file exits 1 naming row and
column and leaves every table as it was; a messy good file exits 0 and its figures show."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from cypp_dash import cli, store

CORPUS = Path(__file__).parent / "corpus"
# Files whose refusal depends on limits smaller than the shipped ones (tested in test_ingest).
SMALL_LIMIT_ONLY = {"bad_oversize.csv", "bad_zip_bomb.xlsx"}


def corpus_table(heading: str) -> list[list[str]]:
    text = (CORPUS / "README.md").read_text(encoding="utf-8")
    section = text.split(heading, 1)[1].split("\n## ", 1)[0]
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in section.splitlines()
            if line.startswith("| ") and not line.startswith("| file") and not line.startswith("|---")]
    return rows


BAD = [r for r in corpus_table("## Files that must be refused") if r[0] not in SMALL_LIMIT_ONLY]
GOOD = corpus_table("## Files that must load")


def checksum(db) -> str:
    conn = store.connect(db)
    try:
        return store.content_checksum(conn)
    finally:
        conn.close()


@pytest.fixture
def today(monkeypatch):
    monkeypatch.setenv("CYPP_TODAY", "2026-11-22")


def test_every_corpus_file_is_listed_in_its_readme():
    listed = {r[0] for r in corpus_table("## Files that must be refused") + GOOD}
    on_disk = {p.name for p in CORPUS.iterdir() if p.suffix in (".csv", ".xlsx")}
    assert on_disk <= listed


@pytest.mark.parametrize("name, rule, row, column", BAD, ids=[b[0] for b in BAD])
def test_a_bad_file_is_refused_naming_row_and_column_and_changes_nothing(db_path, today, capsys, name, rule, row,
                                                                         column):
    store.close_process_connections()
    before = checksum(db_path)
    code = cli.main(["import", str(CORPUS / name), "--user", "tester"])
    out = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in out.out + out.err
    assert "nothing was loaded" in out.out + out.err
    rows = re.findall(r"\d+", row)
    columns = [c.strip() for c in column.split("/")]
    for r in rows:
        assert f"row {r}" in out.out, out.out
    for c in columns:
        if c != "-":
            assert f"column {c}" in out.out, out.out
    assert checksum(db_path) == before


@pytest.mark.parametrize("name, messy, rows", GOOD, ids=[g[0] for g in GOOD])
def test_a_messy_good_file_loads(db_path, today, capsys, name, messy, rows):
    store.close_process_connections()
    code = cli.main(["import", str(CORPUS / name), "--user", "tester"])
    out = capsys.readouterr()
    assert code == 0, out.out + out.err
    assert re.search(r"loaded .* as batch \d+: \d+ added", out.out)
    expected = int(re.match(r"\d+", rows).group())
    conn = store.connect(db_path)
    try:
        batch = conn.execute("SELECT max(batch_id) FROM batches").fetchone()[0]
        held = conn.execute("SELECT count(*) FROM observations WHERE batch_id = ?", [batch]).fetchone()[0]
    finally:
        conn.close()
    assert held == expected


def test_figures_from_a_good_file_show_in_status(db_path, today, capsys):
    store.close_process_connections()
    assert cli.main(["import", str(CORPUS / "good_percent_sign_and_thousands.csv"), "--user", "t"]) == 0
    capsys.readouterr()
    # Its first row: EH01, Worcester, 2023/24 Q1, "87.6%" with 876 / 1000.
    assert cli.main(["status", "--area", "E07000237", "--period", "2023/24 Q1", "--format", "json"]) == 0
    import json

    rows = json.loads(capsys.readouterr().out)
    eh01 = next(r for r in rows if r["code"] == "EH01")
    assert eh01["value"] == 87.6 and eh01["ci_low"] < 87.6 < eh01["ci_high"]
    assert "illustrative" not in eh01["flags"]
