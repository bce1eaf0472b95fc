import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from facecue.cli import main  # noqa: E402
from facecue.train.data import FaceDataset  # noqa: E402
from facecue.train.distill import distill_loss, teacher_targets  # noqa: E402
from facecue.train.trainer import TrainOptions, train  # noqa: E402
from tests.conftest import write_fer_csv  # noqa: E402


def test_distill_loss_is_zero_only_at_the_targets_and_pulls_towards_them():
    targets = torch.tensor([[0.6, 0.3, 0.1, 0, 0, 0, 0]]).clamp_min(1e-6)
    targets = targets / targets.sum()
    at_targets = targets.log() * 2.0  # softmax(logits / 2) == targets
    assert float(distill_loss(at_targets, targets, 2.0)) == pytest.approx(0, abs=1e-5)
    logits = torch.zeros(1, 7, requires_grad=True)
    loss = distill_loss(logits, targets, 2.0)
    loss.backward()
    assert loss.item() > 0.1
    assert logits.grad[0, 0] < 0 < logits.grad[0, 6]  # descending raises the teacher's top class, lowers the rest


def test_teacher_targets_are_mirror_averaged_probabilities(tiny_model, pattern_data):
    path, _ = tiny_model
    (_, _), (xv, yv) = pattern_data
    checkpoint = path.parent / "best.pt"
    faces = np.stack([xv[0], xv[0][:, ::-1]])
    targets = teacher_targets([checkpoint], faces, temperature=1.0)
    np.testing.assert_allclose(targets.sum(1), 1, atol=1e-5)
    np.testing.assert_allclose(targets[0], targets[1], atol=1e-6)  # a face and its mirror image get one target
    soft = teacher_targets([checkpoint], xv, temperature=4.0)
    sharp = teacher_targets([checkpoint], xv, temperature=1.0)
    entropy = lambda p: -(p * np.log(p)).sum(1).mean()  # noqa: E731
    assert entropy(soft) > entropy(sharp)
    assert (sharp.argmax(1) == yv).mean() > 0.6  # the teacher reads the pattern faces


def test_a_student_learns_from_the_teacher_where_the_labels_are_wrong(tiny_model, pattern_data, tmp_path):
    """With every training label shuffled, only the teacher's soft targets carry the classes."""
    path, _ = tiny_model
    (xt, yt), (xv, yv) = pattern_data
    shuffled = np.random.default_rng(0).permutation(yt)
    train_set = FaceDataset(xt, shuffled, [str(i) for i in range(len(yt))])
    val_set = FaceDataset(xv, yv, [str(i) for i in range(len(yv))])
    common = dict(epochs=4, batch_size=32, lr=0.02, width=8, warmup_epochs=1, seed=3)
    taught = train(
        train_set,
        val_set,
        tmp_path / "taught",
        log=lambda line: None,
        options=TrainOptions(
            **common, teachers=(str(path.parent / "best.pt"),), distill_weight=1.0, distill_temperature=2.0
        ),
    )
    alone = train(train_set, val_set, tmp_path / "alone", TrainOptions(**common), log=lambda line: None)
    assert taught["accuracy"] > 0.6
    assert alone["accuracy"] < 0.4


def test_train_cli_records_its_teachers_and_refuses_a_missing_one(tiny_model, pattern_data, tmp_path, capsys):
    path, _ = tiny_model
    (xt, yt), (xv, yv) = pattern_data
    csv = write_fer_csv(
        tmp_path / "faces.csv",
        np.concatenate([xt, xv]),
        np.concatenate([yt, yv]),
        ["Training"] * len(yt) + ["PublicTest"] * len(yv),
    )
    teacher = path.parent / "best.pt"
    base = [
        "train",
        "--arch",
        "v1",
        "--data",
        str(csv),
        "--epochs",
        "1",
        "--batch-size",
        "32",
        "--width",
        "8",
        "--warmup-epochs",
        "0",
    ]
    assert main([*base, "--out", str(tmp_path / "missing"), "--teacher", str(tmp_path / "nope.pt")]) == 2
    assert "teacher checkpoint" in capsys.readouterr().err
    bad_weight = ["--out", str(tmp_path / "bad-weight"), "--teacher", str(teacher), "--distill-weight", "1.5"]
    assert main([*base, *bad_weight]) == 2
    assert "--distill-weight" in capsys.readouterr().err
    assert main([*base, "--out", str(tmp_path / "run"), "--teacher", str(teacher), "--distill-weight", "0.5"]) == 0
    sidecar = json.loads((tmp_path / "run" / "model.json").read_text())
    assert sidecar["training"]["options"]["distill_weight"] == 0.5
    [recorded] = sidecar["training"]["data"]["teachers"]
    assert recorded["checkpoint"] == str(teacher) and len(recorded["sha256"]) == 64
