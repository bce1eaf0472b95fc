"""The typed result: FaceRows indexing and concatenation, abstain codes, and the typed sections' JSON views."""

import dataclasses
import json

import numpy as np
import pytest

from facecue.abstain import MESSAGES, Abstain, abstain_code, abstain_message, abstain_text
from facecue.behaviour.columns import BEHAVIOUR_COLUMNS
from facecue.io.source import SourceInfo
from facecue.labels import NUM_EMOTIONS
from facecue.options import AnalyzeOptions
from facecue.result import FaceRows, ModelRef, ModelsInfo, Result, Summary
from tests.interview.synthetic import probs_for, synthetic_result

REASONS = ("", "face too small (31 px)", "", "face not visible (mesh presence 0.2)", "too blurred")


def rows(behaviour: bool = False, offset: int = 0) -> FaceRows:
    """Five rows whose every column tells the row apart (value = row number + offset)."""
    m = len(REASONS)
    k = np.arange(m) + offset
    probs = np.tile(probs_for("happy"), (m, 1))
    probs[[1, 3, 4]] = np.nan  # abstained rows carry no probabilities
    return FaceRows(
        frame_pos=k.astype(np.int64),
        face_id=(k % 2).astype(np.int64),
        boxes=np.stack([k, k, k + 40, k + 40], axis=1).astype(np.float32),
        det_score=np.full(m, 0.9, np.float32),
        quality=(k % 10 / 10).astype(np.float32),
        abstain=REASONS,
        pose=np.stack([k, -k, k / 2], axis=1).astype(np.float32),
        probs=probs.astype(np.float32),
        behaviour=np.full((m, len(BEHAVIOUR_COLUMNS)), 0.5, np.float32) if behaviour else None,
        behaviour_reason=tuple(f"why {i}" if i % 2 else "" for i in range(m)) if behaviour else (),
    )


def same(a: FaceRows, b: FaceRows) -> bool:
    return json.dumps(a.to_dict()) == json.dumps(b.to_dict())


@pytest.mark.parametrize("behaviour", [False, True])
def test_indexing_by_int_slice_mask_and_positions_gives_face_rows(behaviour):
    r = rows(behaviour)
    one = r[3]
    assert isinstance(one, FaceRows) and len(one) == 1 and one.frame_pos.tolist() == [3]
    assert one.abstain == (REASONS[3],) and one.boxes.shape == (1, 4)
    assert r[-1].frame_pos.tolist() == [4]
    assert r[1:4].frame_pos.tolist() == [1, 2, 3] and r[1:4].abstain == REASONS[1:4]
    mask = np.array([True, False, True, False, True])
    picked = r[mask]
    assert picked.frame_pos.tolist() == [0, 2, 4] and picked.abstain == ("", "", "too blurred")
    assert same(r[[4, 0]], FaceRows.concat([r[4], r[0]])) and same(r[(4, 0)], r[[4, 0]])
    assert len(r[np.zeros(5, bool)]) == 0 and len(r[[]]) == 0
    if behaviour:
        assert picked.behaviour is not None and picked.behaviour.shape == (3, len(BEHAVIOUR_COLUMNS))
        assert picked.behaviour_reason == ("", "", "")
        assert r[1:4].behaviour_reason == ("why 1", "", "why 3")
    else:
        assert picked.behaviour is None and picked.behaviour_reason == ()


def test_indexing_checks_its_index():
    r = rows()
    with pytest.raises(IndexError):
        r[5]
    with pytest.raises(IndexError):
        r[np.ones(4, bool)]  # a mask must have one entry per row


@pytest.mark.parametrize("behaviour", [False, True])
def test_concat_undoes_a_split_and_keeps_the_dtypes(behaviour):
    r = rows(behaviour)
    joined = FaceRows.concat([r[:2], r[2:3], r[3:]])
    assert same(joined, r) and joined.abstain == r.abstain and joined.behaviour_reason == r.behaviour_reason
    assert joined.frame_pos.dtype == np.int64 and joined.probs.dtype == np.float32
    longer = FaceRows.concat([r, rows(behaviour, offset=5)])
    assert len(longer) == 10 and longer.frame_pos.tolist() == list(range(10))
    assert same(longer[5:], rows(behaviour, offset=5))


def test_concat_of_nothing_is_empty_and_mixed_behaviour_is_refused():
    assert len(FaceRows.concat([])) == 0 and FaceRows.concat([]).probs.shape == (0, NUM_EMOTIONS)
    assert same(FaceRows.concat([FaceRows.empty(), rows()]), rows())
    with_behaviour = FaceRows.empty(behaviour=True)
    assert with_behaviour.behaviour is not None and with_behaviour.behaviour.shape == (0, len(BEHAVIOUR_COLUMNS))
    with pytest.raises(ValueError, match="behaviour"):
        FaceRows.concat([rows(), rows(behaviour=True)])


