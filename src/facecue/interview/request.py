"""The interview inputs of one analysis, handed to `Analyzer.analyze(..., interview=...)`.

`facecue analyze`, `facecue batch` and the service's worker build an InterviewRequest; `attach` (called by the
analyzer once the faces are read) is the one place the interview section is added to a Result.
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from facecue.errors import FacecueError
from facecue.interview.analysis import InterviewInputs, InterviewOptions, analyze_interview, load_inputs

if TYPE_CHECKING:
    from facecue.emotion.model import ModelValidation
    from facecue.result import Result

NEEDS_VIDEO = "--questions and --transcript need a video input."


@dataclass
class InterviewRequest:
    """What the interview section needs beside the analysed faces.

    inputs: the parsed question timeline and transcript (load them before the long video analysis, so mistakes
    show at once); video: the file re-read for thumbnails and voice cues; subject_id: the pseudonymous subject
    written into the section (None keeps it out, as the service does); voice_track: a VoiceTrack or a Future of one
    measured while the faces were analysed (None: measured afterwards, when options.voice); behaviour_parts: also
    split summary.behaviour by question (or window) for behaviour analyses, as `facecue analyze` does.
    """

    video: str | Path
    inputs: InterviewInputs = field(default_factory=InterviewInputs)
    options: InterviewOptions = field(default_factory=InterviewOptions)
    subject_id: str | None = None
    purpose: str | None = None
    voice_track: Any = None
    behaviour_parts: bool = False
    files_given: bool = False  # a question or transcript file was named: a still input is then refused

    @classmethod
    def load(
        cls,
        video: str | Path,
        questions: str | Path | None = None,
        transcript: str | Path | None = None,
        options: InterviewOptions | None = None,
        **fields: Any,
    ) -> InterviewRequest:
        options = options or InterviewOptions()
        inputs = load_inputs(questions, transcript, options.candidate_speaker)
        fields.setdefault("files_given", bool(questions or transcript))
        return cls(video, inputs, options, **fields)

    def attach(self, result: Result, emotions: bool, behaviour: bool, validation: ModelValidation | None) -> Result:
        """The Result with its interview section (videos only: stills have no timeline to speak of) and, with
        behaviour_parts, the behaviour figures per question or window in summary.behaviour."""
        video = result.source.kind == "video"
        if not video and self.files_given:
            raise FacecueError(NEEDS_VIDEO)
        if video and (emotions or behaviour):  # behaviour only: a section that names no emotion (analysis.py)
            section = analyze_interview(
                result,
                self.video,
                self.inputs,
                self.options,
                validation,
                self.subject_id,
                self.purpose,
                voice_track=self.voice_track,
            )
            result = dataclasses.replace(result, interview=section)
        if video and behaviour and self.behaviour_parts:
            from facecue.pipeline import attach_behaviour_parts

            questions = self.inputs.questions
            spans = [(q.start_s, q.end_s, q.text) for q in questions] if questions else None
            attach_behaviour_parts(result, spans, self.options.window_s, voice_track=self._measured_voice())
        return result

    def _measured_voice(self):
        """The VoiceTrack measured beside the faces, for eye contact while speaking / listening; None when there
        is none (no audio, voice off, or it failed: the voice cues say why, and the split stays empty)."""
        track = self.voice_track
        try:
            return track.result() if hasattr(track, "result") else track
        except (FacecueError, ImportError):  # the same failure is reported once, by the voice cues
            return None


def voice_future(video: str | Path) -> Future:
    """Measure the voice track on a spare thread while the faces are analysed: the spans are known before the
    faces are, and decoding the audio a second time afterwards would cost several percent of the run."""
    import threading

    future: Future = Future()

    def measure() -> None:
        try:
            from facecue.interview.voice import measure_voice

            future.set_result(measure_voice(video))
        except BaseException as exc:  # handed to whoever reads the result
            future.set_exception(exc)

    threading.Thread(target=measure, name="facecue-voice", daemon=True).start()
    return future
