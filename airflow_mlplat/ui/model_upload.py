"""Uploading a deep model from the page: ``POST /api/models/upload``, as ``airflow-mlplat models upload``.

The form (``multipart/form-data``): ``name`` (the registered model: 1-200 letters, digits, ``._-``),
``format`` (onnx, torchscript, savedmodel, paddle), ``description``, ``tasks`` (comma-separated),
``file`` (an ``.onnx`` or TorchScript file; a SavedModel or Paddle folder as a ``.zip`` or ``.tar.gz``
archive) and ``feature_map`` (a ``feature_map.json``). Nothing the user typed names a path: the
parts are written, under names of their own, into a fresh temporary folder that is always deleted.

Limits: ``[mlplat] upload_max_bytes`` (default 512 MiB) for the files, counted while the body
streams in (413), and for everything an archive extracts to; an archive member with an absolute
path, ``..``, a link or a device is refused (422). Answers: 201 with what ``upload_model`` returns,
400 ``{"message"}`` naming the form field, 413, 422 with the refused model's problem, 503 when no
MLflow server is configured, 502 when MLflow fails.
"""

from __future__ import annotations

import logging
import re
import shutil
import stat
import tarfile
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from fastapi import Request
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool

from airflow_mlplat import config

log = logging.getLogger("airflow_mlplat.ui")

#: ``[mlplat] upload_max_bytes``: the most an upload's files (and an archive's contents) may hold.
UPLOAD_MAX_BYTES = "upload_max_bytes"
DEFAULT_MAX_BYTES = 512 * 1024 * 1024
#: What the form's text fields and multipart framing may add to the files.
FORM_OVERHEAD = 1024 * 1024
FIELD_MAX_BYTES = 16 * 1024
MAX_ARCHIVE_MEMBERS = 10_000
NAME = re.compile(r"[A-Za-z0-9._-]{1,200}")
TEXT_FIELDS = ("name", "format", "description", "tasks")
FILE_FIELDS = ("file", "feature_map")
#: The name each format's single file is saved under (formats read from a folder are archives).
SINGLE_FILE = {"onnx": "model.onnx", "torchscript": "model.pt"}


class UploadRefused(Exception):
    """An answer other than 201: ``status`` and the ``message`` shown to the user."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def max_bytes() -> int:
    text = config.setting(UPLOAD_MAX_BYTES, str(DEFAULT_MAX_BYTES)).strip()
    try:
        value = int(text)
    except ValueError:
        log.warning("[mlplat] %s is not a whole number (%r): using %d", UPLOAD_MAX_BYTES, text, DEFAULT_MAX_BYTES)
        return DEFAULT_MAX_BYTES
    return value if value > 0 else DEFAULT_MAX_BYTES


class _Form:
    """The parts of one multipart body: text fields in memory, files written into ``folder``."""

    def __init__(self, folder: Path, limit: int) -> None:
        self.folder = folder
        self.limit = limit
        self.fields: dict[str, str] = {}
        self.files: dict[str, Path] = {}
        self.filenames: dict[str, str] = {}
        self.file_bytes = 0
        self._headers: dict[bytes, bytes] = {}
        self._field = b""
        self._value = b""
        self._name = ""
        self._text: bytearray | None = None
        self._handle: Any = None

    def on_part_begin(self) -> None:
        self._headers, self._field, self._value = {}, b"", b""

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._field.lower()] = self._value
        self._field, self._value = b"", b""

    def on_headers_finished(self) -> None:
        _, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = params.get(b"name", b"").decode("utf-8", "replace")
        if name in self.fields or name in self.files:
            raise UploadRefused(400, f"{name}: sent twice")
        self._name = name
        if name in FILE_FIELDS:
            filename = params.get(b"filename")
            if filename is None:
                raise UploadRefused(400, f"{name}: send a file")
            self.filenames[name] = PurePosixPath(filename.decode("utf-8", "replace").replace("\\", "/")).name[:200]
            self.files[name] = self.folder / f"upload-{name}"  # never the name the browser sent
            self._handle = open(self.files[name], "wb")  # noqa: SIM115 - closed at the part's end or on error
        elif name in TEXT_FIELDS:
            self._text = bytearray()
        else:
            raise UploadRefused(
                400, f"{name[:60]}: not a field of the upload form ({', '.join(TEXT_FIELDS + FILE_FIELDS)})"
            )

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._handle is not None:
            self.file_bytes += end - start
            if self.file_bytes > self.limit:
                raise UploadRefused(413, f"{self._name}: the upload is larger than {self.limit} bytes")
            self._handle.write(data[start:end])
        elif self._text is not None:
            self._text += data[start:end]
            if len(self._text) > FIELD_MAX_BYTES:
                raise UploadRefused(400, f"{self._name}: longer than {FIELD_MAX_BYTES} bytes")

    def on_part_end(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        elif self._text is not None:
            try:
                self.fields[self._name] = self._text.decode("utf-8")
            except UnicodeDecodeError:
                raise UploadRefused(400, f"{self._name}: not UTF-8 text") from None
            self._text = None

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


async def receive_form(request: Request, folder: Path, limit: int) -> _Form:
    """The request's form, its files written into ``folder``; ``UploadRefused`` past ``limit`` bytes of files."""
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise UploadRefused(400, "form: send the upload as multipart/form-data")
    body_limit = limit + FORM_OVERHEAD
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > body_limit:
        raise UploadRefused(413, f"file: the upload is larger than {limit} bytes")
    form = _Form(folder, limit)
    callbacks = {
        name: getattr(form, name)
        for name in (
            "on_part_begin",
            "on_header_field",
            "on_header_value",
            "on_header_end",
            "on_headers_finished",
            "on_part_data",
            "on_part_end",
        )
    }
    parser = MultipartParser(boundary, callbacks)
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > body_limit:
                raise UploadRefused(413, f"file: the upload is larger than {limit} bytes")
            parser.write(chunk)
        parser.finalize()
    except UploadRefused:
        raise
    except Exception as err:  # python_multipart's parse errors, a client that went away
        raise UploadRefused(400, f"form: not a readable multipart body ({type(err).__name__})") from None
    finally:
        form.close()
    return form


