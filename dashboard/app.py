"""pmsim dashboard: ``uv run pmsim dashboard`` or ``streamlit run dashboard/app.py``.

The pages live in ``dashboard/views/``, not ``dashboard/pages/``: Streamlit treats a
folder called ``pages`` next to the main script as a legacy (v1) multipage app, and a
fresh server would then serve a deep link such as ``/compare`` without this navigation.
"""

import streamlit as st

st.navigation([
    st.Page("views/explore.py", title="Explore", icon=":material/play_circle:", default=True),
    st.Page("views/compare.py", title="Compare", icon=":material/compare_arrows:"),
    st.Page("views/experiments.py", title="Experiments", icon=":material/science:"),
    st.Page("views/my_organisation.py", title="My organisation", icon=":material/groups:"),
]).run()
