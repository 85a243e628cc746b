"""The panes of the main window, one per file; each takes the shared Session."""
