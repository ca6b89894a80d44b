"""The web layer: what needs Streamlit besides the page frame (cypp_dash/ui.py), such as the process's
cached resources and the signed-in session. Domain modules never import from here."""