def _member_path(name: str, target: Path) -> Path:
    """Where an archive member goes under ``target``; ``UploadRefused`` when it would leave it."""
    if "\0" in name or "\\" in name:
        raise UploadRefused(422, f"file: the archive member {name[:100]!r} has a forbidden character")
    relative = PurePosixPath(name)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise UploadRefused(422, f"file: the archive member {name[:100]!r} points outside the archive")
    path = target / relative
    if not path.resolve().is_relative_to(target.resolve()):
        raise UploadRefused(422, f"file: the archive member {name[:100]!r} points outside the archive")
    return path


def _copy_counted(source: Any, path: Path, total: list[int], limit: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as out:
        for block in iter(lambda: source.read(1 << 20), b""):
            total[0] += len(block)
            if total[0] > limit:
                raise UploadRefused(413, f"file: the archive extracts to more than {limit} bytes")
            out.write(block)


def extract_archive(archive: Path, target: Path, limit: int) -> None:
    """Extract a zip or tar (gzip or not) archive into ``target``: plain files and folders only, ``limit`` bytes."""
    target.mkdir()
    total = [0]
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zipped:
                members = zipped.infolist()
                if len(members) > MAX_ARCHIVE_MEMBERS:
                    raise UploadRefused(422, f"file: the archive holds more than {MAX_ARCHIVE_MEMBERS} entries")
                for info in members:
                    path = _member_path(info.filename, target)
                    mode = info.external_attr >> 16
                    if stat.S_ISLNK(mode) or (stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR)):
                        raise UploadRefused(
                            422, f"file: the archive member {info.filename[:100]!r} is not a plain file"
                        )
                    if info.is_dir():
                        path.mkdir(parents=True, exist_ok=True)
                        continue
                    if total[0] + info.file_size > limit:
                        raise UploadRefused(413, f"file: the archive extracts to more than {limit} bytes")
                    with zipped.open(info) as source:
                        _copy_counted(source, path, total, limit)
        elif tarfile.is_tarfile(archive):
            with tarfile.open(archive, "r:*") as tarred:
                for count, member in enumerate(tarred, start=1):
                    if count > MAX_ARCHIVE_MEMBERS:
                        raise UploadRefused(422, f"file: the archive holds more than {MAX_ARCHIVE_MEMBERS} entries")
                    path = _member_path(member.name, target)
                    if member.isdir():
                        path.mkdir(parents=True, exist_ok=True)
                        continue
                    if not member.isfile():
                        raise UploadRefused(422, f"file: the archive member {member.name[:100]!r} is not a plain file")
                    if total[0] + member.size > limit:
                        raise UploadRefused(413, f"file: the archive extracts to more than {limit} bytes")
                    source = tarred.extractfile(member)
                    if source is not None:
                        with source:
                            _copy_counted(source, path, total, limit)
        else:
            raise UploadRefused(
                422, "file: a SavedModel or Paddle model is sent as a .zip or .tar.gz archive of its folder"
            )
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError, ValueError) as err:
        raise UploadRefused(422, f"file: the archive cannot be extracted ({type(err).__name__})") from None


