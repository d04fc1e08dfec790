"""Copying between a job's volume and storage URLs: staging in, publishing out.

``python -m airflow_mlplat.launcher.stage --source URL --dest DIR`` runs as an init container of
every pod (and before every local process). All replicas share the volume, so the copy goes to
a private temporary directory that is renamed into place: the first replica's rename wins, the
others find ``DIR`` present and stop. A ``.tar.gz``/``.tgz``/``.zip`` source is unpacked.

``--publish DIR --dest URL`` copies a directory out (the model after a job, a checkpoint while it
runs) under a temporary name beside ``URL`` and then moves it into place, so a reader never sees
half a model. ``--newest-in`` publishes the newest complete checkpoint of a checkpoint directory.
URLs are fsspec URLs (``hdfs://`` needs pyarrow and a Hadoop client in the image).
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


def publish(local_dir: str | os.PathLike[str], url: str) -> str:
    """Copy directory ``local_dir`` to ``url`` (replacing what is there); return the URL's path."""
    import fsspec

    source = Path(local_dir)
    if not source.is_dir() or not any(source.iterdir()):
        raise FileNotFoundError(f"{source} is missing or empty: nothing to publish")
    fs, target = fsspec.core.url_to_fs(url)
    target = target.rstrip("/")
    parent = target.rsplit("/", 1)[0] if "/" in target else "."
    fs.makedirs(parent, exist_ok=True)
    tmp = f"{parent}/.{target.rsplit('/', 1)[-1]}.tmp-{os.getpid()}"
    try:
        fs.put(str(source).rstrip("/") + "/", tmp, recursive=True)
        if fs.exists(target):
            fs.rm(target, recursive=True)
        fs.mv(tmp, target, recursive=True)
    finally:
        if fs.exists(tmp):
            fs.rm(tmp, recursive=True)
    return target


def newest_checkpoint(checkpoint_dir: str | os.PathLike[str]) -> Path:
    """The newest complete checkpoint: the latest-modified directory under ``checkpoint_dir`` whose
    name does not start with ``.`` (a checkpoint is written under a dot-name, then renamed)."""
    root = Path(checkpoint_dir)
    done = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")] if root.is_dir() else []
    if not done:
        raise FileNotFoundError(f"no checkpoint in {root} yet")
    return max(done, key=lambda p: (p.stat().st_mtime_ns, p.name))


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
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--source", help="URL of a file, archive or directory to stage into --dest")
    source.add_argument("--publish", help="directory to copy to the URL --dest")
    source.add_argument("--newest-in", help="checkpoint directory whose newest checkpoint goes under the URL --dest")
    parser.add_argument("--dest", required=True, help="directory to create (--source) or URL (--publish, --newest-in)")
    args = parser.parse_args(argv)
    what = args.source or args.publish or args.newest_in
    try:
        if args.source:
            copied = stage(args.source, args.dest)
            print(f"stage: {args.source} -> {args.dest}" + ("" if copied else " (already staged)"))
        elif args.publish:
            publish(args.publish, args.dest)
            print(f"published {args.publish} -> {args.dest}")
        else:
            newest = newest_checkpoint(args.newest_in)
            dest = f"{args.dest.rstrip('/')}/{newest.name}"
            publish(newest, dest)
            print(f"published checkpoint {newest} -> {dest}")
    except Exception as err:  # the container's log is all the user sees
        print(f"stage: cannot copy {what} to {args.dest}: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
