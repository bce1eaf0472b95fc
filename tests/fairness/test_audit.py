"""End to end: FairFace-like crops made from the astronaut photo, through the real detector, mesh, quality
gate and packaged model, to fairness.json, fairness.csv and fairness.html."""

import argparse
import csv
import json

import cv2
import numpy as np
import pytest
from skimage import data

from facecue.errors import InputError
from facecue.fairness import cli
from facecue.fairness.audit import FAIRFACE_CREDIT, load_labels
from tests.conftest import save_image

LABELS = "file,age,gender,race,service_test,emotion\n"


def face_crop() -> np.ndarray:
    """224x224 around her face, with a FairFace-like margin (the face fills about half the side)."""
    image = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    return cv2.resize(image[13:225, 119:331], (224, 224), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("faces")
    crop = face_crop()
    images = {
        "usable.jpg": crop,
        "mirrored.jpg": crop[:, ::-1],
        "dark.jpg": (crop * 0.12).astype(np.uint8),
        "blurred.jpg": cv2.GaussianBlur(crop, (0, 0), 6),
        "empty.jpg": np.full((224, 224, 3), 128, np.uint8),
    }
    for name, image in images.items():
        save_image(root / "images" / name, image)
    rows = [
        "images/usable.jpg,30-39,female,A,True,happy",
        "images/mirrored.jpg,30-39,female,A,True,sad",
        "images/missing.jpg,30-39,female,A,True,happy",
        "images/dark.jpg,30-39,male,B,True,happy",
        "images/blurred.jpg,30-39,male,B,True,angry",
        "images/empty.jpg,30-39,male,B,False,",
    ]
    (root / "labels.csv").write_text(LABELS + "\n".join(rows) + "\n")
    return root


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="facecue")
    cli.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


@pytest.fixture(scope="module")
def audited(dataset, model_files, tmp_path_factory):
    out = tmp_path_factory.mktemp("fairness")
    args = parse(
        [
            "fairness",
            "--images",
            str(dataset),
            "--labels",
            str(dataset / "labels.csv"),
            "--group-cols",
            "race,gender",
            "--truth-col",
            "emotion",
            "-o",
            str(out),
            "--bootstrap",
            "200",
            "--quiet",
        ]
    )
    assert cli.run(args) == 0
    with open(out / "fairness.csv", newline="") as f:
        rows = {r["file"]: r for r in csv.DictReader(f)}
    return json.loads((out / "fairness.json").read_text()), rows, (out / "fairness.html").read_text()


