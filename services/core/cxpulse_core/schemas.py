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


# Readers accept the 0.1.0 fingerprints up to and including the 0.3 releases; dropping them is a breaking change
# announced in the release notes before. The longest-lived 0.1.0 data is on compacted topics (cx.churn.risk,
# cx.insights.*), where a key's record stays until that key is written again, so a release that drops them has to
# say how to rewrite such keys first.
LEGACY_FINGERPRINTS_UNTIL = "0.3"
# Earlier versions of records that changed (additively, with defaults), as `<full name>.vN.avsc.json` (not .avsc:
# tools that load every .avsc of the folder, Apache Avro's parser among them, would see one name defined twice).
# Single-object encoding carries only the writer's fingerprint, so a reader needs the writer's schema to read
# records written before the change; with a registry the registry has them.
HISTORY = "history"


def _fingerprint(canonical: str) -> bytes:
    return bytes.fromhex(fingerprint(canonical, "CRC-64-AVRO"))


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
    fingerprint: bytes  # CRC-64-AVRO of the spec's canonical form, little-endian (single-object encoding)
    canonical: str  # the spec's Parsing Canonical Form of the fully expanded schema
    # What cxpulse 0.1.0 wrote: the canonical form with named types from other files left as bare names, a
    # fingerprint no other Avro library computes. Still read (never written) so records already on topics stay
    # readable; see LEGACY_FINGERPRINTS_UNTIL.
    legacy_fingerprint: bytes


class SchemaSet:
    """All record schemas of a folder; named types may refer to types defined in other files."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
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
                self.by_name[full] = self._record(full, source, parsed)
                del pending[path]
                progress = True
            if not progress:
                names = ", ".join(str(p) for p in pending)
                raise ValueError(f"schemas with unresolved or invalid types: {names}")
        # Earlier versions of changed records (history/), as writers only: their records are still on topics.
        self.history = [self._previous(path) for path in sorted((folder / HISTORY).glob("*.avsc.json"))]
        # The standard fingerprints first, so that a clash with a legacy one (none today) cannot shadow them.
        self.by_fingerprint = {s.legacy_fingerprint: s for s in [*self.history, *self.by_name.values()]}
        self.by_fingerprint |= {s.fingerprint: s for s in [*self.history, *self.by_name.values()]}

    def _record(self, full: str, source: dict[str, Any], parsed: Any) -> RecordSchema:
        """Fingerprints as the Avro spec defines them: of the canonical form of the schema with every named type
        written out where first used (what Java's SchemaNormalization.parsingFingerprint64 returns), not of
        fastavro's form, which leaves types of other files as bare names."""
        self.by_name[full] = RecordSchema(full, source, parsed, b"", "", b"")  # expanded() looks it up
        standalone = parse_schema(_without_logical_types(self.expanded(full)), named_schemas={})
        canonical = to_parsing_canonical_form(standalone)
        legacy = _fingerprint(to_parsing_canonical_form(parsed))
        return RecordSchema(full, source, parsed, _fingerprint(canonical), canonical, legacy)

    def _previous(self, path: Path) -> RecordSchema:
        """An earlier version of a record (same full name), parsed against today's other named types. A reader
        finds it by its fingerprint and resolves it to today's version (new fields take their defaults)."""
        source = json.loads(path.read_text())
        full = f"{source.get('namespace', '')}.{source['name']}".lstrip(".")
        named = {n: s.parsed for n, s in self.by_name.items() if n != full}
        parsed = parse_schema(_without_logical_types(source), named_schemas=named)
        current = self.by_name.get(full)
        if current is None:
            raise ValueError(f"{path}: an earlier version of {full}, which is not in {self.folder}")
        try:
            self.by_name[full] = RecordSchema(full, source, parsed, b"", "", b"")
            return self._record(full, source, parsed)
        finally:
            self.by_name[full] = current

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
