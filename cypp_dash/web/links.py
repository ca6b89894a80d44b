"""The view kept in the address bar: a choice read from a newly opened link (with a notice when the link
names something not held), written back so a copied link opens the same view, and each KPI's link."""
from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

from cypp_dash.config import Kpi, Plan
from cypp_dash.web.text import markdown_literal

LINK_WORDS = {"plan": "plan", "area": "area", "period": "period", "kpi": "KPI", "partnership": "partnership"}


def param(name: str) -> str | None:
    """The address's value for `name`, None when it has none."""
    value = st.query_params.get(name)
    return value if value else None


def remembered(name: str, options: list, default, widget_key: str | None = None):
    """A choice taken from a newly opened link first, then the widget, then this session, then
    the default; the result is kept in session state (and written to the URL by keep_in_url).
    A link naming a choice that is not held gets a notice naming it (link_notice); the rest of the link
    still applies."""
    key = f"cypp_{name}"
    from_url = param(name)
    link_changed = from_url is not None and from_url != st.session_state.get(f"cypp_url_{name}")
    if link_changed and from_url not in options:
        link_notice(f"The link asks for the {LINK_WORDS.get(name, name)} “{from_url}”, which is not found here, "
                    "so the usual choice is shown instead; the rest of the link still applies.")
        st.session_state[f"cypp_url_{name}"] = from_url
    if link_changed and from_url in options:
        value = from_url
    elif widget_key and st.session_state.get(widget_key) in options:
        value = st.session_state[widget_key]
    else:
        value = st.session_state.get(key)
    if value not in options:
        value = default
    st.session_state[f"cypp_default_{name}"] = default
    st.session_state[key] = value
    if widget_key:
        st.session_state[widget_key] = value
    return value


def link_notice(text: str) -> None:
    """A notice at the top of the page about a link that asked for something not found (said once)."""
    st.warning(markdown_literal(text), icon=":material/link_off:")


def kpi_from_link(plan: Plan) -> Kpi | None:
    """The KPI a newly opened link names (`?kpi=CODE`) when the plan holds it; None otherwise. Lets a page
    open the partnership that holds it before choosing its KPI."""
    code = param("kpi")
    if code is None or code == st.session_state.get("cypp_url_kpi"):
        return None
    return next((k for k in plan.kpis if k.code == code), None)


def keep_in_url(**values: str | None) -> None:
    """Write the view into the address bar so a copied link opens the same view.

    A choice still at its default (see `remembered`) is not added to an address that lacks it: that
    address already opens the same view, and each change Streamlit makes to the address is a new entry in
    the browser's history, so a visit through the menu would otherwise need two presses of Back to leave.
    A choice the address already names is always kept up to date."""
    changed = {}
    for name, value in values.items():
        st.session_state[f"cypp_url_{name}"] = None if value in (None, "") else str(value)
        if value is None or value == "":
            if name in st.query_params:
                del st.query_params[name]
        elif name not in st.query_params and str(value) == str(st.session_state.get(f"cypp_default_{name}")):
            continue
        elif st.query_params.get(name) != str(value):
            changed[name] = str(value)
    if changed:
        st.query_params.update(changed)  # one message to the browser, not one per choice


def kpi_link(code: str) -> str:
    """The address of a KPI's detail (its partnership's page, `?kpi=CODE`), keeping the plan, area, period
    and as-at date the reader has chosen. Relative, so it works under any base path."""
    params = {"kpi": code, **{name: param(name) for name in ("plan", "area", "period", "as_at", "view")
                              if param(name)}}
    return "partnership?" + urlencode(params)
