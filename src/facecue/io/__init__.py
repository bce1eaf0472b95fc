"""Frame sources: video files, single images and folders of images, as streams of timed BGR frames."""

from facecue.io.video import Frame, FrameSource, SourceInfo, open_source, read_audio

__all__ = ["Frame", "FrameSource", "SourceInfo", "open_source", "read_audio"]
