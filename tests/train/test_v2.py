"""The v2 network: two heads (FER2013 labels, FER+ votes), batches made off the training thread, and the export
that mixes the heads at a share chosen on validation."""

import csv
import gzip
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from facecue.cli import main  # noqa: E402
from facecue.emotion.model import EmotionModel, to_model_input  # noqa: E402
from facecue.labels import EMOTIONS  # noqa: E402
from facecue.train.batches import EpochBatches, epoch_loader  # noqa: E402
from facecue.train.data import FaceDataset, load_fer_csv, load_ferplus_votes  # noqa: E402
from facecue.train.network import EmotionNetV2, build_network  # noqa: E402
from facecue.train.trainer import crowd_vote_loss  # noqa: E402


def crowd_votes(labels: np.ndarray, seed: int) -> np.ndarray:
    """Votes that mostly agree with the label; every fifth face has none (FER+ dropped it)."""
    rng = np.random.default_rng(seed)
    votes = rng.integers(0, 2, (len(labels), len(EMOTIONS))).astype(np.float32)
    votes[np.arange(len(labels)), labels] += 8
    votes[::5] = 0
    return votes


def test_vote_loss_ignores_faces_without_votes():
    logits = torch.randn(4, 7)
    votes = torch.zeros(4, 7)
    votes[1, 3] = 10
    expected = -torch.log_softmax(logits[1:2], 1)[0, 3]
    assert torch.allclose(crowd_vote_loss(logits, votes), expected)
    assert crowd_vote_loss(logits, torch.zeros(4, 7)).item() == 0.0


def test_batches_are_the_same_in_a_worker_process_and_inline():
    images = torch.randint(0, 255, (70, 48, 48), dtype=torch.uint8)
    labels = torch.arange(70) % 7
    order = torch.randperm(70, generator=torch.Generator().manual_seed(1))
    inline = list(epoch_loader(EpochBatches(images, labels, order, 32, seed=5, epoch=2), workers=0))
    worker = list(epoch_loader(EpochBatches(images, labels, order, 32, seed=5, epoch=2), workers=1))
    assert [len(b[1]) for b in inline] == [32, 32, 6]
    for (xa, ya, ia), (xb, yb, ib) in zip(inline, worker, strict=True):
        assert torch.equal(ia, ib) and torch.equal(ya, yb) and torch.equal(xa, xb)  # resumable: no hidden state
    other_epoch = next(iter(epoch_loader(EpochBatches(images, labels, order, 32, seed=5, epoch=3), workers=0)))
    assert not torch.equal(other_epoch[0], inline[0][0])


def test_v2_trains_both_heads_and_exports_the_mixture(tmp_path, pattern_data):
    from facecue.train.export import export_onnx, vote_share_grid
    from facecue.train.trainer import TrainOptions, train

    (xt, yt), (xv, yv) = pattern_data
    ts, vs = FaceDataset(xt, yt, list(map(str, range(len(yt))))), FaceDataset(xv, yv, list(map(str, range(len(yv)))))
    votes, val_votes = crowd_votes(yt, 1), crowd_votes(yv, 2)
    lines = []
    report = train(
        ts,
        vs,
        tmp_path,
        TrainOptions(epochs=4, batch_size=32, lr=0.02, width=8, warmup_epochs=1, seed=3, arch="v2"),
        log=lines.append,
        votes=votes,
        val_votes=val_votes,
    )
    assert report["accuracy"] > 0.6
    record = json.loads((tmp_path / "metrics.jsonl").read_text().splitlines()[-1])
    assert record["votes_agree_ferplus"] > 0.6 and "votes head" in lines[-1]

    grid = vote_share_grid(tmp_path / "best.pt", vs, val_votes)
    assert [row["vote_share"] for row in grid] == pytest.approx(np.linspace(0, 1, 11))
    path = export_onnx(
        tmp_path / "best.pt", vs, tmp_path / "v2.onnx", {"path": "pattern-faces"}, vote_share=0.3, vote_grid=grid
    )
    sidecar = json.loads(path.with_suffix(".json").read_text())
    assert sidecar["architecture"]["arch"] == "v2" and sidecar["architecture"]["vote_share"] == 0.3

    state = torch.load(tmp_path / "best.pt", weights_only=False)
    net = build_network(state["options"])
    assert isinstance(net, EmotionNetV2)
    net.load_state_dict(state["model"])
    net.eval()
    x = torch.from_numpy(to_model_input(xv[:10], 48, equalize=True))
    with torch.no_grad():
        label_logits, vote_logits, _ = net.heads(x)
    mixed = 0.7 * torch.log_softmax(label_logits, 1) + 0.3 * torch.log_softmax(vote_logits, 1)
    np.testing.assert_allclose(EmotionModel.load(path).logits(xv[:10]), mixed.numpy(), atol=1e-3)
    with pytest.raises(ValueError, match="vote_share"):
        export_onnx(tmp_path / "best.pt", vs, tmp_path / "no-share.onnx", {"path": "x"})


