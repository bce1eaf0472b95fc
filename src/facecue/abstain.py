"""Why a face was not read: a code for the program, a message for people.

result.json keeps writing the message (`faces.abstain`, with the measurement in brackets: "face too small
(31 px)"; `summary.abstain_reasons`, counted by message), so the schema is unchanged. Code compares codes:
`abstain_code(text)` maps a written reason back to its code by the table below, never by matching prose.
"""

from __future__ import annotations

from enum import StrEnum


class Abstain(StrEnum):
    NOT_VISIBLE = "not_visible"  # the face mesh did not confirm the detection: most likely not a face at all
    CUT_OFF = "cut_off"
    TOO_SMALL = "too_small"
    HEAD_TURNED = "head_turned"
    HEAD_TILTED = "head_tilted"
    TOO_DARK = "too_dark"
    TOO_BRIGHT = "too_bright"
    LOW_CONTRAST = "low_contrast"
    BLURRED = "blurred"
    OTHER = "other"  # a message this version does not write (an older or hand-made result)


MESSAGES: dict[Abstain, str] = {
    Abstain.NOT_VISIBLE: "face not visible",
    Abstain.CUT_OFF: "face cut off by the frame edge",
    Abstain.TOO_SMALL: "face too small",
    Abstain.HEAD_TURNED: "head turned",
    Abstain.HEAD_TILTED: "head tilted",
    Abstain.TOO_DARK: "too dark",
    Abstain.TOO_BRIGHT: "too bright",
    Abstain.LOW_CONTRAST: "low contrast",
    Abstain.BLURRED: "too blurred",
}
_CODES = {message: code for code, message in MESSAGES.items()}


def abstain_text(code: Abstain, detail: str | None = None) -> str:
    """The reason as result.json writes it: the code's message, and the measurement in brackets."""
    return f"{MESSAGES[code]} ({detail})" if detail else MESSAGES[code]


def abstain_message(text: str) -> str:
    """A written reason without its measurement: the key `summary.abstain_reasons` counts it under."""
    return text.split(" (")[0]


def abstain_code(text: str | None) -> Abstain | None:
    """The code of a written reason; None when there is none (the face was read)."""
    if not text:
        return None
    return _CODES.get(abstain_message(text), Abstain.OTHER)
