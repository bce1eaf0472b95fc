"""Interview intelligence: per-question signals, derived cues, highlights, mismatch, voice, feedback, trends."""

from facecue.interview.analysis import InterviewInputs, InterviewOptions, analyze_interview, load_inputs

__all__ = ["InterviewInputs", "InterviewOptions", "analyze_interview", "load_inputs"]
