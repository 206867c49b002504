"""The Avro contracts shipped in `schemas/`: every record schema, by full name and by fingerprint."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from fastavro import parse_schema
from fastavro.schema import fingerprint, to_parsing_canonical_form


def schema_dir() -> Path:
    """`CXPULSE_SCHEMA_DIR`, else the `schemas/` folder of the checkout this package runs from."""
    if env := os.environ.get("CXPULSE_SCHEMA_DIR"):
        return Path(env)
    for parent in Path(__file__).resolve().parents:
        if (parent / "schemas" / "topics.yaml").is_file():
            return parent / "schemas"
    raise FileNotFoundError("no schemas/ folder found: set CXPULSE_SCHEMA_DIR")


def _without_logical_types(node: Any) -> Any:
    """Timestamps stay epoch-millisecond ints in Python; logicalType only documents them (and is not
    part of the parsing canonical form, so fingerprints are unchanged)."""
    if isinstance(node, dict):
        return {k: _without_logical_types(v) for k, v in node.items() if k != "logicalType"}
    if isinstance(node, list):
        return [_without_logical_types(v) for v in node]
    return node


@dataclass(frozen=True)
class RecordSchema:
    name: str  # full name, e.g. io.cxpulse.interaction.Utterance
    source: dict[str, Any]  # the .avsc as written, docs included
    parsed: Any  # fastavro's parsed form, logical types removed
    fingerprint: bytes  # CRC-64-AVRO of the parsing canonical form, little-endian (single-object encoding)

    @property
    def canonical(self) -> str:
        return to_parsing_canonical_form(parse_schema(self.source, _write_hint=False))


class SchemaSet:
    """All record schemas of a folder; named types may refer to types defined in other files."""

    def __init__(self, folder: Path) -> None:
        pending = {path: json.loads(path.read_text()) for path in sorted(folder.rglob("*.avsc"))}
        named: dict[str, Any] = {}
        self.by_name: dict[str, RecordSchema] = {}
        # Files refer to each other by name; parse in passes until every reference resolves.
        while pending:
            progress = False
            for path, source in list(pending.items()):
                try:
                    parsed = parse_schema(_without_logical_types(source), named_schemas=named)
                except Exception:  # noqa: BLE001 - an unresolved name; retried in the next pass
                    continue
                full = parsed["name"] if isinstance(parsed, dict) else str(parsed)
                canonical = to_parsing_canonical_form(parsed)
                fp = bytes.fromhex(fingerprint(canonical, "CRC-64-AVRO"))
                self.by_name[full] = RecordSchema(full, source, parsed, fp)
                del pending[path]
                progress = True
            if not progress:
                names = ", ".join(str(p) for p in pending)
                raise ValueError(f"schemas with unresolved or invalid types: {names}")
        self.by_fingerprint = {s.fingerprint: s for s in self.by_name.values()}

    def expanded(self, name: str) -> dict[str, Any]:
        """The schema with every named type it refers to written out inline (the first time it appears),
        docs and defaults kept: a standalone schema for a registry or a data file."""
        defined: set[str] = set()

        def expand(node: Any, namespace: str) -> Any:
            if isinstance(node, str):
                full = node if "." in node else f"{namespace}.{node}"
                if full in self.by_name and full not in defined:
                    return expand(self.by_name[full].source, namespace)
                return node
            if isinstance(node, list):
                return [expand(item, namespace) for item in node]
            if isinstance(node, dict):
                if "name" in node and node.get("type") in ("record", "enum", "fixed"):
                    namespace = node.get("namespace", namespace)
                    defined.add(f"{namespace}.{node['name']}")
                return {k: expand(v, namespace) if k in ("type", "items", "values", "fields") else v
                        for k, v in node.items()}
            return node

        return expand(self[name].source, "")

    def __getitem__(self, name: str) -> RecordSchema:
        try:
            return self.by_name[name]
        except KeyError:
            raise KeyError(f"unknown schema {name!r}") from None

    def __iter__(self) -> Iterator[RecordSchema]:
        return iter(self.by_name.values())


@cache
def shipped_schemas() -> SchemaSet:
    return SchemaSet(schema_dir())
