"""Interview intelligence: per-question signals, derived cues, highlights, mismatch, voice, feedback, trends."""

from facecue.interview.analysis import InterviewInputs, InterviewOptions, analyze_interview, load_inputs
from facecue.interview.request import InterviewRequest

__all__ = ["InterviewInputs", "InterviewOptions", "InterviewRequest", "analyze_interview", "load_inputs"]
