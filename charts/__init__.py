"""Plotly figure builders: frame -> figure, shared by pages and reports."""