def test_averaged_export_reads_as_the_mean_of_its_members_and_their_mirror_images(tmp_path, pattern_data):
    from facecue.train.export import export_onnx, vote_share_grid
    from facecue.train.trainer import TrainOptions, train

    (xt, yt), (xv, yv) = pattern_data
    ts, vs = FaceDataset(xt, yt, list(map(str, range(len(yt))))), FaceDataset(xv, yv, list(map(str, range(len(yv)))))
    members = []
    for seed in (3, 4):
        options = TrainOptions(epochs=2, batch_size=32, lr=0.02, width=8, warmup_epochs=1, seed=seed, arch="v2")
        train(ts, vs, tmp_path / str(seed), options, log=lambda _: None, votes=crowd_votes(yt, 1))
        members.append(tmp_path / str(seed) / "best.pt")
    grid = vote_share_grid(members, vs, crowd_votes(yv, 2), mirror=True)
    path = export_onnx(
        members, vs, tmp_path / "avg.onnx", {"path": "pattern-faces"}, vote_share=0.4, vote_grid=grid, mirror=True
    )
    sidecar = json.loads(path.with_suffix(".json").read_text())
    averaged = sidecar["architecture"]["averaged"]
    assert averaged["mirror"] is True and [m["seed"] for m in averaged["members"]] == [3, 4]
    assert all(m["init"] == "" and m["parity_weight"] == 0.0 for m in averaged["members"])  # trained from scratch

    x = torch.from_numpy(to_model_input(xv[:10], 48, equalize=True))
    label_lp, vote_lp = [], []
    for member in members:
        state = torch.load(member, weights_only=False)
        net = build_network(state["options"])
        net.load_state_dict(state["model"])
        net.eval()
        for view in (x, x.flip(3)):
            with torch.no_grad():
                label_logits, vote_logits, _ = net.heads(view)
            label_lp.append(torch.log_softmax(label_logits, 1))
            vote_lp.append(torch.log_softmax(vote_logits, 1))
    mixed = 0.6 * torch.log_softmax(sum(label_lp) / 4, 1) + 0.4 * torch.log_softmax(sum(vote_lp) / 4, 1)
    model = EmotionModel.load(path)
    got = model.logits(xv[:10])
    np.testing.assert_allclose(torch.softmax(torch.from_numpy(got), 1), torch.softmax(mixed, 1), atol=1e-4)
    assert model.embed(xv[:3]).shape == (3, 2 * 256)  # the members' embeddings side by side


def test_ferplus_votes_are_matched_on_the_row_index(tmp_path):
    rows = [
        ("3", " ".join(["10"] * 2304), "Training"),
        ("6", " ".join(["20"] * 2304), "PublicTest"),
        ("0", " ".join(["30"] * 2304), "Training"),
    ]
    data = tmp_path / "fer.csv.gz"
    with gzip.open(data, "wt", newline="") as handle:
        csv.writer(handle).writerows([("emotion", "pixels", "Usage"), *rows])
    votes = tmp_path / "votes.csv"
    with votes.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["row", "usage", *EMOTIONS, "contempt", "unknown", "not_face"])
        writer.writerow([2, "Training", 7, 0, 0, 0, 0, 0, 3, 0, 0, 0])
    train_set = load_fer_csv(data, "Training")
    got = load_ferplus_votes(votes, train_set)
    assert got.tolist() == [[0] * 7, [7, 0, 0, 0, 0, 0, 3]]  # row 0 has no votes; row 2 is the second face
    assert main(["train", "--data", str(data), "--out", str(tmp_path / "run")]) == 2  # v2 needs the votes
    v1_mirror = ["train", "--data", str(data), "--arch", "v1", "--mirror", "--out", str(tmp_path / "run")]
    assert main(v1_mirror) == 2  # only v2 networks are averaged
