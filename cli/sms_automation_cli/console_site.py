"""The web console's files (``console/``) published to the stack's bucket, with ``config.json``.

``make deploy`` (tools/deploy.py) and ``make run`` (the local stack) both call ``publish``: the
page reads its API URL and Cognito pool from ``config.json`` at load time, written here from the
stack's outputs, so the same files serve every deployment (docs/console.md).

Only served file types are uploaded (HTML, JS, CSS, JSON, SVG, ICO); anything else in the
folder is refused, so a stray file is never published. Every object gets ``Cache-Control:
no-cache`` (CloudFront and browsers revalidate by ETag: a deploy shows at the next load), and
objects of an earlier deploy that the folder no longer holds are deleted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

CONFIG_KEY: Final = "config.json"
CACHE_CONTROL: Final = "no-cache"
DEFAULT_POLL_SECONDS: Final = 15
CONTENT_TYPES: Final = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
}
CONSOLE_OUTPUTS: Final = ("ConsoleApiUrl", "UserPoolId", "UserPoolClientId", "ConsoleBucketName")
API_PREFIX: Final = "/console/api"


class ConsoleNotPublishable(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class ConsoleConfig:
    """What ``console/js/config.js`` reads (camelCase keys, as the page expects)."""

    api_url: str
    region: str
    user_pool_id: str
    user_pool_client_id: str
    cognito_endpoint: str | None = None
    """``None`` on AWS (the page uses ``https://cognito-idp.{region}.amazonaws.com/``)."""
    poll_seconds: int = DEFAULT_POLL_SECONDS

    def to_json(self) -> bytes:
        document: dict[str, Any] = {
            "apiUrl": self.api_url,
            "region": self.region,
            "userPoolId": self.user_pool_id,
            "userPoolClientId": self.user_pool_client_id,
            "pollSeconds": self.poll_seconds,
        }
        if self.cognito_endpoint is not None:
            document["cognitoEndpoint"] = self.cognito_endpoint
        return json.dumps(document, indent=2).encode() + b"\n"


def api_base_url(console_api_url: str) -> str:
    """The API's base URL (the page adds ``/console/api/...``), with or without that prefix."""
    url = console_api_url.rstrip("/")
    return url.removesuffix(API_PREFIX)


def config_from_outputs(
    outputs: Mapping[str, str], region: str, *, api_url: str | None = None
) -> ConsoleConfig:
    """The config of a deployed stack; ``api_url`` overrides ``ConsoleApiUrl`` (the emulator)."""
    missing = [name for name in CONSOLE_OUTPUTS if not outputs.get(name)]
    if missing:
        raise ConsoleNotPublishable(f"the stack has no output {', '.join(missing)}")
    return ConsoleConfig(
        api_url=api_base_url(api_url or outputs["ConsoleApiUrl"]),
        region=region,
        user_pool_id=outputs["UserPoolId"],
        user_pool_client_id=outputs["UserPoolClientId"],
    )


def console_files(directory: Path) -> dict[str, Path]:
    """Object key -> file, for every file under ``directory`` (refused: unserved types)."""
    if not (directory / "index.html").is_file():
        raise ConsoleNotPublishable(f"{directory} has no index.html")
    files: dict[str, Path] = {}
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        key = path.relative_to(directory).as_posix()
        if path.suffix not in CONTENT_TYPES or key == CONFIG_KEY:
            raise ConsoleNotPublishable(f"{key}: not a file the console serves")
        files[key] = path
    return files


def publish(s3: Any, bucket: str, config: ConsoleConfig, directory: Path) -> list[str]:
    """Upload the files and ``config.json``; delete what an earlier deploy left. The keys."""
    files = console_files(directory)
    for key, path in files.items():
        _put(s3, bucket, key, path.read_bytes())
    _put(s3, bucket, CONFIG_KEY, config.to_json())
    published = [*files, CONFIG_KEY]
    stale = [key for key in _keys(s3, bucket) if key not in published]
    for start in range(0, len(stale), 1000):
        s3.delete_objects(
            Bucket=bucket,
            Delete={
                "Objects": [{"Key": key} for key in stale[start : start + 1000]],
                "Quiet": True,
            },
        )
    return published


def _put(s3: Any, bucket: str, key: str, body: bytes) -> None:
    s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=body,
        ContentType=CONTENT_TYPES[Path(key).suffix],
        CacheControl=CACHE_CONTROL,
    )


def _keys(s3: Any, bucket: str) -> list[str]:
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys += [item["Key"] for item in page.get("Contents", [])]
    return keys
