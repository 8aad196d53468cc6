"""The webhook's configuration: read from the environment once, on first use, and checked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_MAX_BODY_BYTES = 65_536


class ConfigurationError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    table_name: str
    secrets_prefix: str
    public_base_url: str  # empty: derive the signed URL from the request
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> WebhookSettings:
        missing = [name for name in ("TABLE_NAME", "SECRETS_PREFIX") if not environ.get(name)]
        if missing:
            raise ConfigurationError(f"missing environment variables: {', '.join(missing)}")
        raw_limit = environ.get("MAX_BODY_BYTES") or str(DEFAULT_MAX_BODY_BYTES)
        if not raw_limit.isdigit() or int(raw_limit) <= 0:
            raise ConfigurationError("MAX_BODY_BYTES must be a positive whole number of bytes")
        public_base_url = environ.get("PUBLIC_BASE_URL", "").strip()
        if public_base_url and not public_base_url.startswith(("https://", "http://")):
            raise ConfigurationError("PUBLIC_BASE_URL must start with https:// (or http://)")
        return cls(
            table_name=environ["TABLE_NAME"],
            secrets_prefix=environ["SECRETS_PREFIX"],
            public_base_url=public_base_url.rstrip("/"),
            max_body_bytes=int(raw_limit),
        )
