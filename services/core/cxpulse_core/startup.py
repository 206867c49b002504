"""Start-up errors as one clear line: a bad setting names its environment variable and the service exits 2
(a configuration error, not a crash: restarting will not help), instead of a 30-line traceback."""

from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from confluent_kafka import KafkaError, KafkaException
from pydantic import ValidationError
from pydantic_settings import BaseSettings

EXIT_CONFIG = 2
_SECRET_WORDS = ("password", "secret", "key", "token", "user_info", "users")
F = TypeVar("F", bound=Callable[..., int])


def _settings_classes() -> dict[str, type[BaseSettings]]:
    found: dict[str, type[BaseSettings]] = {}
    pending: list[type[BaseSettings]] = [BaseSettings]
    while pending:
        cls = pending.pop()
        for sub in cls.__subclasses__():
            found.setdefault(sub.__name__, sub)
            pending.append(sub)
    return found


def describe(error: ValidationError) -> str:
    """'CXPULSE_DLQ_MIN_MESSAGES=-5: Input should be greater than or equal to 1; ...' (secrets not echoed)."""
    cls = _settings_classes().get(error.title)
    prefix = str(cls.model_config.get("env_prefix", "")) if cls is not None else ""
    parts = []
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else ""
        name = (prefix + field).upper() if field else error.title
        shown = "<hidden>" if any(word in field for word in _SECRET_WORDS) else repr(item.get("input"))
        parts.append(f"{name}={shown}: {item['msg']}")
    return "; ".join(parts)


def config_error_line(service: str, exc: BaseException) -> str | None:
    """The one-line message for a configuration error, or None when `exc` is not one."""
    if isinstance(exc, ValidationError):
        return f"cxpulse {service}: invalid setting {describe(exc)}"
    if isinstance(exc, KafkaException) and exc.args and isinstance(exc.args[0], KafkaError) \
            and exc.args[0].code() in (KafkaError._INVALID_ARG, KafkaError.INVALID_CONFIG):
        return (f"cxpulse {service}: invalid Kafka client setting ({exc.args[0].str()}); "
                "see the KAFKA_* environment variables")
    if isinstance(exc, ValueError) and str(exc)[:1].isupper() and "_" in str(exc).split(":", 1)[0]:
        return f"cxpulse {service}: invalid setting {exc}"  # our own checks say "ENV_NAME: what is wrong"
    return None


def _default(field: Any, name: str) -> str:
    if any(word in name for word in _SECRET_WORDS):
        return "<hidden>"
    return "(required)" if field.is_required() else repr(field.get_default(call_default_factory=True))


def _settings_of(module_name: str) -> list[type[BaseSettings]]:
    """The settings classes defined in `module_name` (none when there is no such module)."""
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError:
        return []
    return [c for c in vars(module).values()
            if isinstance(c, type) and issubclass(c, BaseSettings) and c.__module__ == module_name]


def service_help(service: str, package: str, doc: str | None) -> str:
    """`cxpulse run SERVICE --help`: what the service is and the environment variables it reads (core's settings
    and those of `<package>.settings`); a service is configured by its environment, not by options."""
    lines = [f"usage: cxpulse run {service}   (or: python -m {package})", ""]
    if doc:
        lines += [doc.strip(), ""]
    lines.append("settings (environment variables, default):")
    for cls in _settings_of(f"{package}.settings") + _settings_of("cxpulse_core.settings"):
        prefix = str(cls.model_config.get("env_prefix", ""))
        lines.append(f"  {cls.__name__}:")
        lines += [f"    {(prefix + name).upper():<40} {_default(field, name)}"
                  for name, field in cls.model_fields.items()]
    return "\n".join(lines)


def _asks_for_help(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    argv = kwargs.get("argv", args[0] if args else None)
    argv = sys.argv[1:] if argv is None else argv
    return any(a in ("-h", "--help") for a in argv)


def exit_on_bad_settings(service: str) -> Callable[[F], F]:
    """Decorates a service's main(): a configuration error prints one line to stderr and returns exit code 2;
    `-h`/`--help` prints the service's help (`service_help`) and returns 0 without starting anything."""

    def wrap(main: F) -> F:
        @functools.wraps(main)
        def guarded(*args: Any, **kwargs: Any) -> int:
            if _asks_for_help(args, kwargs):
                module = sys.modules[main.__module__]
                package = (module.__spec__.name if module.__spec__ else module.__name__).split(".")[0]  # -m: "__main__"
                print(service_help(service, package, module.__doc__))
                return 0
            try:
                return main(*args, **kwargs)
            except (ValidationError, KafkaException, ValueError) as exc:
                line = config_error_line(service, exc)
                if line is None:
                    raise
                print(line, file=sys.stderr)
                return EXIT_CONFIG
        return guarded  # type: ignore[return-value]

    return wrap
