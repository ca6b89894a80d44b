"""The dashboard's script: page configuration and navigation only; each screen lives in pages/.
app.py serves it (`streamlit run app.py`)."""
from pathlib import Path

import streamlit as st

from cypp_dash.web import prepare

# The window icon is the app's own picture: a Material icon name here makes the browser fetch it from
# fonts.gstatic.com, and nothing should leave the server's own address (a council network may block it).
st.set_page_config(page_title="CYPP performance dashboard",
                   page_icon=str(Path(__file__).parent / "cypp_dash" / "assets" / "icon.png"), layout="wide")

PAGES = [
    st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page("pages/partnership.py", title="Partnerships", icon=":material/groups:", url_path="partnership"),
    st.Page("pages/districts.py", title="Districts", icon=":material/map:", url_path="districts"),
    st.Page("pages/about_data.py", title="About the data", icon=":material/menu_book:", url_path="about-data"),
    st.Page("pages/about_plan.py", title="About the plan", icon=":material/account_tree:", url_path="about-plan"),
    st.Page("pages/actions.py", title="Actions", icon=":material/checklist:", url_path="actions"),
    st.Page("pages/voice.py", title="Voice of children and young people", icon=":material/record_voice_over:",
            url_path="voice"),
    st.Page("pages/wider_outcomes.py", title="Wider outcomes", icon=":material/query_stats:",
            url_path="wider-outcomes"),
    st.Page("pages/benchmarking.py", title="Benchmarking", icon=":material/leaderboard:", url_path="benchmarking"),
    st.Page("pages/upload.py", title="Upload figures", icon=":material/upload_file:", url_path="upload"),
    st.Page("pages/commentary.py", title="Commentary and sign-off", icon=":material/rate_review:",
            url_path="commentary"),
    st.Page("pages/public.py", title="Public view", icon=":material/public:", url_path="public"),
    st.Page("pages/sign_in.py", title="Sign in", icon=":material/login:", url_path="sign-in"),
    st.Page("pages/admin.py", title="Administration", icon=":material/admin_panel_settings:", url_path="admin"),
    st.Page("pages/accessibility.py", title="Accessibility", icon=":material/accessibility:",
            url_path="accessibility"),
]

# After any write, the default views' statistics and charts are worked out in the background (README Performance).
prepare.start()
# Expanded: with fourteen pages Streamlit would otherwise hide the last four behind "View more".
st.navigation(PAGES, expanded=True).run()
