"""About the data under AppTest: every KPI defined and RAG explained."""
from __future__ import annotations

from page_text import texts


def test_about_the_data_defines_every_kpi_and_explains_rag(app_page, config):
    at = app_page("about_data.py")
    assert not at.exception
    assert "How RAG is decided" in texts(at)
    assert "How RAG is decided" in [h.value for h in at.header]
    body = texts(at)
    for kpi in config.plan().kpis:
        assert f"{kpi.code} {kpi.name}" in body and kpi.definition in body
    assert len(config.plan().kpis) == 17
