"""pmsim dashboard: ``uv run pmsim dashboard`` or ``streamlit run dashboard/app.py``."""

import streamlit as st

st.navigation([
    st.Page("pages/explore.py", title="Explore", icon=":material/play_circle:", default=True),
    st.Page("pages/experiments.py", title="Experiments", icon=":material/science:"),
]).run()
