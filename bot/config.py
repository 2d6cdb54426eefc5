"""The one settings object: read from the environment and an optional `.env` file."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SLACK_SETUP_HINT = "See README.md, section 'Create the Slack app', for where to find it."
SLACK_DEFAULT_API_URL = "https://slack.com/api/"


class MissingSetting(RuntimeError):
    """A setting the chosen command cannot run without."""

    def __init__(self, variable: str) -> None:
        super().__init__(f"{variable} is not set. {SLACK_SETUP_HINT}")
        self.variable = variable


class Settings(BaseSettings):
    """Rapport's configuration; secrets stay out of reprs and logs (SecretStr)."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = SLACK_DEFAULT_API_URL
    database_url: str = Field(
        default_factory=lambda: f"sqlite:///{Path.cwd() / 'rapport.db'}",
    )
    default_timezone: str = "UTC"
    # Public holidays of this country (ISO code, e.g. "US", "GB", "DE") hold nudges
    # back like weekends do; team-specific days off are added with /rapport holidays.
    holiday_country: str | None = None
    # How many times the Web API client retries a 429 (after Retry-After) or a 5xx.
    slack_max_retries: int = 3
    log_level: str = "INFO"
    # A team's own coaching library (YAML, same shape as messages/library/playbook.yaml),
    # merged over the built-in one by key; checked here so a bad file stops startup.
    playbook_file: Path | None = None

    @field_validator("playbook_file")
    @classmethod
    def _valid_playbook(cls, value: Path | None) -> Path | None:
        from messages.playbook import load_playbook

        load_playbook(value)  # raises PlaybookError (a ValueError) naming file and entry
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url_ends_with_slash(cls, value: str) -> str:
        # slack_sdk joins base_url and method name by plain concatenation.
        return value if value.endswith("/") else value + "/"

    @field_validator("default_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}; use an IANA name") from exc
        return value

    @field_validator("holiday_country")
    @classmethod
    def _known_country(cls, value: str | None) -> str | None:
        if not value:
            return None
        import holidays

        code = value.strip().upper()
        if code not in holidays.list_supported_countries():
            raise ValueError(f"unknown holiday country {value!r}; use an ISO code like US")
        return code

    @property
    def default_tz(self) -> ZoneInfo:
        return ZoneInfo(self.default_timezone)

    def require(self, name: str) -> str:
        """The value of a secret setting, or MissingSetting naming its variable."""
        value: SecretStr | None = getattr(self, name)
        if value is None or not value.get_secret_value():
            raise MissingSetting(name.upper())
        return value.get_secret_value()
