"""`cxpulse schemas`: the deploy step of a registry-backed installation.

  cxpulse schemas subjects   print every subject the topic table implies, with its record
  cxpulse schemas asyncapi   print the AsyncAPI 3 document of every topic (schemas/asyncapi.yaml is its output)
  cxpulse schemas register   set each subject's compatibility level, then register schemas/ (the registry refuses
                             an incompatible schema, and so does this command: exit 1)
  cxpulse schemas check      ask the registry whether schemas/ is compatible with what it holds, at the subject's
                             level, which must be --level (BACKWARD by default); exit 1 on any breaking change
  cxpulse schemas gen-records  regenerate cxpulse_core/records.py (typed records) from schemas/; with --check, exit 1
                             if it is out of date instead

The registry comes from SCHEMA_REGISTRY_* (URL, TLS, auth), the topic prefix from CXPULSE_TOPIC_PREFIX, the schemas
from CXPULSE_SCHEMA_DIR or the checkout's schemas/."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .registry import Subject, avro_schema, is_not_found, registry_client, subjects
from .schemas import shipped_schemas
from .settings import RuntimeSettings, SchemaRegistrySettings

LEVELS = ["BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE", "NONE"]


def _compatibility(client: Any, subject: str) -> str | None:
    try:
        return client.get_compatibility(subject)
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise


def register(client: Any, subject: Subject, level: str) -> str:
    schemas = shipped_schemas()
    try:  # the level first, so that this very registration is checked against the subject's history
        client.set_compatibility(subject.name, level)
        existed = True
    except Exception as exc:
        if not is_not_found(exc):  # a registry that knows no config for a subject it has never seen
            raise
        existed = False
    schema_id = client.register_schema(subject.name, avro_schema(subject.schema_str(schemas)))
    if not existed:
        client.set_compatibility(subject.name, level)
    return f"registered {subject.name} ({subject.record}) id={schema_id} compatibility={level}"


def check(client: Any, subject: Subject, level: str) -> tuple[bool, str]:
    schemas = shipped_schemas()
    try:
        latest = client.get_latest_version(subject.name)
    except Exception as exc:
        if is_not_found(exc):
            return True, f"new      {subject.name}: not registered yet, nothing to be compatible with"
        raise
    configured = _compatibility(client, subject.name)
    if configured != level:
        return False, (f"UNCHECKED {subject.name}: the registry enforces {configured or 'nothing'} on it, not {level} "
                       "(`cxpulse schemas register` sets the level)")
    if client.test_compatibility(subject.name, avro_schema(subject.schema_str(schemas)), verbose=True):
        return True, f"ok       {subject.name}: {subject.record} is {level} compatible with version {latest.version}"
    return False, f"BREAKING {subject.name}: {subject.record} is not {level} compatible with version {latest.version}"


def main(argv: list[str]) -> int:
    if argv[:1] == ["gen-records"]:
        from .records_gen import main as gen_records

        return gen_records(argv[1:])
    parser = argparse.ArgumentParser(prog="cxpulse schemas", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["subjects", "asyncapi", "register", "check", "gen-records"])
    parser.add_argument("--level", choices=LEVELS, default=None,
                        help="compatibility level (default: SCHEMA_REGISTRY_COMPATIBILITY, else BACKWARD)")
    args = parser.parse_args(argv)
    settings = SchemaRegistrySettings()
    level = args.level or settings.compatibility
    wanted = subjects(RuntimeSettings().topic_prefix)
    if args.action == "asyncapi":
        from .asyncapi import render

        sys.stdout.write(render())
        return 0
    if args.action == "subjects":
        for subject in wanted:
            print(f"{subject.name}\t{subject.record}")
        return 0
    if not settings.url:
        print("cxpulse schemas: set SCHEMA_REGISTRY_URL", file=sys.stderr)
        return 2
    client = registry_client(settings.client_config())
    failed = 0
    for subject in wanted:
        try:
            if args.action == "register":
                print(register(client, subject, level))
            else:
                ok, line = check(client, subject, level)
                print(line)
                failed += not ok
        except Exception as exc:  # noqa: BLE001 - one line per subject, then the exit code says it failed
            print(f"FAILED   {subject.name}: {exc}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0
