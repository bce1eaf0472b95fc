"""Classification metrics and calibration, in plain numpy (shared by training and evaluation)."""

from __future__ import annotations

from itertools import pairwise

import numpy as np

from facecue.labels import EMOTIONS


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = logits / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def confusion_matrix(truth: np.ndarray, pred: np.ndarray, k: int = len(EMOTIONS)) -> np.ndarray:
    """Rows are true labels, columns predicted labels."""
    return np.bincount(truth * k + pred, minlength=k * k).reshape(k, k)


def expected_calibration_error(probs: np.ndarray, truth: np.ndarray, bins: int = 15) -> float:
    """Top-label ECE with equal-width confidence bins."""
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == truth
    edges = np.linspace(0, 1, bins + 1)
    ece = 0.0
    for lo, hi in pairwise(edges):
        inside = (conf > lo) & (conf <= hi)
        if inside.any():
            ece += inside.mean() * abs(correct[inside].mean() - conf[inside].mean())
    return float(ece)


def reliability_bins(probs: np.ndarray, truth: np.ndarray, bins: int = 15) -> list[dict]:
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == truth
    edges = np.linspace(0, 1, bins + 1)
    out = []
    for lo, hi in pairwise(edges):
        inside = (conf > lo) & (conf <= hi)
        out.append(
            {
                "lo": float(lo),
                "hi": float(hi),
                "count": int(inside.sum()),
                "confidence": float(conf[inside].mean()) if inside.any() else None,
                "accuracy": float(correct[inside].mean()) if inside.any() else None,
            }
        )
    return out


def classification_report(probs: np.ndarray, truth: np.ndarray) -> dict:
    """Accuracy, macro-F1, per-class precision/recall/F1, confusion matrix, ECE and NLL."""
    pred = probs.argmax(axis=1)
    cm = confusion_matrix(truth, pred)
    tp = np.diag(cm).astype(float)
    precision = np.divide(tp, cm.sum(axis=0), out=np.zeros_like(tp), where=cm.sum(axis=0) > 0)
    recall = np.divide(tp, cm.sum(axis=1), out=np.zeros_like(tp), where=cm.sum(axis=1) > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros_like(tp), where=(precision + recall) > 0)
    present = cm.sum(axis=1) > 0
    nll = float(-np.log(np.clip(probs[np.arange(len(truth)), truth], 1e-12, 1)).mean())
    return {
        "n": len(truth),
        "accuracy": float((pred == truth).mean()),
        "macro_f1": float(f1[present].mean()),
        "per_class": {
            name: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(cm[i].sum()),
            }
            for i, name in enumerate(EMOTIONS)
        },
        "confusion_matrix": cm.tolist(),
        "ece": expected_calibration_error(probs, truth),
        "nll": nll,
    }


def fit_temperature(logits: np.ndarray, truth: np.ndarray) -> float:
    """Temperature minimising validation NLL (golden-section search on log T in [-2, 2])."""

    def nll(log_t: float) -> float:
        p = softmax(logits, float(np.exp(log_t)))
        return float(-np.log(np.clip(p[np.arange(len(truth)), truth], 1e-12, 1)).mean())

    lo, hi = -2.0, 2.0
    ratio = (np.sqrt(5) - 1) / 2
    a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    fa, fb = nll(a), nll(b)
    for _ in range(60):
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - ratio * (hi - lo)
            fa = nll(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + ratio * (hi - lo)
            fb = nll(b)
    return float(np.exp((lo + hi) / 2))


def crowd_majority(votes: np.ndarray) -> np.ndarray:
    """(N, 7) crowd vote counts (FER+) -> the most-voted label per face, -1 where a face has no votes."""
    return np.where(votes.sum(1) > 0, votes.argmax(1), -1)


def crowd_agreement(probs: np.ndarray, votes: np.ndarray, labels: np.ndarray | None = None) -> dict:
    """How often the top reading matches the crowd's majority, over the faces with votes, and the macro-F1 of
    the readings against that majority: a second, cleaner target beside FER2013's single labels.

    With the single `labels`, also how often the labels themselves match the crowd's majority, and the accuracy
    against the labels on the faces where the two agree and on those where they differ. FER2013's labels and the
    FER+ crowd disagree on about a third of PublicTest, mostly expressive labels on faces the crowd calls neutral:
    accuracy on all faces then rewards a model for reading those faces as expressive (docs/MODEL_CARD.md)."""
    majority = crowd_majority(votes)
    has = majority >= 0
    report = classification_report(probs[has], majority[has])
    result: dict = {"n": int(has.sum()), "agreement": report["accuracy"], "macro_f1": report["macro_f1"]}
    if labels is not None:
        agreed = has & (labels == majority)
        disputed = has & ~agreed
        read = probs.argmax(1) == labels
        result["labels"] = {
            "agree_with_crowd": float(agreed.sum() / max(has.sum(), 1)),
            "n_agreed": int(agreed.sum()),
            "accuracy_where_agreed": float(read[agreed].mean()) if agreed.any() else None,
            "n_disputed": int(disputed.sum()),
            "accuracy_where_disputed": float(read[disputed].mean()) if disputed.any() else None,
        }
    return result
