"""The web layer: everything that needs Streamlit, one job per module (the page frame, the address bar, the
view, cached reads and pictures, HTML pieces from templates, styles, downloads, the signed-in session).
Pages import what they draw from here; domain modules never import from here."""
