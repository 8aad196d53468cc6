"""A broadcast's files in the broadcasts bucket: the upload identified at the start (ETag,
version) and streamed as exactly that object, the rows file written as
the Distributed Map reads it (a JSON array, one row object a line) and read back line by line."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final

from sms_automation.adapters.aws_failures import AWS_ERRORS, error_code
from sms_automation.broadcasts.rows import FileRejected
from sms_automation.broadcasts.service import FileIdentity

CHUNK_BYTES: Final = 64 * 1024
_MISSING: Final = frozenset({"NoSuchKey", "NoSuchVersion", "404", "NotFound"})
_REPLACED: Final = frozenset({"PreconditionFailed", "412"})


class S3BroadcastFiles:
    def __init__(self, bucket: str, client: Any) -> None:
        self._bucket = bucket
        self._client = client

    def identify(self, key: str) -> FileIdentity:
        # From the version listing (s3:ListBucketVersions): names, ETags and versions, never the
        # contacts in a file. A key's latest version is listed first, before any longer key.
        listed = self._client.list_object_versions(Bucket=self._bucket, Prefix=key, MaxKeys=1)
        for found in listed.get("Versions", []):
            if found.get("Key") == key and found.get("IsLatest"):
                version = str(found.get("VersionId") or "")
                # "null": a bucket that keeps no versions; the ETag alone pins the file.
                return FileIdentity(str(found["ETag"]), "" if version == "null" else version)
        raise _missing(key)

    def chunks(self, key: str, identity: FileIdentity) -> Iterable[bytes]:
        # The version when the bucket keeps them; else the ETag, checked by S3 (412 if replaced).
        pinned = {"VersionId": identity.version} if identity.version else {}
        if not pinned and identity.etag:
            pinned = {"IfMatch": identity.etag}
        try:
            body = self._client.get_object(Bucket=self._bucket, Key=key, **pinned)["Body"]
        except AWS_ERRORS as error:
            if error_code(error) in _MISSING:
                raise _missing(key) from None
            if error_code(error) in _REPLACED:
                raise FileRejected(
                    f"the file {key[-120:]!r} was replaced after the broadcast started"
                ) from None
            raise
        try:
            yield from body.iter_chunks(CHUNK_BYTES)
        finally:
            body.close()

    def write_rows(self, key: str, rows: Iterable[Mapping[str, Any]]) -> None:
        # Spooled: a large broadcast's rows go to /tmp, not to memory.
        with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool:
            spool.write(b"[\n")
            for count, row in enumerate(rows):
                spool.write((b",\n" if count else b"") + json.dumps(row).encode())
            spool.write(b"\n]\n")
            spool.seek(0)
            self._client.put_object(
                Bucket=self._bucket, Key=key, Body=spool, ContentType="application/json"
            )

    def read_rows(self, key: str) -> Iterator[dict[str, Any]]:
        body = self._client.get_object(Bucket=self._bucket, Key=key)["Body"]
        try:
            for line in body.iter_lines():
                text = line.strip().rstrip(b",")
                if text.startswith(b"{"):
                    yield json.loads(text)
        finally:
            body.close()


def upload_exists(client: Any, bucket: str, key: str) -> bool:
    """Whether the bucket holds ``key``, from a listing of that prefix (``s3:ListBucket``): the
    caller learns that the file exists without being allowed to read its contacts."""
    listed = client.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1)
    return any(item.get("Key") == key for item in listed.get("Contents", []))


def _missing(key: str) -> FileRejected:
    return FileRejected(f"there is no file {key[-120:]!r} in the broadcasts bucket")
