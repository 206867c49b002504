"""Records for the cross-language tests: the examples of schemas/examples plus generated ones that put unusual
values in every field (non-ASCII text, quotes, extreme longs, tiny and negative doubles, both branches of every
union, empty and filled arrays and maps)."""

from __future__ import annotations

import json
import random
from typing import Any

from fastavro import parse_schema

from cxpulse_core.schemas import _without_logical_types, shipped_schemas

STRINGS = ["", "plain", "naïve café — “quoted” \"double\" \\ back\\slash", "日本語のテキスト", "emoji 🙂👍", "a\nb\tc"]
LONGS = [0, 1, -1, 2**31, -(2**63), 2**63 - 1, 1764190800000]
INTS = [0, 7, -1, 2**31 - 1, -(2**31)]
DOUBLES = [0.0, -0.5, 0.1, 1e-300, 1.7976931348623157e308, 0.7100000000000001, -123456.789]


def examples(schema: str) -> list[dict[str, Any]]:
    out = []
    for path in sorted((shipped_schemas().folder / "examples").glob("*.jsonl")):
        for example in map(json.loads, path.read_text().splitlines()):
            if example["schema"] == schema:
                out.append(example["value"])
    return out


def generated(schema: str, count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    named: dict[str, Any] = {}
    parsed = parse_schema(_without_logical_types(shipped_schemas().expanded(schema)), named_schemas=named)

    def value(node: Any, depth: int) -> Any:
        if isinstance(node, str):
            if node in named:
                return value(named[node], depth)
            return {"null": lambda: None, "string": lambda: rng.choice(STRINGS), "long": lambda: rng.choice(LONGS),
                    "int": lambda: rng.choice(INTS), "double": lambda: rng.choice(DOUBLES),
                    "float": lambda: rng.choice([0.5, -2.25]), "boolean": lambda: rng.random() < 0.5,
                    "bytes": lambda: rng.randbytes(rng.randint(0, 6))}[node]()
        if isinstance(node, list):  # a union: a branch at random (seeded, so the same ones every run)
            return value(rng.choice(node), depth)
        kind = node["type"]
        if kind == "record":
            return {f["name"]: value(f["type"], depth + 1) for f in node["fields"]}
        if kind == "enum":
            return rng.choice(node["symbols"])
        if kind == "array":
            return [value(node["items"], depth + 1) for _ in range(rng.randint(0, 3))]
        if kind == "map":
            return {rng.choice(STRINGS) + str(i): value(node["values"], depth + 1) for i in range(rng.randint(0, 3))}
        return value(kind, depth)

    return [value(parsed, 0) for _ in range(count)]
