"""facecue: facial-expression analysis for video interviews, as a decision aid for people.

Public API: `analyze(path, purpose=, jurisdiction=, consent=, **options) -> Result` (the policy table decides
first: purpose and jurisdiction are required, see docs/RESPONSIBLE_USE.md), `Analyzer(options)` for reuse,
`AnalyzeOptions`, `classify_faces(images) -> (N, 7)`, `embed_faces(images)`, `EMOTIONS`.
"""

from facecue.labels import EMOTIONS

__version__ = "0.1.0"
__all__ = ["EMOTIONS", "AnalyzeOptions", "Analyzer", "Result", "analyze", "classify_faces", "embed_faces"]


def __getattr__(name: str):
    # Imported on first use so `facecue --help` and the training path stay light.
    if name in ("Analyzer", "analyze", "classify_faces", "embed_faces"):
        from facecue import pipeline as module

        return getattr(module, name)
    if name == "AnalyzeOptions":
        from facecue.options import AnalyzeOptions

        return AnalyzeOptions
    if name == "Result":
        from facecue.result import Result

        return Result
    raise AttributeError(f"module 'facecue' has no attribute {name!r}")
