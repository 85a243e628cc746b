"""Reusable widgets the panes are built from (forms, plots, views)."""
