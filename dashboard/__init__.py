"""The pmsim Streamlit dashboard (``uv run pmsim dashboard``).

Pure helpers (no Streamlit): :mod:`dashboard.schema` turns the parameter schema of
:mod:`sim.params` into control specifications, :mod:`dashboard.runs` runs a scenario
while keeping what the pages draw (network snapshots, Pareto frontier) and
:mod:`dashboard.charts` builds Altair figures. :mod:`dashboard.ui` holds the
Streamlit widgets shared by the pages in ``dashboard/views``.
"""
