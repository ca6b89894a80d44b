"""Accessibility statement: how accessible the dashboard is, how it was tested, known issues and contact."""
import streamlit as st

from cypp_dash.web.frame import page

# Update these when the checks are run again (tests/browser runs the automated part on every test run).
TESTED_ON = "22 November 2026"
AXE_VERSION = "axe-core 4.12 (through axe-playwright-python 0.1.8)"

view = page("Accessibility statement", needs_area=False)
council = view.plan.council or "the council that publishes this dashboard"

st.title("Accessibility statement")
st.markdown(f"""
This statement applies to the Children and Young People's Plan (CYPP) performance dashboard, published by
{council}. We want as many people as possible to be able to use it. You should be able to:

- change colours, contrast levels and fonts using your browser or device settings
- zoom in up to 400% with the text reflowing to fit the screen
- get around every page using just a keyboard
- use most of the dashboard with a screen reader (see the known issues)
- read every rating without seeing colour: RAG is always written as a word and a symbol
  (**✔ On track**, **▲ Some concern**, **✖ Off track**, **– Not rated**); charts also show it by shape
- download every table as a CSV or Excel file, and every chart as a picture (PNG or SVG) with its title,
  period and source written in it; a partnership's whole report as a Word document
- open any page in paper view (add `?view=paper` to its address) for a clean A4 page to print or save as PDF
""")

st.header("How accessible this dashboard is", divider="gray")
st.markdown("""
We believe the dashboard is **partially compliant** with the Web Content Accessibility Guidelines (WCAG) 2.2 at
level AA, because of the known issues below. The dashboard is built with Streamlit; some of the issues come from
Streamlit's own controls, which we cannot change from the dashboard.
""")

st.header("Known issues", divider="gray")
st.markdown("""
- **Charts are pictures.** Each chart is a picture whose text alternative is its title; a screen reader cannot
  read the figures inside it. The table beside each chart, and its CSV and Excel downloads, give the figures
  each rating is based on.
- **Interactive tables.** Some screens (actions, voice, uploads, administration) show figures in Streamlit's
  interactive table, which is drawn on a canvas. Screen reader support for it is limited; each such table can be
  downloaded as CSV or Excel to read in a spreadsheet. The board's own tables (partnership summaries, district
  comparisons, governance and ownership, wider outcomes) are plain tables that screen readers read cell by cell.
- **Long names in the choices.** The drop-down lists behind "Change plan, area or period" cut long names short
  (for example the plan's name) until they are opened; the sidebar says the full names above the button.
- **Zoom and small screens.** At 400% zoom (or on a phone) the text reflows and charts shrink to fit, but the
  wide tables keep their columns and scroll sideways in their own box (which a keyboard can reach).
- **Paper view.** For a moment after a page opens in paper view the sidebar can show before the paper layout
  applies.
""")

st.header("How we tested this dashboard", divider="gray")
st.markdown(f"""
Last tested on **{TESTED_ON}**.

- **Automated checks:** every page in the navigation, in normal and paper view, is opened in a real browser
  (headless Chromium, driven by Playwright) and checked with {AXE_VERSION} against the WCAG 2.0, 2.1 and 2.2
  A and AA rules and axe's best practices. The check fails on any serious or critical problem; on
  {TESTED_ON} it found no problem of any level on any page, and no part of a page is left out of the check.
  These checks run with every test run of the dashboard (`tests/browser`).
- **Manual checks:** keyboard-only use of the skip link, the menu, the sidebar choices, the partnership selector
  and the download buttons (focus moves in reading order; the menu's links had no visible focus in Streamlit's
  own style, so the dashboard adds a yellow and black focus highlight); screenshots of every page in normal and
  paper view, checked for anything clipped, overlapping or unlabelled; a print to PDF of paper view on A4;
  colour contrast of the RAG colours and table tints (dark text on a light tint, at least 4.5 to 1).
""")

st.header("Feedback and contact", divider="gray")
st.markdown(f"""
If you find a problem not listed here, or you need the figures in another format, contact {council}'s
performance team through the council's usual contact route and say which page, what you were trying to do and
what went wrong. We aim to reply within 5 working days.

**Enforcement procedure.** The Equality and Human Rights Commission (EHRC) is responsible for enforcing the
Public Sector Bodies (Websites and Mobile Applications) (No. 2) Accessibility Regulations 2018. If you are not
happy with how we respond to your complaint, contact the Equality Advisory and Support Service (EASS).
""")

st.caption(f"This statement was prepared on {TESTED_ON}. It is reviewed whenever the dashboard changes.")
