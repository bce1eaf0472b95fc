import numpy as np

from facecue.emotion.metrics import (
    classification_report,
    confusion_matrix,
    crowd_agreement,
    expected_calibration_error,
    fit_temperature,
    softmax,
)


def test_report_on_known_predictions():
    truth = np.array([0, 0, 1, 1, 2, 2, 3, 4, 5, 6])
    pred = np.array([0, 1, 1, 1, 2, 0, 3, 4, 5, 6])
    probs = np.eye(7)[pred] * 0.9 + 0.1 / 7
    r = classification_report(probs, truth)
    assert r["accuracy"] == 0.8
    assert r["per_class"]["angry"]["recall"] == 0.5 and r["per_class"]["angry"]["precision"] == 0.5
    assert r["per_class"]["disgust"]["precision"] == 2 / 3 and r["per_class"]["disgust"]["recall"] == 1.0
    assert confusion_matrix(truth, pred)[2, 0] == 1
    f1 = [0.5, 0.8, 2 / 3, 1, 1, 1, 1]
    assert abs(r["macro_f1"] - np.mean(f1)) < 1e-9


def test_ece_zero_when_confidence_equals_accuracy():
    truth = np.zeros(1000, int)
    probs = np.tile([0.7] + [0.05] * 6, (1000, 1))
    truth[700:] = 1  # 70% correct at 70% confidence
    assert expected_calibration_error(probs, truth) < 1e-6
    truth[:] = 0
    assert abs(expected_calibration_error(probs, truth) - 0.3) < 1e-6


def test_temperature_recovers_overconfidence_and_lowers_ece():
    rng = np.random.default_rng(0)
    n = 4000
    true_logits = rng.normal(0, 1.5, (n, 7))
    truth = np.array([rng.choice(7, p=p) for p in softmax(true_logits)])
    overconfident = true_logits * 2.5  # a model 2.5x too sure of itself
    t = fit_temperature(overconfident, truth)
    assert 2.1 < t < 2.9
    before = expected_calibration_error(softmax(overconfident), truth)
    after = expected_calibration_error(softmax(overconfident, t), truth)
    assert after < before / 2


def test_crowd_agreement_counts_only_faces_with_votes():
    votes = np.zeros((4, 7))
    votes[0, 6] = 8  # the crowd says neutral
    votes[1, 0], votes[1, 6] = 6, 4  # angry by majority
    votes[2, 3] = 10  # happy; face 3 has no votes and is left out
    probs = np.eye(7)[[6, 6, 3, 0]]
    result = crowd_agreement(probs, votes)
    assert result["n"] == 3 and result["agreement"] == 2 / 3
    assert "labels" not in result


def test_accuracy_is_split_by_whether_the_label_and_the_crowd_agree():
    # Faces 0-2: the label and the crowd agree; faces 3-5: labelled angry, the crowd says neutral; face 6 has no
    # votes and counts in neither part.
    labels = np.array([3, 4, 0, 0, 0, 0, 5])
    votes = np.zeros((7, 7))
    votes[[0, 1, 2], [3, 4, 0]] = 9
    votes[3:6, 6] = 7
    votes[3:6, 0] = 3
    follows_crowd = np.eye(7)[[3, 4, 0, 6, 6, 6, 5]]
    follows_labels = np.eye(7)[[6, 6, 6, 0, 0, 0, 5]]
    crowd = crowd_agreement(follows_crowd, votes, labels)["labels"]
    assert crowd["agree_with_crowd"] == 0.5 and crowd["n_agreed"] == 3 and crowd["n_disputed"] == 3
    assert crowd["accuracy_where_agreed"] == 1.0 and crowd["accuracy_where_disputed"] == 0.0
    # Same accuracy on all faces with votes (3 of 6), earned in opposite parts: the split tells them apart.
    label_like = crowd_agreement(follows_labels, votes, labels)["labels"]
    assert label_like["accuracy_where_agreed"] == 0.0 and label_like["accuracy_where_disputed"] == 1.0
