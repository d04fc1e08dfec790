"""The init step that stages data and scripts, and what launcher imports cost a DAG file."""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

from airflow_mlplat.launcher.stage import main, stage


def test_stage_directory_once(tmp_path: Path):
    source = tmp_path / "src"
    (source / "sub").mkdir(parents=True)
    (source / "sub" / "a.txt").write_text("a")
    dest = tmp_path / "vol" / "input"
    assert stage(source.as_uri(), dest) is True
    assert (dest / "sub" / "a.txt").read_text() == "a"
    assert stage(source.as_uri(), dest) is False  # the next replica finds it staged
    assert [p.name for p in dest.parent.iterdir()] == ["input"]  # no temporary directories left


def test_stage_unpacks_an_archive(tmp_path: Path):
    script = tmp_path / "train.py"
    script.write_text("print('hi')\n")
    archive = tmp_path / "code.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(script, arcname="train.py")
    dest = tmp_path / "work"
    assert stage(archive.as_uri(), dest)
    assert sorted(p.name for p in dest.iterdir()) == ["train.py"]


def test_stage_error_names_the_source(tmp_path: Path, capsys):
    missing = (tmp_path / "nope.csv").as_uri()
    assert main(["--source", missing, "--dest", str(tmp_path / "d")]) == 1
    assert f"stage: cannot copy {missing} to {tmp_path / 'd'}" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()


def test_dag_side_modules_import_no_heavy_libraries():
    code = (
        "import sys\n"
        "import airflow_mlplat.operators.distributed_training, airflow_mlplat.sensors.training_job\n"
        "import airflow_mlplat.triggers.training_job, airflow_mlplat.launcher\n"
        "heavy = {'torch', 'kubernetes', 'kubernetes_validate', 'tensorflow', 'paddle'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
