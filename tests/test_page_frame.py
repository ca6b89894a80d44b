"""What every page shares (cypp_dash/web/frame.py and links.py), under AppTest: the sidebar's choices
kept in the address (and nothing added at the defaults), a link naming something not held, a plan past
its end, and pages with nothing to show saying so in a board member's words."""
from __future__ import annotations

from page_text import texts


def _warnings(at) -> str:
    return "\n".join(str(w.value) for w in at.warning).replace("\\", "")  # Markdown escapes read as shown


def test_a_view_at_its_defaults_adds_nothing_to_the_address_and_a_choice_then_does(app_page):
    """Every change to the address is an entry in the browser's history: a visit through the menu at the
    default view must leave one entry, so Back leaves the page at one press."""
    at = app_page("overview.py")
    assert not at.exception
    assert dict(at.query_params) == {}
    at.sidebar.selectbox(key="w_area").select("E07000236").run()
    assert at.query_params["area"] == "E07000236"


def test_the_sidebar_choices_are_kept_in_the_url(app_page):
    at = app_page("overview.py", query={"area": "E07000236", "period": "2024/25 Q2"})
    assert at.query_params["area"] == "E07000236"
    assert at.sidebar.selectbox(key="w_area").value == "E07000236"
    assert at.sidebar.selectbox(key="w_period").value == "2024/25 Q2"
    assert "2024/25 Q2" in texts(at)


def test_changing_the_area_redraws_the_page_for_that_district(app_page):
    at = app_page("overview.py")
    at.sidebar.selectbox(key="w_area").set_value("E07000239").run()
    assert not at.exception
    assert "Wyre Forest ·" in texts(at)


def test_a_link_naming_an_unknown_plan_or_period_says_so_and_keeps_the_area(app_page):
    at = app_page("overview.py", query={"plan": "nowhere-2030", "period": "1999/00 Q1", "area": "E07000236"})
    assert not at.exception
    notice = _warnings(at)
    assert "nowhere-2030" in notice and "1999/00 Q1" in notice and "plan" in notice and "period" in notice
    assert "Redditch" in texts(at)


def test_a_plan_past_its_end_date_says_so_on_every_page(app_page):
    for page in ("overview.py", "partnership.py", "districts.py"):
        assert "ended on 31 December 2024" in texts(app_page(page)), page


def test_pages_with_nothing_to_show_say_so_to_a_board_member_not_a_developer(app_page):
    for page, words in (("voice.py", "No consultation with children and young people is recorded"),
                        ("actions.py", "No actions are recorded for this plan yet")):
        body = texts(app_page(page))
        assert words in body, page
        assert "YAML" not in body and "python -m" not in body and "`" not in body, page
