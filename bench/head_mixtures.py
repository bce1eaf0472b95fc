"""Does any reading of v2's two heads reach FER2013's accuracy floor and read calm talking faces as calm?

v2 has two heads: `label` learnt FER2013's single labels, `votes` the FER+ crowd's vote distribution. The shipped
reading mixes their log-probabilities at one share m. Issue #14 asks for >= 0.70 on PublicTest *and* calm speech
read as calm; every m tried so far gave one or the other. This script looks beyond the one number:

1. the scalar share m = 0 ... 1, as shipped;
2. the crowd's neutral decision: P(neutral) from the votes head, the other six labels in the mixture's proportions.
   It tests the reading that FER2013's error on calm faces is calling them expressive at all. Beside it, the label
   heads with their training class weights undone;
3. a random search over a share and an offset per class (14 numbers), scored on PublicTest *and on the talking
   clips themselves*: the best PublicTest accuracy found for each combination of talking targets met. Fitted to
   the exam, that is an optimistic bound on what re-weighting these heads can do, not a reading to ship;
4. whether fitting a reading to the clips generalises: three numbers (m, an offset for neutral, one for angry) on a
   grid, chosen with one clip left out (the best accuracy meeting the targets on the others, one miss allowed in
   each group), then that clip's reading, for each clip in turn.

Accuracy is given on all PublicTest faces and apart on the faces whose FER2013 label is also the FER+ crowd's
majority ("agreed") and on the others ("disputed").

The talking targets (bench/talking_faces.py): calm speech read as expected on >= 10 of the 11 labelled clips, no
calm clip read angry, fear or surprise, expressive clips read as expected on >= 9 of the 10 labelled ones.

Usage: python bench/head_mixtures.py --data ../shared/data --members runs/v2par4/best.pt runs/v2par5/best.pt
       [--trials 20000] [--cache build/talking-faces.npz]
The members are training checkpoints (runs/, not in the package): the exported ONNX file holds only the mixture.
Float32, each face also read mirrored, grey levels equalised as at run time.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np
import torch

from facecue.emotion.metrics import classification_report, crowd_majority
from facecue.emotion.model import to_model_input
from facecue.labels import EMOTIONS
from facecue.train.data import load_dataset, load_ferplus_votes
from facecue.train.export import load_network

sys.path.insert(0, str(Path(__file__).parent))
from talking_faces import CALM_WRONG, load_faces, read_clips

NEUTRAL = EMOTIONS.index("neutral")
FLOOR = 0.70  # issue #14's PublicTest accuracy floor


def log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(1, keepdims=True)
    return z - np.log(np.exp(z).sum(1, keepdims=True))


@torch.no_grad()
def read_heads(network: torch.nn.Module, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each head's log-probabilities, averaged over members and views as the exported graph does."""
    x = torch.from_numpy(to_model_input(faces, 48, equalize=True))
    label, votes = [], []
    for i in range(0, len(x), 512):
        lp_label, lp_votes, _ = network.heads(x[i : i + 512])
        label.append(lp_label.numpy())
        votes.append(lp_votes.numpy())
    return log_softmax(np.concatenate(label)), log_softmax(np.concatenate(votes))


