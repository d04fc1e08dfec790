"""The init step: copy training data or scripts from a URL into a directory, once per job.

``python -m airflow_mlplat.launcher.stage --source URL --dest DIR`` runs as an init container of
every pod (and before every local process). All replicas share the volume, so the copy goes to
a private temporary directory that is renamed into place: the first replica's rename wins, the
others find ``DIR`` present and stop. A ``.tar.gz``/``.tgz``/``.zip`` source is unpacked.
Sources are fsspec URLs (``hdfs://`` needs pyarrow and a Hadoop client in the image).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path


def stage(source: str, dest: str | os.PathLike[str]) -> bool:
    """Copy ``source`` (a file or directory URL) into directory ``dest``; False when already staged."""
    import fsspec

    target = Path(dest)
    if target.exists():
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        fs, path = fsspec.core.url_to_fs(source)
        if fs.isdir(path):
            fs.get(path.rstrip("/") + "/", str(tmp), recursive=True)
        else:
            local = tmp / os.path.basename(path.rstrip("/"))
            fs.get(path, str(local))
            _unpack(local, tmp)
        try:
            os.rename(tmp, target)
        except OSError:
            if not target.exists():
                raise
            return False  # another replica staged it first
        return True
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _unpack(archive: Path, into: Path) -> None:
    name = archive.name.lower()
    if name.endswith((".tar.gz", ".tgz", ".tar")):
        with tarfile.open(archive) as tar:
            tar.extractall(into, filter="data")
    elif name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(into)
    else:
        return
    archive.unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m airflow_mlplat.launcher.stage", description=__doc__)
    parser.add_argument("--source", required=True, help="URL of a file, archive or directory")
    parser.add_argument("--dest", required=True, help="directory to create")
    args = parser.parse_args(argv)
    try:
        copied = stage(args.source, args.dest)
    except Exception as err:  # the init container's log is all the user sees
        print(f"stage: cannot copy {args.source} to {args.dest}: {err}", file=sys.stderr)
        return 1
    print(f"stage: {args.source} -> {args.dest}" + ("" if copied else " (already staged)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
