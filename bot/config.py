"""The one settings object: read from the environment and an optional `.env` file."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SLACK_SETUP_HINT = "See README.md, section 'Create the Slack app', for where to find it."
SLACK_DEFAULT_API_URL = "https://slack.com/api/"


class MissingSetting(RuntimeError):
    """A setting the chosen command cannot run without."""

    def __init__(self, variable: str) -> None:
        super().__init__(f"{variable} is not set. {SLACK_SETUP_HINT}")
        self.variable = variable


class ConflictingSettings(RuntimeError):
    """Settings of the two modes at once: which one was meant cannot be told."""


class Settings(BaseSettings):
    """Rapport's configuration; secrets stay out of reprs and logs (SecretStr)."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    # Distributed mode: Rapport is installed through Slack's OAuth flow ("Add to Slack")
    # into any number of workspaces, and each one's bot token is kept in the database.
    # Setting either of the first two chooses it; single workspace is the default.
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    # Optional: when set, the state of each install is signed with it as well as kept
    # in the database, so a forged state is refused before the database is asked.
    slack_state_secret: SecretStr | None = None
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
    # Days a workspace's data is kept after Rapport is uninstalled from it (a reinstall
    # within them finds everything as it was); 0 deletes it at the next sweep.
    uninstall_retention_days: int = Field(
        default=30,
        ge=0,
        validation_alias=AliasChoices(
            "rapport_uninstall_retention_days", "uninstall_retention_days"
        ),
    )

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

    @property
    def distributed(self) -> bool:
        """Installed into many workspaces through OAuth, not given one bot token."""
        return bool(self.slack_client_id or self.slack_client_secret)

    def require_mode(self) -> None:
        """Every variable the chosen mode needs to serve Slack over HTTP, or
        MissingSetting naming the first one missing (ConflictingSettings if both modes
        are set up: a bot token next to OAuth would be one team's token for all)."""
        if self.distributed and self.slack_bot_token is not None:
            raise ConflictingSettings(
                "SLACK_BOT_TOKEN is set next to SLACK_CLIENT_ID/SLACK_CLIENT_SECRET: with "
                "OAuth each workspace's token comes from its installation. Unset "
                "SLACK_BOT_TOKEN to install into many workspaces, or the other two to serve "
                f"one. {SLACK_SETUP_HINT}"
            )
        if self.distributed:
            if not self.slack_client_id:
                raise MissingSetting("SLACK_CLIENT_ID")
            self.require("slack_client_secret")
        else:
            self.require("slack_bot_token")
        self.require("slack_signing_secret")

    def require(self, name: str) -> str:
        """The value of a secret setting, or MissingSetting naming its variable."""
        value: SecretStr | None = getattr(self, name)
        if value is None or not value.get_secret_value():
            raise MissingSetting(name.upper())
        return value.get_secret_value()
