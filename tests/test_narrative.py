"""The narrative written from the figures: one test per kind of sentence, then checks on the whole
paragraph for every partnership of every bundled plan: every number in it is in the status rows (a
figure, a period, a KPI code, or a count of the rows), and it never gives a cause."""
from __future__ import annotations

import re

import pytest

from cypp_dash import narrative, status
from cypp_dash.status import KpiStatus


def row(code, rag="green", value=50.0, unit="percent", period="2025/26 Q4", compared="not compared", trend="",
        spc="") -> KpiStatus:
    return KpiStatus(code=code, kpi=f"measure {code}", partnership="P", partnership_id="p", area="E10000034",
                     area_name="Worcestershire", period=period if value is not None else None, value=value,
                     unit=unit, england=None, england_period=None, target="", rag=rag, reason="",
                     compared_with_england=compared, trend=trend, spc_variation=spc)


@pytest.mark.parametrize("rags, expected", [
    (["green"] * 4 + ["amber", "red"], "4 of 6 measures are on track, 1 has some concern and 1 is off track."),
    (["green"], "1 of 1 measure is on track."),
    (["red", "red", "not rated"], "2 of 3 measures are off track and 1 is not rated."),
    (["not rated", "not rated"], "2 of 2 measures are not rated."),
])
def test_the_rag_count_sentence(rags, expected):
    rows = [row(f"K{i:02d}", rag) for i, rag in enumerate(rags)]
    assert narrative.rag_counts(rows).text == expected
    assert narrative.rag_counts([]) is None


def test_the_off_track_sentence_gives_each_red_kpis_figure_and_period():
    rows = [row("EH03", "red", 10.2), row("MH01", "red", 1204.0, "count", "2025/26 Q3"), row("EH01", "green")]
    assert narrative.off_track(rows).text == "Off track: EH03 at 10.2% (2025/26 Q4) and MH01 at 1,204 (2025/26 Q3)."
    assert narrative.off_track([row("EH01", "green")]) is None


def test_the_england_sentence_names_significant_differences_only():
    rows = [row("EH01", compared="better"), row("EH02", compared="better"), row("MH03", compared="worse"),
            row("EH04", compared="similar")]
    assert narrative.compared_with_england(rows).text == ("EH01 and EH02 are significantly better than England; "
                                                          "MH03 is significantly worse than England.")
    assert narrative.compared_with_england([row("EH04", compared="similar")]) is None


def test_the_spc_sentence_names_special_cause_variation():
    rows = [row("EH03", spc="special cause improving"), row("MH01", spc="special cause concerning"),
            row("MH02", spc="special cause concerning"), row("EH01", spc="common cause")]
    assert narrative.spc(rows).text == ("SPC: EH03 shows special cause improving variation; MH01 and MH02 show "
                                        "special cause concerning variation.")
    assert narrative.spc([row("EH01", spc="common cause")]) is None


def test_the_trend_sentence_names_significant_trends_by_what_they_mean():
    rows = [row("EH01", trend="increasing, getting better"), row("SD02", trend="decreasing, getting worse"),
            row("EH02", trend="no significant change")]
    assert narrative.trend(rows).text == "The recent trend is getting better for EH01 and getting worse for SD02."
    assert narrative.trend([row("EH02", trend="no significant change")]) is None


def test_the_no_figure_sentence_lists_kpis_without_a_figure():
    rows = [row("SG02", "not rated", None), row("SG01")]
    assert narrative.no_figure(rows).text == "No figure is held yet for SG02."
    assert narrative.no_figure([row("SG01")]) is None


def test_the_paragraph_is_the_sentences_in_reading_order():
    rows = [row("EH01", "green", compared="better"), row("EH03", "red", 10.2, spc="special cause concerning")]
    assert [s.kind for s in narrative.sentences(rows)] == ["rag counts", "off track", "compared with England", "spc"]
    assert narrative.paragraph(rows) == (
        "1 of 2 measures is on track and 1 is off track. Off track: EH03 at 10.2% (2025/26 Q4). "
        "EH01 is significantly better than England. SPC: EH03 shows special cause concerning variation.")
    assert narrative.paragraph([]) == ""


NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?%?")


def numbers_in_rows(rows: list[KpiStatus]) -> set[str]:
    """Every number the rows hold, as the narrative may write it: figures, counts of rows."""
    found = {status.fmt(s.value, s.unit) for s in rows if s.value is not None}
    counts = status.rag_counts(rows)
    found |= {str(n) for n in counts.values()} | {str(len(rows))}
    return found


def remove_codes_and_periods(text: str, rows: list[KpiStatus]) -> str:
    for s in sorted(rows, key=lambda s: -len(s.code)):
        text = text.replace(s.code, " ")
    for p in sorted({s.period for s in rows if s.period}, key=len, reverse=True):
        text = text.replace(p, " ")
    return text


def all_partnerships(conn, config):
    for plan in config.plans:
        for p in plan.partnerships:
            for area in (plan.area, *plan.districts[:1]):
                yield f"{plan.id}/{p.id}/{area}", status.plan_status(conn, config, plan, area, partnership_id=p.id)


def test_every_number_in_every_narrative_is_in_the_status_rows(conn, config):
    checked = 0
    for name, rows in all_partnerships(conn, config):
        text = narrative.paragraph(rows)
        rest = remove_codes_and_periods(text, rows)
        allowed = numbers_in_rows(rows)
        for number in NUMBER.findall(rest):
            assert number.rstrip(",") in allowed, f"{name}: {number!r} is not in the rows: {text}"
        checked += bool(rows)
    assert checked >= 5


def test_a_number_not_in_the_rows_would_be_caught():
    """The check above can fail: a made-up figure is not among the rows' numbers."""
    rows = [row("EH03", "red", 10.2)]
    rest = remove_codes_and_periods("Off track: EH03 at 11.7% (2025/26 Q4).", rows)
    assert [n for n in NUMBER.findall(rest) if n not in numbers_in_rows(rows)] == ["11.7%"]


CAUSE_WORDS = re.compile(r"\b(because|due to|caused|owing to|as a result|reason|thanks to|led to)\b", re.I)


def test_no_narrative_gives_a_cause(conn, config):
    for name, rows in all_partnerships(conn, config):
        assert not CAUSE_WORDS.search(narrative.paragraph(rows)), name
