"""The stream handler: decodes each input (tombstones on the compacted churn topic are meaningful, so the
loop hands over raw bytes), folds it into the views and returns the outputs of an ended contact."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cxpulse_core.dlq import Reject
from cxpulse_core.loop import Incoming, Output, Result
from cxpulse_core.serde import Serde, SerdeError

from . import metrics as m
from . import records
from .coaching import AgentFigures
from .state import InsightsState

UPDATE = "io.cxpulse.sentiment.ContactSentimentUpdate"
SUMMARY = "io.cxpulse.sentiment.ContactSummary"
UTTERANCE = "io.cxpulse.sentiment.UtteranceSentiment"
ESCALATION = "io.cxpulse.routing.Escalation"
ALERT = "io.cxpulse.routing.SupervisorAlert"
CHURN = "io.cxpulse.churn.ChurnRisk"


@dataclass(frozen=True)
class OutputTopics:
    quality: str
    agents: str
    churn: str  # the input topic whose tombstones delete an account
    enabled: bool = True


class InsightsHandler:
    def __init__(self, state: InsightsState, serde: Serde, topics: OutputTopics) -> None:
        self.state, self.serde, self.topics = state, serde, topics
        self._late: dict[str, int] = {}  # ended contact -> index of the last input of the batch that changed it

    def handle(self, batch: Sequence[Incoming]) -> list[Result]:
        self._late = {}
        results = [self._one(i, item) for i, item in enumerate(batch)]
        for cid, i in self._late.items():  # once per batch, however many late records a contact had
            outputs = results[i]
            assert isinstance(outputs, list)
            outputs.extend(self._outputs(*self.state.rescore(cid), self.state.summary_of(cid)))
        m.ACTIVE.labels(m.SERVICE).set(len(self.state.active_contacts()))
        return results

    def _one(self, i: int, item: Incoming) -> Result:
        message = item.message
        value = message.value()
        if value is None and message.topic() == self.topics.churn:
            self.state.on_churn(message.key().decode() if message.key() else "", None)
            return []
        try:
            decoded = self.serde.decode(value or b"", message.topic())
        except SerdeError as exc:
            return Reject("decode_error", str(exc), "SerdeError")
        m.INPUTS.labels(m.SERVICE, decoded.schema).inc()
        record = decoded.value
        if decoded.schema == SUMMARY:
            return self._summary(record)
        handlers = {UPDATE: self.state.on_update, UTTERANCE: self.state.on_utterance,
                    ESCALATION: self.state.on_escalation, ALERT: self.state.on_alert,
                    CHURN: lambda r: self.state.on_churn(r["account_id"], r)}
        if decoded.schema not in handlers:
            return Reject("unexpected_schema", f"{decoded.schema} is not an input of insights")
        if handlers[decoded.schema](record) is True:  # a turn or escalation of an already ended contact
            self._late[record["contact_id"]] = i
        return []

    def _summary(self, summary: dict) -> list[Output]:
        self._late.pop(summary["contact_id"], None)
        return self._outputs(*self.state.on_summary(summary), summary)

    def _outputs(self, quality: dict, figures: AgentFigures | None, summary: dict) -> list[Output]:
        m.QUALITY.labels(m.SERVICE).observe(quality["score"])
        for reason in quality["review_reasons"]:
            m.REVIEWS.labels(m.SERVICE, reason).inc()
        if not self.topics.enabled:
            return []
        outputs = [Output(self.topics.quality, summary["contact_id"], records.QUALITY, dict(quality))]
        if figures is not None:
            outputs.append(Output(self.topics.agents, figures.agent_id, records.AGENT_FIGURES,
                                  records.agent_record(figures, summary)))
        return outputs