def test_every_abstain_code_reads_back_from_its_message():
    assert set(MESSAGES) == set(Abstain) - {Abstain.OTHER}
    assert len(set(MESSAGES.values())) == len(MESSAGES)
    for code, message in MESSAGES.items():
        assert " (" not in message  # the bracket starts the measurement, so it cannot be part of a message
        assert abstain_code(abstain_text(code)) is code and abstain_text(code) == message
        assert abstain_code(abstain_text(code, "12 px")) is code and abstain_message(abstain_text(code, "x")) == message
    assert abstain_code("") is None and abstain_code(None) is None
    assert abstain_code("blur") is Abstain.OTHER  # a message this version does not write
    # The messages result.json has always carried, with their measurements.
    assert abstain_code("face too small (31 px)") is Abstain.TOO_SMALL
    assert abstain_code("head turned (yaw 52°)") is Abstain.HEAD_TURNED
    assert abstain_code("face cut off by the frame edge (45% outside)") is Abstain.CUT_OFF


def test_face_rows_give_codes_and_the_rows_the_mesh_confirmed():
    r = rows()
    assert r.abstain_codes == (None, Abstain.TOO_SMALL, None, Abstain.NOT_VISIBLE, Abstain.BLURRED)
    assert r.confirmed.tolist() == [True, True, True, False, True]
    assert FaceRows.from_dict(json.loads(json.dumps(r.to_dict()))).abstain_codes == r.abstain_codes


def test_sections_read_back_their_own_json_in_the_same_order():
    source = SourceInfo("a.mp4", "video", 12.5, 25.0, 1280, 720, 90, 312, "h264", True, "ab" * 32)
    assert SourceInfo.from_dict(source.to_dict()) == source
    options = AnalyzeOptions(fps=None, start=2.0, max_faces=2, signals=("behaviour",))
    assert AnalyzeOptions.from_dict(json.loads(json.dumps(options.to_dict()))) == options
    models = ModelsInfo(ModelRef("det", "1"), ModelRef("mesh", "2"), ModelRef("emo", "3", "cd" * 32, 0.86), None)
    d = models.to_dict()
    assert list(d) == ["detector", "landmarks", "emotion"] and list(d["emotion"]) == [
        "name",
        "version",
        "sha256",
        "temperature",
    ]
    assert list(d["detector"]) == ["name", "version"] and ModelsInfo.from_dict(d) == models


def test_old_or_partial_records_read_with_defaults():
    assert AnalyzeOptions.from_dict({"fps": 5, "removed_option": 1}).signals == ("emotions",)  # before `signals`
    with pytest.raises(ValueError, match="fps"):
        AnalyzeOptions.from_dict({"fps": 0})
    partial = SourceInfo.from_dict({"path": "x.mp4", "duration_s": 3.0})
    assert (partial.path, partial.duration_s, partial.has_audio, partial.sha256) == ("x.mp4", 3.0, False, "")
    assert ModelsInfo.from_dict({}) == ModelsInfo() and ModelsInfo().to_dict() == {}


def test_summary_keeps_its_layout_other_layers_keys_and_leaves_emotions_out_of_behaviour_only():
    doc = {
        "analysed_at": "2026-01-01T00:00:00+00:00",
        "frames_analysed": 10,
        "faces_found": 9,
        "face_presence": 0.9,
        "abstained": 0.1,
        "abstain_reasons": {"too dark": 1},
        "mean_probs": {"happy": 0.9},
        "dominant": "happy",
        "other_people": [],
        "no_face": False,
        "processing_s": 0.5,
        "realtime_factor": 4.0,
        "decode_errors": 0,
        "baseline": None,
        "relative_to_baseline": {},
        "behaviour": {"readable_s": 2.0},
        "policy": {"allowed": True},
        "service": {"interview_id": 7},  # written by the service worker
    }
    summary = Summary.from_dict(doc)
    assert summary.extra == {"service": {"interview_id": 7}} and summary.abstained == 0.1
    assert json.dumps(summary.to_dict()) == json.dumps(doc)  # same keys, same order
    behaviour_only = summary.to_dict(emotions=False)
    assert not {"abstained", "mean_probs", "dominant", "baseline", "relative_to_baseline"} & behaviour_only.keys()
    assert list(behaviour_only)[-3:] == ["behaviour", "policy", "service"]


def test_result_round_trips_and_refuses_sections_that_are_not_objects():
    result = synthetic_result(np.tile(probs_for("sad"), (20, 1)))
    result = dataclasses.replace(result, summary=dataclasses.replace(result.summary, policy={"allowed": True}))
    doc = json.loads(result.to_json())
    assert json.dumps(Result.from_dict(doc).to_dict()) == json.dumps(doc)
    assert isinstance(Result.from_dict(doc).source, SourceInfo) and Result.from_dict(doc).summary.policy == {
        "allowed": True
    }
    with pytest.raises(TypeError, match="'source' must be a JSON object"):
        Result.from_dict({**doc, "source": ["not", "an", "object"]})
    with pytest.raises(TypeError, match="'emotion' must be a JSON object"):
        Result.from_dict({**doc, "models": {"emotion": "facecue-emotion"}})
