"""Tools for whoever maintains the course: re-recording the notebooks' outputs (record)."""
