"""facecue: facial-expression analysis for video interviews, as a decision aid for people."""

__version__ = "0.1.0"
