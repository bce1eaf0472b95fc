import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from facecue.emotion.model import EmotionModel, to_model_input  # noqa: E402
from facecue.labels import EMOTIONS  # noqa: E402
from facecue.train.augment import augment_faces  # noqa: E402
from facecue.train.network import EmotionNet  # noqa: E402


def test_training_learns_and_logs(tiny_model):
    path, report = tiny_model
    assert report["accuracy"] > 0.6  # chance is 1/7: the loop really learns
    log = [json.loads(line) for line in (path.parent / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in log] == [1, 2, 3, 4]
    assert all(r["lr"] >= 0 for r in log)


def test_resume_continues_from_checkpoint(tmp_path, pattern_data):
    from facecue.train.data import FaceDataset
    from facecue.train.trainer import TrainOptions, train

    (xt, yt), (xv, yv) = pattern_data
    ts, vs = FaceDataset(xt, yt, list(map(str, yt))), FaceDataset(xv, yv, list(map(str, yv)))
    opts = TrainOptions(epochs=2, batch_size=64, width=8, warmup_epochs=1)
    train(ts, vs, tmp_path, opts, log=lambda line: None)
    lines = []
    train(ts, vs, tmp_path, TrainOptions(epochs=3, batch_size=64, width=8, warmup_epochs=1), log=lines.append)
    assert any("resumed" in line and "epoch 3" in line for line in lines)
    epochs = [json.loads(x)["epoch"] for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert epochs == [1, 2, 3]


def test_onnx_matches_torch_and_sidecar(tiny_model, pattern_data):
    path, _ = tiny_model
    sidecar = json.loads(path.with_suffix(".json").read_text())
    assert sidecar["labels"] == list(EMOTIONS) and sidecar["input"]["size"] == [48, 48]
    assert sidecar["temperature"] > 0 and "ece_after_calibration" in sidecar["validation"]
    assert sidecar["validation"]["ece_after_calibration"] <= sidecar["validation"]["ece_before_calibration"] + 0.02
    state = torch.load(path.parent / "best.pt", weights_only=False)
    net = EmotionNet(width=state["options"]["width"])
    net.load_state_dict(state["model"])
    net.eval()
    (_, _), (xv, _) = pattern_data
    model = EmotionModel.load(path)
    assert model.info.equalize is True  # the runtime equalises crops before the graph, as the sidecar says
    with torch.no_grad():
        expected = net(torch.from_numpy(to_model_input(xv[:20], 48, equalize=True)))[0].numpy()
    np.testing.assert_allclose(model.logits(xv[:20]), expected, atol=1e-3)
    probs = model.predict(xv[:20])
    assert probs.shape == (20, 7) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1, atol=1e-5)
    assert model.embed(xv[:3]).shape == (3, 256)


def test_augment_keeps_shape_range_and_changes_pixels():
    x = torch.rand(16, 1, 48, 48) * 255
    out = augment_faces(x, torch.Generator().manual_seed(0))
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 255
    assert (out - x).abs().mean() > 5


def test_network_is_invariant_to_brightness_and_contrast():
    net = EmotionNet(width=8).eval()
    x = torch.rand(4, 1, 48, 48) * 100 + 50
    with torch.no_grad():
        a, _ = net(x)
        b, _ = net(x * 1.5 + 10)  # per-image standardisation inside the graph
    assert torch.allclose(a, b, atol=0.05)


def test_int8_export_agrees_with_float(tiny_model, pattern_data, tmp_path):
    from facecue.train.data import FaceDataset
    from facecue.train.export import export_onnx

    path, _ = tiny_model
    (xt, _), (xv, yv) = pattern_data
    val = FaceDataset(xv, yv, list(map(str, yv)))
    int8 = export_onnx(path.parent / "best.pt", val, tmp_path / "m-int8.onnx", {"path": "x"}, quantize_with=xt[:128])
    sidecar = json.loads(int8.with_suffix(".json").read_text())
    assert sidecar["precision"].startswith("int8")
    agree = (EmotionModel.load(int8).predict(xv).argmax(1) == EmotionModel.load(path).predict(xv).argmax(1)).mean()
    assert agree > 0.9
    import onnx

    ops = [node.op_type for node in onnx.load(str(int8)).graph.node if "Conv" in node.op_type]
    assert ops == ["Conv"] + ["QLinearConv"] * 8  # the first convolution stays float, the other eight are int8


def test_train_flags_are_checked_before_any_data_loads(tmp_path, tiny_model, pattern_data, capsys):
    """Each bad flag is one sentence and exit 2, and nothing of a finished run (tiny_model's: v1, width 8) is
    touched by a resume that asks for another network."""
    from facecue.cli import main
    from tests.conftest import write_fer_csv

    (xt, yt), _ = pattern_data
    data = write_fer_csv(tmp_path / "fer.csv", xt, yt, ["Training", "PublicTest"] * (len(yt) // 2))
    run = tiny_model[0].parent
    before = {p.name: p.stat().st_mtime_ns for p in run.iterdir()}
    (tmp_path / "afile").write_text("x")
    (tmp_path / "badc.json").write_text("{}")
    v1 = ["--arch", "v1", "--width", "8"]
    cases = [
        (["--epochs", "0"], "--epochs must be at least 1, not 0."),
        (["--epochs", "-1"], "--epochs must be at least 1"),
        (["--batch-size", "0"], "--batch-size must be at least 1"),
        (["--lr", "-1"], "--lr must be a number above 0, not -1.0."),
        (["--device", "tpu"], "--device must be auto, cpu or cuda (or cuda:N), not 'tpu'."),
        (["--width", "0"], "--width must be at least 1"),
        (["--threads", "-1"], "--threads must be at least 0"),
        (["--init", str(tmp_path / "badc.json")], "is not a checkpoint of facecue train"),
        (["--init", str(run / "best.pt"), "--width", "16"], "holds an --arch v1 --width 8 network: train with those."),
        (["--out", str(tmp_path / "afile")], "is a file; name a folder for the run."),
        (["--out", str(run), "--width", "16"], "holds a run of --arch v1 --width 8: resume it with those"),
        (["--out", str(run), "--arch", "v2"], "holds a run of --arch v1 --width 8"),
    ]
    for flags, message in cases:
        argv = ["train", "--data", str(data), "--out", str(tmp_path / "run"), *v1, *flags]
        assert main(argv) == 2, flags
        err = capsys.readouterr().err
        assert err.startswith("error: ") and message in err and err.count("\n") == 1, (flags, err)
    assert not (tmp_path / "run").exists()
    assert {p.name: p.stat().st_mtime_ns for p in run.iterdir()} == before
