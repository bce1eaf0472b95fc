"""Training, export and evaluation of the emotion model (needs the `train` extra: torch)."""
