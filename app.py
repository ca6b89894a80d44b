"""Entry point: page configuration and navigation only; each screen lives in pages/."""
import streamlit as st

st.set_page_config(page_title="CYPP performance dashboard", page_icon=":material/monitoring:", layout="wide")

PAGES = [
    st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", url_path="overview", default=True),
    st.Page("pages/partnership.py", title="Partnerships", icon=":material/groups:", url_path="partnership"),
    st.Page("pages/districts.py", title="Districts", icon=":material/map:", url_path="districts"),
    st.Page("pages/about_data.py", title="About the data", icon=":material/menu_book:", url_path="about-data"),
]

st.navigation(PAGES).run()
