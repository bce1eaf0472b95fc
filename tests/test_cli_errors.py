"""The command line's last line of defence: any file-system error becomes one sentence and exit 2, and
`python -m facecue` is the same program as `facecue`."""

from __future__ import annotations

import subprocess
import sys

from facecue.cli import main


def test_a_folder_where_a_file_belongs_is_one_sentence(tmp_path, capsys):
    folder = tmp_path / "log"
    folder.mkdir()
    assert main(["audit-log", "verify", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err


def test_python_dash_m_facecue_runs_the_command_line():
    proc = subprocess.run([sys.executable, "-m", "facecue", "notice", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("usage: facecue notice")


def test_analyze_refuses_an_empty_output_name_and_a_model_it_would_not_use(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    base = ["analyze", "missing.mp4", "--purpose", "practice", "--jurisdiction", "OTHER"]
    assert main([*base, "-o", ""]) == 2
    assert "-o needs an output folder" in capsys.readouterr().err and list(tmp_path.iterdir()) == []
    assert main([*base, "-o", "out", "--signals", "behaviour", "--model", "v9"]) == 2
    assert "--model has no use with --signals behaviour" in capsys.readouterr().err
