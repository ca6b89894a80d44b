"""Entry point: `streamlit run app.py` serves the dashboard (dashboard.py: page configuration and navigation;
pages/: the screens) with Streamlit's own server, plus one small piece of middleware (cypp_dash/serving.py)
that lets a page opened at its own address, such as a deep link in a board paper, connect at once."""
import streamlit as st
from starlette.middleware import Middleware

from cypp_dash.serving import PageAddressBase

app = st.App("dashboard.py", middleware=[Middleware(PageAddressBase)])
