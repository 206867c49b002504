"""A faust codec over the same serde, so faust services speak the same wire format as the others.

Values are `Decoded(schema, value)` both ways; a typed record (cxpulse_core.records) may be sent as it is. A
value that cannot be decoded comes out as `Undecodable` instead of raising: faust would otherwise log and skip it,
and a bad record must reach the dead-letter topic."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from faust.serializers.codecs import Codec

from .records import Record
from .serde import Decoded, Serde, SerdeError, make_serde


@dataclass(frozen=True)
class Undecodable:
    data: bytes
    error: str


class AvroCodec(Codec):
    def __init__(self, topic: str, serde: Serde | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.topic = topic
        self.serde = serde or make_serde()

    def _dumps(self, obj: Any) -> bytes:
        if isinstance(obj, Record):
            return self.serde.encode(obj.SCHEMA, obj.to_dict(), self.topic)
        if not isinstance(obj, Decoded):
            raise TypeError(f"AvroCodec({self.topic}) writes Decoded(schema, value), got {type(obj).__name__}")
        return self.serde.encode(obj.schema, obj.value, self.topic)

    def _loads(self, s: bytes) -> Decoded | Undecodable:
        try:
            return self.serde.decode(s, self.topic)
        except SerdeError as exc:
            return Undecodable(s, str(exc))