def test_each_image_is_detected_abstained_or_read(audited):
    doc, rows, _ = audited
    assert doc["data"]["unreadable"] == ["images/missing.jpg"] and doc["data"]["images_read"] == 5
    assert [rows[f"images/{n}.jpg"]["detected"] for n in ("usable", "mirrored", "dark", "blurred", "empty")] == [
        "1",
        "1",
        "1",
        "1",
        "0",
    ]
    assert rows["images/dark.jpg"]["abstain_reason"] == "too dark"
    assert rows["images/blurred.jpg"]["abstain_reason"].startswith("face not visible")
    for name in ("usable", "mirrored"):
        row = rows[f"images/{name}.jpg"]
        probs = np.array([float(row[e]) for e in ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")])
        assert row["abstained"] == "0" and probs.sum() == pytest.approx(1, abs=1e-3)
        assert row["label"] == ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")[probs.argmax()]
        assert row["correct"] == str(int(row["label"] == row["truth"]))
    assert rows["images/empty.jpg"]["label"] == "" and rows["images/empty.jpg"]["truth"] == ""


def test_group_rates_match_the_images(audited):
    doc, rows, _ = audited
    race = doc["groupings"]["race"]["groups"]
    assert race["A"]["n"] == 2 and race["B"]["n"] == 3
    assert race["A"]["metrics"]["detection_rate"]["value"] == 1.0
    assert race["B"]["metrics"]["detection_rate"]["value"] == pytest.approx(2 / 3, abs=1e-6)
    assert race["B"]["metrics"]["abstention_rate"]["value"] == 1.0 and race["B"]["n_usable"] == 0
    assert race["B"]["metrics"]["angry_rate"]["value"] is None
    correct = [int(rows[f"images/{n}.jpg"]["correct"]) for n in ("usable", "mirrored")]
    assert race["A"]["metrics"]["accuracy"]["value"] == pytest.approx(np.mean(correct))
    assert race["A"]["metrics"]["detection_rate"]["impact_ratio"] == 1.0
    assert race["B"]["metrics"]["detection_rate"]["impact_ratio"] == pytest.approx(2 / 3, abs=1e-6)
    assert all(any(w.startswith("small group") for w in g["warnings"]) for g in race.values())
    assert set(doc["groupings"]) == {"race", "gender", "race × gender"}


def test_report_is_offline_credits_fairface_and_defines_the_stress_cue(audited):
    doc, _, html = audited
    assert doc["data"]["attribution"] == FAIRFACE_CREDIT and FAIRFACE_CREDIT in html
    assert doc["cue"]["name"] == "visible stress/discomfort"
    assert "P(angry) + P(disgust) + P(fear) + P(sad) &gt;= 0.5" in html
    assert doc["models"]["emotion"]["sha256"] and "small group" in html
    assert "at exact parity; p of equal rates" in html  # each largest gap beside what chance alone gives
    assert "<th>difference</th>" in html  # and beside the two rates' absolute difference
    assert "<svg" in html and 'http-equiv="Content-Security-Policy"' in html
    assert "Rows audited" not in html  # every row: nothing to say
    from facecue.fairness.html import _rows_audited

    audit_rows = {**doc, "options": {**doc["options"], "split": "audit"}}
    audit_rows["data"] = {**doc["data"], "left_out_as_trained_on": ["images/4209.jpg"]}
    said = _rows_audited(audit_rows)  # the split and the copies left out were in the JSON only
    assert "Rows audited: the 'audit' split" in said and "Left out: 1 row(s)" in said and "4209.jpg" in said
    assert (
        "src=" not in html
        and "<script" not in html
        and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    )


def test_bad_input_is_one_clear_error(tmp_path):
    (tmp_path / "images").mkdir()
    labels = tmp_path / "labels.csv"
    with pytest.raises(InputError, match="does not exist or is not a folder"):
        load_labels(tmp_path / "nope", labels, ["race"])
    with pytest.raises(InputError, match=r"labels file .* does not exist"):
        load_labels(tmp_path, labels, ["race"])
    with pytest.raises(InputError, match=r"labels file .* is a folder, not a CSV file"):
        load_labels(tmp_path, tmp_path / "images", ["race"])
    labels.write_text("file,race\n")
    with pytest.raises(InputError, match="no rows"):
        load_labels(tmp_path, labels, ["race"])
    labels.write_text("file,race\nimages/a.jpg,White\n")
    with pytest.raises(InputError, match="no column 'gender'"):
        load_labels(tmp_path, labels, ["race", "gender"])
    labels.write_text("file,race,emotion\nimages/a.jpg,White,grumpy\n")
    with pytest.raises(InputError, match="'grumpy'"):
        load_labels(tmp_path, labels, ["race"], "emotion")
    labels.write_text("file,race,emotion\na.jpg,,3\n")
    table = load_labels(tmp_path, labels, ["race"], "emotion")
    assert table.groups["race"] == ("(missing)",) and table.truth.tolist() == [3]


def test_no_readable_image_is_an_input_error(tmp_path, model_files):
    (tmp_path / "labels.csv").write_text("file,race\nmissing.jpg,White\n")
    args = parse(
        [
            "fairness",
            "--images",
            str(tmp_path),
            "--labels",
            str(tmp_path / "labels.csv"),
            "--group-cols",
            "race",
            "-o",
            str(tmp_path / "out"),
            "--quiet",
        ]
    )
    with pytest.raises(InputError, match="none of the 1 images"):
        cli.run(args)


def test_split_keeps_only_its_rows_and_a_parity_trained_model_is_audited_on_unseen_rows(dataset):
    from facecue.fairness.audit import check_not_trained_on, select_split
    from facecue.fairness.split import split_of

    table = load_labels(dataset, dataset / "labels.csv", ["race"], "emotion")
    audit = select_split(table, "audit")
    assert audit.files == tuple(f for f in table.files if split_of(f) == "audit")
    assert audit.groups["race"] == tuple(
        g for f, g in zip(table.files, table.groups["race"], strict=False) if split_of(f) == "audit"
    )
    assert list(audit.truth) == [t for f, t in zip(table.files, table.truth, strict=False) if split_of(f) == "audit"]
    assert select_split(table, "all") is table

    trained = {"training": {"data": {"parity": {"labels_sha256": table.sha256, "split": "fit"}}}}
    with pytest.raises(InputError, match="--split audit"):
        check_not_trained_on(trained, table, "all")
    with pytest.raises(InputError, match="--split audit"):
        check_not_trained_on(trained, table, "fit")
    check_not_trained_on(trained, table, "audit")
    check_not_trained_on({"training": {"data": {"parity": {"labels_sha256": "other"}}}}, table, "all")
    check_not_trained_on({}, table, "all")


def test_a_model_is_never_audited_on_images_it_trained_on_whatever_the_labels_file(dataset, tmp_path):
    """The check compared the labels file's hash: a subset or re-saved copy of the labels audited v2 on its own
    fit rows without a word. The sidecar now lists the fit images by content."""
    from facecue.fairness.audit import check_not_trained_on
    from facecue.fairness.split import image_fingerprint, split_of

    table = load_labels(dataset, dataset / "labels.csv", ["race"], "emotion")
    fit = [f for f in table.files if split_of(f) == "fit" and (dataset / f).is_file()]
    trained = {
        "training": {
            "data": {
                "parity": {
                    "labels": "labels.csv",
                    "labels_sha256": table.sha256,
                    "split": "fit",
                    "fit_images_sha256": [image_fingerprint(dataset / f) for f in fit],
                }
            }
        }
    }
    lines = (dataset / "labels.csv").read_text().splitlines()
    copy = tmp_path / "fit-only.csv"  # another file: the fit rows alone, saved with CRLF line ends
    copy.write_text("\r\n".join([lines[0], *(line for line in lines[1:] if split_of(line.split(",")[0]) == "fit")]))
    edited = load_labels(dataset, copy, ["race"], "emotion")
    assert edited.sha256 != table.sha256
    with pytest.raises(InputError, match=f"{len(fit)} of the images to audit are ones this model was fine-tuned on"):
        check_not_trained_on(trained, edited, "all", dataset)
    with pytest.raises(InputError, match="--split audit"):
        check_not_trained_on(trained, table, "all", dataset)
    assert check_not_trained_on(trained, table, "audit", dataset) == frozenset()  # the rows it never saw
    # An audit row holding an exact copy of a fit image (FairFace has such a pair) is left out, not audited.
    copy_of_fit = {
        **trained["training"]["data"]["parity"],
        "fit_images_sha256": [image_fingerprint(dataset / "images/usable.jpg")],
    }
    left_out = check_not_trained_on({"training": {"data": {"parity": copy_of_fit}}}, table, "audit", dataset)
    assert left_out == {"images/usable.jpg"}
