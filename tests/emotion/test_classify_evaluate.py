import csv
import json

import numpy as np
import pytest

from facecue.cli import main
from facecue.labels import EMOTIONS
from tests.conftest import pattern_faces, save_image, write_fer_csv

pytest.importorskip("torch")  # the tiny model is trained here


def read_rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_classify_fer_csv_keeps_order_and_reports_bad_rows(tmp_path, tiny_model, capsys):
    model, _ = tiny_model
    images, labels = pattern_faces(4, seed=9)
    src = write_fer_csv(tmp_path / "faces.csv.gz", images, labels, ["PrivateTest"] * len(labels), bad_rows={3: "1 2"})
    out = tmp_path / "preds.csv"
    assert main(["classify", str(src), "-o", str(out), "--model", str(model), "--batch-size", "5"]) == 0
    rows = read_rows(out)
    assert list(rows[0].keys()) == ["id", *EMOTIONS, "label"]
    assert [r["id"] for r in rows] == [str(i) for i in range(len(labels))]
    assert rows[3]["label"] == "" and rows[3]["happy"] == ""
    good = [r for r in rows if r["label"]]
    probs = np.array([[float(r[e]) for e in EMOTIONS] for r in good])
    np.testing.assert_allclose(probs.sum(axis=1), 1, atol=1e-3)
    truth = np.delete(labels, 3)
    assert (probs.argmax(1) == truth).mean() > 0.6
    assert "skipped 3" in capsys.readouterr().err


def test_classify_folder_of_colour_images_any_size(tmp_path, tiny_model):
    model, _ = tiny_model
    images, _ = pattern_faces(1, seed=4)
    for i, img in enumerate(images):
        big = np.dstack([cv2_resize(img, 160)] * 3)
        save_image(tmp_path / "in" / f"sub{i % 2}" / f"{i}.jpg", big)
    (tmp_path / "in" / "broken.png").write_bytes(b"\x89PNG broken")
    out = tmp_path / "preds.csv"
    assert main(["classify", str(tmp_path / "in"), "-o", str(out), "--model", str(model)]) == 0
    rows = read_rows(out)
    assert len(rows) == 8 and rows[0]["id"] == "broken.png" and rows[0]["label"] == ""
    assert {r["id"] for r in rows[1:]} == {f"sub{i % 2}/{i}.jpg" for i in range(7)}


def cv2_resize(img, side):
    import cv2

    return cv2.resize(img, (side, side), interpolation=cv2.INTER_LINEAR)