def mixture(label: np.ndarray, votes: np.ndarray, shares: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    return log_softmax((1 - shares) * label + shares * votes + offsets)


def crowd_neutral(label: np.ndarray, votes: np.ndarray, share: float) -> np.ndarray:
    """P(neutral) from the votes head; the six expressions shared out as the mixture at `share` reads them."""
    mixed = np.exp(mixture(label, votes, np.full(7, share), np.zeros(7)))
    p_neutral = np.exp(votes[:, NEUTRAL])
    others = np.delete(mixed, NEUTRAL, 1)
    others = others / others.sum(1, keepdims=True) * (1 - p_neutral[:, None])
    return np.log(np.insert(others, NEUTRAL, p_neutral, 1) + 1e-12)


class Exam:
    """PublicTest and the talking clips, each as the two heads read them; scores any reading of the heads."""

    def __init__(
        self, public: tuple, truth: np.ndarray, votes: np.ndarray, clips: list[dict], heads: dict[str, tuple]
    ) -> None:
        self.public, self.truth, self.clips, self.heads = public, truth, clips, heads
        majority = crowd_majority(votes)
        self.agreed = (majority >= 0) & (majority == truth)  # FER2013's label is also the crowd's majority
        self.disputed = (majority >= 0) & ~self.agreed

    def score(self, read) -> dict:
        probs = np.exp(read(*self.public))
        report = classification_report(probs, self.truth)
        right = probs.argmax(1) == self.truth
        calm = expressive = 0
        misread = []
        for clip in self.clips:
            name = clip["path"].name
            dominant = EMOTIONS[int(np.exp(read(*self.heads[name])).mean(0).argmax())]
            if clip["group"] == "calm_speech":
                calm += dominant in clip["expected"]
                if dominant in CALM_WRONG:
                    misread.append(f"{name.removesuffix('.mp4')} {dominant}")
            elif clip["group"] == "expressive" and clip["expected"]:
                expressive += dominant in clip["expected"]
        return {
            "accuracy": report["accuracy"],
            "macro_f1": report["macro_f1"],
            "agreed": float(right[self.agreed].mean()),
            "disputed": float(right[self.disputed].mean()),
            "calm": calm,
            "misread": misread,
            "expressive": expressive,
        }


def line(label: str, s: dict) -> str:
    misread = ", ".join(s["misread"]) or "none"
    return (
        f"{label:34s} accuracy {s['accuracy']:.3f}  macro-F1 {s['macro_f1']:.3f}  (agreed {s['agreed']:.3f}, "
        f"disputed {s['disputed']:.3f})  calm {s['calm']}/11  "
        f"expressive {s['expressive']}/10  calm misread: {misread}"
    )


def targets_met(s: dict) -> tuple[bool, bool, bool]:
    return s["calm"] >= 10, not s["misread"], s["expressive"] >= 9


def talking_rank(s: dict) -> tuple:
    return sum(targets_met(s)), s["calm"], -len(s["misread"]), s["expressive"], s["accuracy"]


def search(exam: Exam, trials: int, rng: np.random.Generator) -> dict:
    """Random shares and offsets per class, then a local search around each bucket's best: the best accuracy found
    for each combination of talking targets met (keyed by which are met), and under "floor" the best talking
    result of any setting at the accuracy floor."""
    best: dict = {}

    def consider(shares: np.ndarray, offsets: np.ndarray) -> None:
        s = exam.score(lambda label, votes: mixture(label, votes, shares, offsets))
        key = targets_met(s)
        if key not in best or s["accuracy"] > best[key][0]["accuracy"]:
            best[key] = (s, shares, offsets)
        if s["accuracy"] >= FLOOR and ("floor" not in best or talking_rank(s) > talking_rank(best["floor"][0])):
            best["floor"] = (s, shares, offsets)

    for i in range(trials // 2):
        shares = rng.uniform(0, 1, 7) if i % 2 else np.full(7, rng.uniform(0, 1))
        offsets = rng.normal(0, 0.6, 7)
        offsets[NEUTRAL] = rng.uniform(0, 2)
        consider(shares, offsets)
    for key in list(best):
        for _ in range(trials // (2 * len(best))):
            _, shares, offsets = best[key]
            consider(np.clip(shares + rng.normal(0, 0.05, 7), 0, 1), offsets + rng.normal(0, 0.1, 7))
    return best


def leave_one_clip_out(exam: Exam) -> tuple[int, list[tuple[str, str, bool, tuple]]]:
    """First, how many clips the shipped reading gets right; then per clip: the (m, neutral offset, angry offset)
    chosen on the other clips, its reading of this clip, and whether that reading is right (the expected label; for
    calm speech also not angry, fear or surprise)."""
    grid = []
    for share, neutral, angry in itertools.product(
        np.arange(0, 0.61, 0.1), np.arange(0, 1.61, 0.1), np.arange(-1.2, 0.01, 0.1)
    ):
        offsets = np.zeros(7)
        offsets[NEUTRAL], offsets[EMOTIONS.index("angry")] = neutral, angry
        shares = np.full(7, share)
        accuracy = float((mixture(*exam.public, shares, offsets).argmax(1) == exam.truth).mean())
        readings = {
            c["path"].name: EMOTIONS[
                int(np.exp(mixture(*exam.heads[c["path"].name], shares, offsets)).mean(0).argmax())
            ]
            for c in exam.clips
        }
        grid.append(((round(float(share), 1), round(float(neutral), 1), round(float(angry), 1)), accuracy, readings))

    def right(clip: dict, reading: str) -> bool:
        if clip["group"] == "calm_speech" and reading in CALM_WRONG:
            return False
        return reading in clip["expected"] if clip["expected"] else True

    def meets(readings: dict, clips: list[dict]) -> bool:
        misses = {"calm_speech": 0, "expressive": 0}
        for clip in clips:
            if clip["group"] == "calm_speech" and readings[clip["path"].name] in CALM_WRONG:
                return False
            misses[clip["group"]] += not right(clip, readings[clip["path"].name])
        return max(misses.values()) <= 1

    scored = [c for c in exam.clips if c["expected"] or c["group"] == "calm_speech"]
    shipped = next(g for g in grid if g[0] == (0.5, 0.0, 0.0))
    shipped_right = sum(right(c, shipped[2][c["path"].name]) for c in scored)
    rows = []
    for clip in scored:
        others = [c for c in scored if c is not clip]
        chosen = max((g for g in grid if meets(g[2], others)), key=lambda g: g[1], default=None)
        if chosen is None:
            rows.append((clip["path"].name, "-", False, ()))
            continue
        reading = chosen[2][clip["path"].name]
        rows.append((clip["path"].name, reading, right(clip, reading), (*chosen[0], round(chosen[1], 3))))
    return shipped_right, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="the shared data folder")
    parser.add_argument("--members", type=Path, nargs="+", required=True, help="v2 training checkpoints")
    parser.add_argument("--trials", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", type=Path, default=Path("build/talking-faces.npz"))
    args = parser.parse_args()

    network, _ = load_network(args.members, mirror=True)
    public = load_dataset(args.data / "fer2013" / "fer2013_train_publictest.csv.gz", "PublicTest")
    clips = [c for c in read_clips(args.data) if c["set"] == "talking"]
    faces = load_faces(clips, args.cache, 5.0)
    clips = [c for c in clips if len(faces[c["path"].name])]
    votes = load_ferplus_votes(args.data / "ferplus" / "ferplus_votes.csv", public)
    exam = Exam(
        read_heads(network, public.images),
        public.labels,
        votes,
        clips,
        {c["path"].name: read_heads(network, faces[c["path"].name]) for c in clips},
    )

    agreed, disputed = exam.agreed.sum(), exam.disputed.sum()
    print(
        f"FER2013's PublicTest labels agree with the FER+ crowd's majority on {agreed} of {agreed + disputed} faces "
        f"({agreed / (agreed + disputed):.3f}); accuracy is also given on those ('agreed') and the rest ('disputed')"
    )
    crowd_neutral_faces = exam.disputed & (crowd_majority(votes) == NEUTRAL)
    counts = np.bincount(public.labels[crowd_neutral_faces], minlength=len(EMOTIONS))
    by_label = ", ".join(f"{label} {n}" for label, n in zip(EMOTIONS, counts, strict=True) if n)
    print(
        f"of the disputed faces the crowd calls {crowd_neutral_faces.sum()} neutral; FER2013 labels them {by_label}\n"
    )
    print("1. one share m for every class (shipped: m = 0.5)")
    for share in np.round(np.linspace(0, 1, 11), 1):
        print(line(f"m = {share}", exam.score(lambda lb, vt, m=share: mixture(lb, vt, np.full(7, m), np.zeros(7)))))
    print("\n2. the crowd decides neutral (votes head), the mixture shares out the rest")
    for share in (0.0, 0.5):
        print(line(f"others at m = {share}", exam.score(lambda lb, vt, m=share: crowd_neutral(lb, vt, m))))
    # The label head learnt with class weights count^-0.5 (train/trainer.py), which tilts it towards rare classes;
    # adding 0.5 * log(count) to its log-probabilities undoes that tilt.
    counts = load_dataset(args.data / "fer2013" / "fer2013_train_publictest.csv.gz", "Training").class_counts()
    untilt = 0.5 * np.log(counts / counts.sum())
    for share in (0.0, 0.5):
        print(
            line(
                f"class weights undone, m = {share}",
                exam.score(lambda lb, vt, m=share: mixture(log_softmax(lb + untilt), vt, np.full(7, m), np.zeros(7))),
            )
        )
    print(f"\n3. a share and an offset per class, {args.trials} settings scored on PublicTest and the clips")
    print("   (calm >= 10/11, no calm clip misread, expressive >= 9/10): best accuracy found for each combination")
    best = search(exam, args.trials, np.random.default_rng(args.seed))
    floor = best.pop("floor", None)
    for key in sorted(best, key=lambda k: (sum(k), k)):
        met = " ".join(
            f"{name}={'yes' if ok else 'no'}" for name, ok in zip(("calm", "none", "expr"), key, strict=True)
        )
        show(met, best[key])
    if floor:
        show(f"best talking result at >= {FLOOR}", floor)
    else:
        print(f"no setting found reaches {FLOOR} on PublicTest")
    print("\n4. (m, neutral offset, angry offset) chosen with each clip left out: that clip's reading")
    shipped_right, rows = leave_one_clip_out(exam)
    for name, reading, ok, chosen in rows:
        if not chosen:
            print(f"  {name:28s} no setting meets the targets on the other clips")
            continue
        print(f"  {name:28s} {reading:9s} {'right' if ok else 'WRONG'}  chosen (m, neutral, angry, accuracy) {chosen}")
    print(
        f"held-out clips read right: {sum(r[2] for r in rows)} of {len(rows)}; "
        f"the shipped reading (m 0.5, no offsets) reads {shipped_right} right"
    )


def show(label: str, found: tuple[dict, np.ndarray, np.ndarray]) -> None:
    s, shares, offsets = found
    print(line(label, s))
    print(f"{'':34s} shares {np.round(shares, 2).tolist()}  offsets {np.round(offsets, 2).tolist()}")


if __name__ == "__main__":
    main()
