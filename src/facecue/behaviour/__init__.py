"""Observable behaviour without emotion inference: head pose, blinks, facial actions, and their summaries.

Recital 18 of the EU AI Act keeps "the mere detection of readily apparent expressions, gestures or movements"
outside emotion recognition unless they are used to infer emotions; nothing in this package does.
"""

from facecue.behaviour.columns import ACTION_COLUMNS, BEHAVIOUR_COLUMNS, GAZE_COLUMNS, POSTURE_COLUMNS

__all__ = ["ACTION_COLUMNS", "BEHAVIOUR_COLUMNS", "GAZE_COLUMNS", "POSTURE_COLUMNS"]
