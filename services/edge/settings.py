"""The edge's own settings (environment, prefix OPSUITE_); where it listens is OPSUITE_EDGE_ADDR, in
the settings every service reads (services/common/settings.py)."""

from __future__ import annotations

import re

from pydantic import Field, SecretStr, field_validator

from services.common.settings import Settings

# RFC 6750's b64token: what an Authorization: Bearer header can carry as it is.
_BEARER_TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
MIN_TOKEN_CHARS = 16


class EdgeSettings(Settings):
    edge_deadline_s: float = Field(
        default=30.0,
        gt=0,
        description="seconds, a number above 0: the deadline of a call whose request gives none"
        " (grpc-timeout or X-Request-Timeout)",
    )
    edge_max_body_bytes: int = Field(
        default=16 * 1024 * 1024,
        ge=1024,
        description="bytes, a whole number of 1024 or more: a larger request body is refused (413)",
    )
    # Set: every request but GET and HEAD must carry `Authorization: Bearer <token>` (services/edge/
    # auth.py). A secret: SecretStr keeps it out of reprs, and a refusal of it never echoes it.
    api_token: SecretStr | None = Field(
        default=None,
        description=f"a secret of {MIN_TOKEN_CHARS} or more characters from A-Z, a-z, 0-9 and - . _ ~ + / "
        "(for example `openssl rand -hex 32`), or nothing to leave the edge's writes open",
    )

    @field_validator("api_token", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value else value

    @field_validator("api_token")
    @classmethod
    def _token_fits_a_header(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            token = value.get_secret_value()
            if len(token) < MIN_TOKEN_CHARS or not _BEARER_TOKEN.fullmatch(token):
                raise ValueError("not a usable bearer token")
        return value
