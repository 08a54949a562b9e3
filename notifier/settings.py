"""Configuration from the environment (CONTRACTS §2), read once by the entry point and
passed down; nothing else reads the environment."""

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFIER_", extra="ignore")

    # The contract (CONTRACTS §2).
    database_url: str = "sqlite:///./var/notifier.db"
    amqp_url: str = "amqp://guest:guest@localhost:5672/"
    smtp_url: str | None = None
    mail_from: str = "no-reply@statlig-ersattning.invalid"
    base_url: str = "http://localhost:8000"
    admin_token: SecretStr | None = None

    # Our own additions.
    mail_dir: Path = Field(Path("./var/mail"), description="where .eml files go without SMTP")
    secret_key: SecretStr | None = Field(
        None,
        description="signs unsubscribe links and staff sessions; unset: a random key kept "
        "in ./var/secret_key, fine for one node",
    )
    log_level: str = "INFO"

    @property
    def var_dir(self) -> Path:
        return self.mail_dir.parent