def _model_root(extracted: Path) -> Path:
    """The model folder in an extracted archive: its only top-level folder, else the archive's root."""
    entries = list(extracted.iterdir())
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return extracted


def checked_fields(form: _Form) -> dict[str, Any]:
    """``upload_model``'s keyword arguments from the text fields; ``UploadRefused`` (400) naming a bad one."""
    from airflow_mlplat.modelzoo.formats import FORMATS

    name = form.fields.get("name", "").strip()
    if not NAME.fullmatch(name):
        raise UploadRefused(400, "name: 1 to 200 letters, digits, '.', '_' or '-'")
    fmt = form.fields.get("format", "").strip()
    if fmt not in FORMATS:
        raise UploadRefused(400, f"format: one of {', '.join(FORMATS)}")
    tasks = [t.strip() for t in form.fields.get("tasks", "").split(",") if t.strip()] or None
    if tasks and "feature_map" not in form.files:
        raise UploadRefused(400, "tasks: name the tasks of a model uploaded with its feature_map")
    if "file" not in form.files:
        raise UploadRefused(400, "file: send the model file (or the archive of its folder)")
    return {"name": name, "fmt": fmt, "description": form.fields.get("description", "").strip(), "tasks": tasks}


def tracking_uri() -> str | None:
    """The MLflow server the plugin uses: the ``mlflow_default`` connection, else ``$MLFLOW_TRACKING_URI``."""
    from airflow_mlplat.hooks.mlflow_tracking import MlflowTrackingHook

    return MlflowTrackingHook("mlflow_default").tracking_uri()


def register(form: _Form, arguments: dict[str, Any], user: str, uri: str, limit: int) -> dict[str, Any]:
    """Check and register the uploaded model (slow: run it in a worker thread)."""
    from airflow_mlplat.modelzoo.formats import UploadError
    from airflow_mlplat.modelzoo.upload import upload_model

    fmt = arguments["fmt"]
    upload = form.files["file"]
    if fmt in SINGLE_FILE:
        model = upload.rename(form.folder / SINGLE_FILE[fmt])
    else:
        extracted = form.folder / "model"
        extract_archive(upload, extracted, limit)
        upload.unlink()
        model = _model_root(extracted)
    feature_map = form.files.get("feature_map")
    source = form.filenames.get("file") or "upload"
    try:
        return upload_model(
            model,
            **arguments,
            tracking_uri=uri,
            uploaded_by=user,
            feature_map=feature_map,
            tags={"mlplat.source": f"page upload: {source}"},
        )
    except UploadError as refused:  # the message names our temporary folder: name the uploaded file instead
        message = str(refused).replace(str(form.folder) + "/", "")
        raise UploadRefused(422, message.replace("upload-feature_map", "feature_map")) from None


async def handle_upload(request: Request, user: str) -> tuple[int, dict[str, Any]]:
    """The upload route's status and JSON body."""
    limit = max_bytes()
    folder = Path(tempfile.mkdtemp(prefix="mlplat-page-upload-"))
    try:
        form = await receive_form(request, folder, limit)
        arguments = checked_fields(form)
        uri = await run_in_threadpool(tracking_uri)
        if uri is None:
            return 503, {"message": "no MLflow server: define the connection mlflow_default or MLFLOW_TRACKING_URI"}
        try:
            registered = await run_in_threadpool(register, form, arguments, user, uri, limit)
        except UploadRefused:
            raise
        except Exception as err:  # MLflow down or refusing: the model was fine
            log.exception("registering an uploaded model in MLflow failed")
            return 502, {"message": f"MLflow could not register the model ({type(err).__name__}: {err})"[:2000]}
        return 201, registered
    except UploadRefused as refused:
        return refused.status, {"message": refused.message}
    finally:
        await run_in_threadpool(shutil.rmtree, folder, True)
