"""File objects and the answers of the files service (spec §3, rulings 9-11)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, get_args

import pydantic

from .._models import BaseModel
from ._lists import DataList
from .shared import FilePurpose

if TYPE_CHECKING:
    import pandas

__all__ = ["FILE_PURPOSES", "FileObject", "FileUploadResponse", "FileList", "FileDeleteResponse"]

FILE_PURPOSES: tuple[str, ...] = get_args(FilePurpose)
"""The purposes the files service documents (spec §3.1); anything else is refused before sending."""


class FileObject(BaseModel):
    """One stored file: `id`, `filename`, `bytes`, `purpose`, `created_at` (unix seconds)."""

    _repr_fields = ("id", "filename", "bytes", "purpose", "created_at")

    id: str | None = None
    object: str | None = None
    bytes: int | None = None
    created_at: int | None = None
    filename: str | None = None
    purpose: str | None = None
    expires_after: int | None = None

    @pydantic.model_validator(mode="before")
    @classmethod
    def _filename_from_file_name(cls, data: Any) -> Any:
        # The upload answer names the file `file_name` (spec §3.1); file objects say `filename`.
        if isinstance(data, dict) and data.get("filename") is None and isinstance(data.get("file_name"), str):
            data = {**data, "filename": data["file_name"]}
        return data


class FileUploadResponse(FileObject):
    """The answer to an upload: the file object plus the service's `message` and `file_name`.

    When the service's answer carries no `id` (spec §3.1), the SDK fills the file fields in from
    the files listing (see `Files.create`); `id` stays `None` only if the file could not be found.
    """

    _repr_fields = ("id", "filename", "bytes", "purpose", "message")

    message: str | None = None
    file_name: str | None = None


class FileList(DataList[FileObject]):
    """`files.list()`: iterate it, index it, or read `.data` (newest first on GravixLayer Local)."""

    object: str | None = None

    def to_pandas(self) -> pandas.DataFrame:
        """One row per file: id, filename, bytes, purpose, created_at (UTC datetime), expires_after."""
        from .._dataframes import files_frame

        return files_frame(self.data)


class FileDeleteResponse(BaseModel):
    """The answer to a delete: `message`, `file_id`, `file_name` (older servers: `id`, `filename`)."""

    message: str | None = None
    file_id: str | None = None
    file_name: str | None = None

    @pydantic.model_validator(mode="before")
    @classmethod
    def _legacy_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            if data.get("file_id") is None and isinstance(data.get("id"), str):
                data = {**data, "file_id": data["id"]}
            if data.get("file_name") is None and isinstance(data.get("filename"), str):
                data = {**data, "file_name": data["filename"]}
        return data