def test_classify_errors_are_one_line(tmp_path, tiny_model, capsys):
    model, _ = tiny_model
    assert main(["classify", str(tmp_path / "nope.csv"), "-o", str(tmp_path / "p.csv"), "--model", str(model)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert main(["classify", str(tmp_path), "-o", str(tmp_path / "p.csv"), "--model", str(tmp_path / "m.onnx")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["classify", str(tmp_path), "-o", str(tmp_path / "p.csv"), "--model", str(tmp_path)]) == 2
    assert "is a folder, not an .onnx file" in capsys.readouterr().err


def test_a_failed_classify_keeps_the_earlier_predictions(tmp_path, tiny_model, capsys):
    """The output was opened for writing before the input was read: a wrong CSV left only a header."""
    model, _ = tiny_model
    out = tmp_path / "preds.csv"
    out.write_text("id,angry\n1,0.5\n")
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("a,b\n1,2\n")
    empty = tmp_path / "empty"
    empty.mkdir()
    for source in (wrong, empty):
        assert main(["classify", str(source), "-o", str(out), "--model", str(model)]) == 2
        assert out.read_text() == "id,angry\n1,0.5\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "preds.csv", "wrong.csv"]  # no partial file
    images, labels = pattern_faces(1, seed=2)
    src = write_fer_csv(tmp_path / "faces.csv", images, labels, ["PrivateTest"] * len(labels))
    before = src.read_bytes()
    assert main(["classify", str(src), "-o", str(src), "--model", str(model)]) == 2
    assert "would overwrite the input" in capsys.readouterr().err and src.read_bytes() == before
    assert main(["classify", str(src), "-o", str(out), "--model", str(model), "--batch-size", "0"]) == 2
    assert "--batch-size must be at least 1" in capsys.readouterr().err


def test_evaluate_writes_metrics_and_plots(tmp_path, tiny_model, capsys):
    model, _ = tiny_model
    images, labels = pattern_faces(10, seed=7)
    src = write_fer_csv(tmp_path / "val.csv", images, labels, ["PublicTest"] * len(labels))
    out = tmp_path / "eval"
    assert main(["evaluate", "--data", str(src), "--split", "PublicTest", "--model", str(model), "-o", str(out)]) == 0
    report = json.loads((out / "evaluation.json").read_text())
    assert report["n"] == 70 and report["accuracy"] > 0.6
    assert set(report["per_class"]) == set(EMOTIONS)
    assert np.array(report["confusion_matrix"]).sum() == 70
    assert 0 <= report["ece"] <= 1 and len(report["reliability"]) == 15
    assert report["model"]["requested"] == str(model) and report["facecue_version"] and report["created_at"]
    assert (out / "confusion_matrix.png").stat().st_size > 1000 and (out / "reliability.png").stat().st_size > 1000
    assert (
        main(["evaluate", "--data", str(src), "--split", "PublicTest", "--model", str(model), "-o", str(out), "--tta"])
        == 0
    )
    assert json.loads((out / "evaluation.json").read_text())["tta"] is True
    capsys.readouterr()
    # The default (v2) reads each face and its mirror inside its graph: --tta would pay twice for the same reading.
    argv = ["evaluate", "--data", str(src), "--split", "PublicTest", "--model", "default", "-o", str(out), "--tta"]
    assert main(argv) == 0
    assert "already reads every face and its mirror image" in capsys.readouterr().out
    assert json.loads((out / "evaluation.json").read_text())["tta"] is False

    votes = tmp_path / "votes.csv"  # the crowd agrees with every label but the first face's, which gets none
    votes.write_text(
        "row,usage,"
        + ",".join(EMOTIONS)
        + "\n"
        + "".join(
            f"{i},PublicTest," + ",".join("9" if k == y else "0" for k in range(7)) + "\n"
            for i, y in enumerate(labels)
            if i
        )
    )
    crowd = ["--ferplus-votes", str(votes)]
    assert (
        main(["evaluate", "--data", str(src), "--split", "PublicTest", "--model", str(model), "-o", str(out), *crowd])
        == 0
    )
    report = json.loads((out / "evaluation.json").read_text())
    assert report["ferplus"]["n"] == 69 and abs(report["ferplus"]["agreement"] - report["accuracy"]) < 0.02
    assert (
        report["data"]["ferplus_votes"]["path"] == str(votes) and len(report["data"]["ferplus_votes"]["sha256"]) == 64
    )
    # The crowd agrees with every label it voted on, so no face is disputed.
    assert report["ferplus"]["labels"]["agree_with_crowd"] == 1.0 and report["ferplus"]["labels"]["n_disputed"] == 0
    printed = capsys.readouterr().out
    assert "where they agree" in printed and "(69 faces)" in printed and "where they differ" not in printed


def test_photo_aligner_reframes_a_loose_face_photo(model_files):
    import cv2
    from skimage import data

    from facecue.vision.crops import PhotoAligner

    photo = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)  # face ~100 px in a 512 px photo
    aligned = PhotoAligner()(photo)
    assert aligned is not None and aligned.shape == (48, 48)
    # Eyes are darker than the skin between them, on the template's eye line (y = 18.5).
    eyes = aligned[17:21, [14, 15, 16, 32, 33, 34]].mean()
    cheeks = aligned[26:30, 12:36].mean()
    assert eyes < cheeks
    assert PhotoAligner()(np.full((200, 200, 3), 128, np.uint8)) is None
    noise = cv2.GaussianBlur(np.random.default_rng(4).integers(0, 255, (96, 96, 3), dtype=np.uint8), (0, 0), 3)
    assert PhotoAligner()(noise) is None  # the detector finds a "face" here (score 0.43) that the mesh does not confirm


def test_photo_aligner_takes_an_unsure_detection_the_mesh_confirms(model_files):
    import cv2
    from skimage import data

    from facecue.vision.crops import PhotoAligner
    from facecue.vision.detect import create_detector

    photo = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    face = photo[49:185, 155:291]  # the astronaut's face with a little margin, 136 px
    blurry = cv2.resize(
        cv2.resize(face, (24, 24), interpolation=cv2.INTER_AREA), (96, 96), interpolation=cv2.INTER_CUBIC
    )  # a low-resolution face enlarged, like FER2013's
    blurry = cv2.cvtColor(cv2.cvtColor(blurry, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    aligner = PhotoAligner()
    padded = cv2.copyMakeBorder(blurry, 24, 24, 24, 24, cv2.BORDER_REPLICATE)
    padded = cv2.resize(padded, (256, 256), interpolation=cv2.INTER_CUBIC)
    assert create_detector("blazeface", min_score=0.5).detect(padded).scores.size == 0  # below the usual bar
    aligned = aligner(blurry)
    assert aligned is not None
    assert aligned[17:21, [14, 15, 16, 32, 33, 34]].mean() < aligned[26:30, 12:36].mean()  # eyes on the eye line


def test_classify_align_modes(tmp_path, tiny_model, model_files):
    import cv2
    from skimage import data

    model, _ = tiny_model
    save_image(tmp_path / "in" / "astronaut.png", cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
    save_image(tmp_path / "in" / "blank.png", np.full((100, 100, 3), 90, np.uint8))
    for mode in ("auto", "never"):
        out = tmp_path / f"{mode}.csv"
        assert main(["classify", str(tmp_path / "in"), "-o", str(out), "--model", str(model), "--align", mode]) == 0
        assert len(read_rows(out)) == 2
    a, n = read_rows(tmp_path / "auto.csv")[0], read_rows(tmp_path / "never.csv")[0]
    assert a["id"] == n["id"] == "astronaut.png" and a["happy"] != n["happy"]  # a different crop was classified


def test_evaluate_refuses_a_missing_split_and_votes_for_other_faces(tmp_path, capsys):
    """A class-per-folder tree without the --split subfolder is not evaluated whole; FER+ votes whose rows are
    another split's (a subset numbers its rows from 0 again), or disagree with the labels, are refused."""
    images, labels = pattern_faces(2, seed=3)
    for i, (img, y) in enumerate(zip(images, labels, strict=True)):
        save_image(tmp_path / "tree" / EMOTIONS[y] / f"{i}.png", img)
    argv = ["evaluate", "--data", str(tmp_path / "tree"), "--split", "nope", "-o", str(tmp_path / "eval")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err == f"error: {tmp_path / 'tree'} has no subfolder 'nope' to evaluate (--split).\n"

    src = write_fer_csv(tmp_path / "public.csv", images, labels, ["PublicTest"] * len(labels))
    votes = tmp_path / "votes.csv"  # the full file's first rows: Training faces with other labels
    header = "row,usage,fer_label," + ",".join(EMOTIONS) + "\n"
    rows = [
        f"{i},Training,{(y + 1) % 7}," + ",".join("9" if k == y else "0" for k in range(7))
        for i, y in enumerate(labels)
    ]
    votes.write_text(header + "\n".join(rows) + "\n")
    for split, why in (
        (["--split", "PublicTest"], "14 of the 14 rows matched by index are not PublicTest rows"),
        (
            [],
            "agrees with the data's label on only 0 of the 14 rows",
        ),
    ):
        argv = ["evaluate", "--data", str(src), *split, "--ferplus-votes", str(votes), "-o", str(tmp_path / "eval")]
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: the FER+ votes in {votes} are for other faces") and why in err
        assert err.count("\n") == 1
    votes.write_text(header)  # no face has votes at all
    argv = ["evaluate", "--data", str(src), "--ferplus-votes", str(votes), "-o", str(tmp_path / "eval")]
    assert main(argv) == 2
    assert "none of the 14 faces has votes" in capsys.readouterr().err
    assert not (tmp_path / "eval").exists()
