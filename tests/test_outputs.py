"""write_outputs: what an analysis leaves in its folder."""

from __future__ import annotations

import json

from facecue.outputs import write_outputs
from tests.interview.synthetic import synthetic_result, timeline


def test_an_earlier_interview_section_is_not_left_beside_a_new_result(tmp_path):
    """Re-analysing into a folder without questions left the earlier video's report.json beside the new result."""
    (tmp_path / "report.json").write_text(json.dumps({"schema": "facecue.interview/1", "from": "an earlier video"}))
    paths = write_outputs(synthetic_result(timeline(("neutral", 3))), tmp_path)
    assert "report" not in paths and not (tmp_path / "report.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frames.csv", "report.html", "result.json"]
