"""The behaviour columns of result.json and frames.csv (docs/RESULT_SCHEMA.md); no heavy imports here."""

# Columns of FaceRows.behaviour, in frames.csv order after yaw, pitch, roll.
GAZE_COLUMNS = ("gaze_yaw", "gaze_pitch", "eye_contact")
ACTION_COLUMNS = ("eyes_closed", "smile", "brow_raise", "brow_lower", "mouth_open", "lip_press", "eye_widen")
POSTURE_COLUMNS = ("lean", "shoulder_tilt", "body_motion", "hand_near_face")
BEHAVIOUR_COLUMNS = GAZE_COLUMNS + ACTION_COLUMNS + POSTURE_COLUMNS
