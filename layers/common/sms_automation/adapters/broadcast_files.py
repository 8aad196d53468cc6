"""A broadcast's files in the broadcasts bucket: the upload streamed, the rows file written as
the Distributed Map reads it (a JSON array, one row object a line) and read back line by line."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final

from sms_automation.adapters.aws_failures import AWS_ERRORS, error_code
from sms_automation.broadcasts.rows import FileRejected

CHUNK_BYTES: Final = 64 * 1024
_MISSING: Final = frozenset({"NoSuchKey", "404", "NotFound"})


class S3BroadcastFiles:
    def __init__(self, bucket: str, client: Any) -> None:
        self._bucket = bucket
        self._client = client

    def chunks(self, key: str) -> Iterable[bytes]:
        try:
            body = self._client.get_object(Bucket=self._bucket, Key=key)["Body"]
        except AWS_ERRORS as error:
            if error_code(error) in _MISSING:
                raise FileRejected(
                    f"there is no file {key[-120:]!r} in the broadcasts bucket"
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
