"""Settings loading shared by every deployable.

Precedence: environment (`ALTAVIZ_<APP>_*`, nested keys joined by `__`) over the
YAML file over the class defaults. Any problem becomes one `ConfigError` line
naming the file, the key and what is wrong.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from pathlib import Path
from typing import Any, ClassVar, Self

import yaml
from pydantic import ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from shared.errors import ConfigError

_yaml_data: ContextVar[dict[str, Any] | None] = ContextVar("altaviz_yaml_data", default=None)

#: Secrets that ship in examples and must never run outside development.
PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "secret", "password", "dev"})


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path}{where}: invalid YAML: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping of keys, not {type(data).__name__}")
    return data


def settings_config(app_name: str) -> SettingsConfigDict:
    return SettingsConfigDict(
        env_prefix=f"ALTAVIZ_{app_name.upper()}_", env_nested_delimiter="__", extra="forbid"
    )


class _YamlSource(PydanticBaseSettingsSource):
    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        data = _yaml_data.get() or {}
        return data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(_yaml_data.get() or {})


class AltavizSettings(BaseSettings):
    """Base for one settings class per deployable (edge, hub).

    Subclasses set `app_name` and `model_config = settings_config("edge")`.
    """

    model_config = SettingsConfigDict(env_nested_delimiter="__", extra="forbid")

    #: Name of the app in env vars: ALTAVIZ_<APP>_... and in messages.
    app_name: ClassVar[str] = "app"
    #: Where to look for the YAML file when none is given.
    default_config_path: ClassVar[Path] = Path("config/app.yaml")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _YamlSource(settings_cls))

    @classmethod
    def env_prefix(cls) -> str:
        return f"ALTAVIZ_{cls.app_name.upper()}_"

    @classmethod
    def load(cls, path: str | Path | None = None, **overrides: Any) -> Self:
        """Load from `path` (or the default file if present), the environment and overrides."""
        config_path = cls._resolve_path(path)
        data = read_yaml(config_path) if config_path is not None else {}
        token = _yaml_data.set(data)
        try:
            return cls(**overrides)
        except ValidationError as exc:
            raise ConfigError(_describe(exc, config_path, cls.env_prefix())) from None
        finally:
            _yaml_data.reset(token)

    @classmethod
    def _resolve_path(cls, path: str | Path | None) -> Path | None:
        if path is not None:
            return Path(path)
        from_env = os.environ.get(f"{cls.env_prefix()}CONFIG")
        if from_env:
            return Path(from_env)
        return cls.default_config_path if cls.default_config_path.exists() else None


def _describe(exc: ValidationError, path: Path | None, env_prefix: str) -> str:
    first = exc.errors()[0]
    loc = [str(p) for p in first["loc"]]
    key = ".".join(loc) or "(top level)"
    # The environment wins over the file, so name the variable when one is set.
    env_names = [env_prefix + "__".join(p.upper() for p in loc[:n]) for n in range(len(loc), 0, -1)]
    env_set = next((name for name in env_names if name in os.environ), None)
    if env_set is not None:
        source = f"environment {env_set}"
    elif path is not None:
        source = str(path)
    else:
        source = "settings"
    message = first["msg"]
    if "input" in first and first["type"] not in ("missing", "extra_forbidden"):
        message += f" (got {first['input']!r})"
    more = f" (and {exc.error_count() - 1} more problem(s))" if exc.error_count() > 1 else ""
    return f"{source}: {key}: {message}{more}"


def refuse_placeholder_secret(name: str, value: str, *, development: bool) -> None:
    """Raise unless the secret is real, or we are in development mode."""
    if not development and value.strip().lower() in PLACEHOLDER_SECRETS:
        raise ConfigError(
            f"{name} is a placeholder secret; set a real value (outside development mode)"
        )
