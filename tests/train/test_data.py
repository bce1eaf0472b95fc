import numpy as np
import pytest

from facecue.errors import InputError
from facecue.train.data import load_dataset, load_fer_csv, load_image_folder
from tests.conftest import pattern_faces, save_image, write_fer_csv


def test_fer_csv_gzip_splits_and_bad_rows(tmp_path):
    images, labels = pattern_faces(3)
    usages = ["Training", "PublicTest", "PrivateTest"] * 7
    path = write_fer_csv(tmp_path / "fer.csv.gz", images, labels, usages, bad_rows={4: "1 2 3", 7: "x " * 2304})
    train = load_fer_csv(path, "Training")
    assert len(train) == 7 and train.skipped["unreadable row"] == 0
    public = load_fer_csv(path, "PublicTest")
    assert len(public) == 5 and public.skipped["unreadable row"] == 2  # rows 4 and 7 are PublicTest rows
    assert public.ids[0] == "1"  # ids are row positions in the whole file
    np.testing.assert_array_equal(public.images[0], images[1])
    assert public.labels[0] == labels[1]
    assert len(train.sha256) == 64


def test_fer_csv_plain_and_errors(tmp_path):
    images, labels = pattern_faces(1)
    path = write_fer_csv(tmp_path / "fer.csv", images, labels, ["Training"] * 7)
    assert len(load_fer_csv(path)) == 7
    with pytest.raises(InputError, match="no readable rows"):
        load_fer_csv(path, "PublicTest")
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="not a FER2013-layout CSV"):
        load_fer_csv(tmp_path / "other.csv")
    with pytest.raises(InputError, match="does not exist"):
        load_fer_csv(tmp_path / "missing.csv")


def test_image_folder_with_label_map_and_unknown_labels(tmp_path):
    rng = np.random.default_rng(0)
    save_image(tmp_path / "Happiness" / "a.png", rng.integers(0, 255, (120, 100, 3), dtype=np.uint8))
    save_image(tmp_path / "Happiness" / "deep" / "b.jpg", rng.integers(0, 255, (60, 60), dtype=np.uint8))
    save_image(tmp_path / "anger" / "c.png", rng.integers(0, 255, (48, 48), dtype=np.uint8))
    save_image(tmp_path / "contempt" / "d.png", rng.integers(0, 255, (48, 48), dtype=np.uint8))
    (tmp_path / "anger" / "broken.png").write_bytes(b"not an image")
    data = load_image_folder(tmp_path)
    assert sorted(data.ids) == ["Happiness/a.png", "Happiness/deep/b.jpg", "anger/c.png"]
    assert data.images.shape == (3, 48, 48)
    assert data.skipped["unknown label 'contempt'"] == 1 and data.skipped["unreadable image"] == 1
    mapped = load_image_folder(tmp_path, {"Happiness": "happy", "anger": "angry", "contempt": "disgust"})
    assert len(mapped) == 4 and mapped.skipped["unknown label 'contempt'"] == 0
    assert sorted(mapped.labels.tolist()) == [0, 1, 3, 3]


def test_load_dataset_picks_split_subfolder(tmp_path):
    save_image(tmp_path / "val" / "happy" / "a.png", np.zeros((48, 48), np.uint8))
    save_image(tmp_path / "train" / "sad" / "b.png", np.zeros((48, 48), np.uint8))
    assert load_dataset(tmp_path, "val").labels.tolist() == [3]
    with pytest.raises(InputError, match="holds no images"):
        load_image_folder(tmp_path / "val" / "happy")
