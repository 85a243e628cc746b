"""Drivers of work that runs off the GUI thread: the training process, worker threads."""
