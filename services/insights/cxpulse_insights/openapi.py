"""The OpenAPI 3.1 description of the insights HTTP API, served at /openapi.json."""

from __future__ import annotations

from typing import Any

NUM = {"type": "number"}
INT = {"type": "integer"}
STR = {"type": "string"}
BOOL = {"type": "boolean"}
TIME = {"type": "integer", "description": "epoch milliseconds (UTC)"}


def opt(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def obj(**props: Any) -> dict[str, Any]:
    return {"type": "object", "properties": props}


def listing(ref: str) -> dict[str, Any]:
    return {"type": "array", "items": {"$ref": f"#/components/schemas/{ref}"}}


ALERT = obj(alert_id=STR, contact_id=STR, agent_id=opt(STR), queue=opt(STR), rule=STR,
            severity={"enum": ["info", "warning", "critical"]}, summary=STR, event_time=TIME)
SCHEMAS: dict[str, Any] = {
    "Alert": ALERT,
    "ActiveContact": obj(contact_id=STR, account_id=opt(STR), agent_id=opt(STR), queue=opt(STR), channel=STR,
                         journey_stage=opt(STR), turn=INT, last_label=STR, event_time=TIME,
                         customer_score={**NUM, "description": "customer's rolling score in [-1, 1]"},
                         customer_trend=NUM, alerts=listing("Alert")),
    "Escalation": obj(event_id=STR, contact_id=STR, account_id=opt(STR), agent_id=opt(STR), queue=opt(STR),
                      channel=STR, journey_stage=opt(STR), rule=STR, reason=STR, target_queue=STR,
                      priority=INT, churn_probability=opt(NUM), event_time=TIME),
    "Criterion": obj(name=STR, weight=NUM, value=opt(NUM), points=NUM, detail=STR),
    "QualityScore": {**obj(contact_id=STR, account_id=opt(STR), agent_id=opt(STR), queue=opt(STR), channel=STR,
                           journey_stage=opt(STR), score={**NUM, "minimum": 0, "maximum": 100},
                           criteria=listing("Criterion"), robust_z=opt(NUM),
                           outlier={"enum": ["none", "low", "high"]}, stressful=BOOL, de_escalated=BOOL,
                           escalated=BOOL, customer_end_score=NUM, review=BOOL,
                           review_reasons={"type": "array", "items": STR}, event_time=TIME),
                     "description": "Same fields as the Avro record io.cxpulse.insights.QualityScore."},
    "AgentFigures": obj(agent_id=STR, contacts=INT, stressful_contacts=INT, de_escalated_contacts=INT,
                        de_escalation_rate=opt(NUM), escalated_contacts=INT, mean_customer_end_score=opt(NUM),
                        mean_quality_score=opt(NUM), flagged_for_review=INT),
    "JourneyCell": obj(stage=STR, channel=STR, contacts=INT,
                       distribution=obj(negative=INT, neutral=INT, positive=INT), mean_score=NUM, dropped=INT,
                       drop_off={**NUM, "description": "share of contacts whose sentiment fell in this stage"}),
    "Series": obj(customer={"type": "array", "items": {"type": "array", "items": NUM},
                            "description": "[turn, score] pairs of the last turns"},
                  agent={"type": "array", "items": {"type": "array", "items": NUM}},
                  markers={"type": "array", "items": obj(kind={"enum": ["alert", "escalation"]}, turn=INT,
                                                         label=opt(STR))}),
    "Turn": obj(turn=INT, utterance_id=opt(STR), speaker=STR, text={**STR, "description": "PII-redacted"},
                label={"enum": ["negative", "neutral", "positive"]}, score=NUM,
                emotions={"type": "array", "items": obj(name=STR, score=NUM)}, model_version=opt(STR),
                event_time=TIME, guidance={"type": "array", "items": {"type": "object"}},
                alerts={"type": "array", "items": {"type": "object"}},
                escalations={"type": "array", "items": {"type": "object"}},
                corrections={"type": "array", "items": {"$ref": "#/components/schemas/LabelCorrection"}}),
    "ContactDetail": obj(contact_id=STR, account_id=opt(STR), agent_id=opt(STR), queue=opt(STR), channel=STR,
                         journey_stage=opt(STR), status={"enum": ["live", "ended"]}, ended_time=opt(TIME),
                         turns=listing("Turn"), alerts={"type": "array", "items": {"type": "object"}},
                         escalations={"type": "array", "items": {"type": "object"}},
                         guidance={"type": "array", "items": {"type": "object"}},
                         quality=opt({"$ref": "#/components/schemas/QualityScore"}),
                         churn=opt({"$ref": "#/components/schemas/AtRiskAccount"})),
    "Trends": obj(window={"enum": ["hour", "day"]}, bucket_ms=INT, start=TIME, end=TIME,
                  queue={"type": "object", "description": "name -> [[bucket start, mean customer score, "
                                                          "negative share, turns], ...]"},
                  channel={"type": "object", "description": "as queue"},
                  churn_bands=obj(low=INT, medium=INT, high=INT, critical=INT)),
    "LabelCorrection": {"type": "object", "description": "Same fields as the Avro record "
                                                         "io.cxpulse.feedback.LabelCorrection."},
    "AtRiskAccount": obj(account_id=STR, probability=NUM, band=STR, contacts_seen=INT, last_contact_id=opt(STR),
                         as_of_time=TIME, reasons={"type": "array", "items": STR},
                         queue=opt(STR), agent_id=opt(STR), channel=opt(STR)),  # of its latest contact seen
}


FILTER = [{"name": name, "in": "query", "required": False, "schema": STR,
           "description": f"only rows of this {name}"} for name in ("queue", "agent", "channel")]


def get(summary: str, ref: str, **extra: Any) -> dict[str, Any]:
    extra.setdefault("parameters", FILTER)
    return {"get": {"summary": summary, **extra, "responses": {"200": {
        "description": "OK", "content": {"application/json": {"schema": listing(ref)}}}}}}


SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "cxpulse insights", "version": "0.1.0",
             "description": "Quality scorecards, coaching figures, journey analytics and the live supervisor "
                            "views. Everything is computed in memory from the Kafka topics since the service "
                            "started (it replays the retained history on start)."},
    "paths": {
        "/api/contacts/active": get("Contacts in progress with the customer's current sentiment and alerts, "
                                    "most recently active first", "ActiveContact"),
        "/api/alerts": get("Recent supervisor alerts, newest first", "Alert"),
        "/api/escalations": get("Recent escalations, newest first", "Escalation"),
        "/api/quality": get("Quality scorecards of recently ended contacts, newest first", "QualityScore",
                            parameters=[*FILTER, {"name": "review", "in": "query", "required": False,
                                         "description": "true: only contacts flagged for review",
                                         "schema": {"enum": ["true", "false"]}}]),
        "/api/agents": get("Coaching figures per agent, most contacts flagged for review first", "AgentFigures"),
        "/api/journey": get("Sentiment distribution and drop-off per journey stage x channel", "JourneyCell"),
        "/api/accounts/at-risk": get("Accounts at or above the churn-risk threshold, riskiest first",
                                     "AtRiskAccount"),
        "/api/contacts/{contact_id}": {"get": {
            "summary": "Drill-down of a live or ended contact: its redacted transcript turn by turn (label, score, "
                       "top emotions, guidance shown, alerts, escalations, corrections), its quality score with "
                       "per-criterion reasons and its account's churn risk",
            "parameters": [{"name": "contact_id", "in": "path", "required": True, "schema": STR}],
            "responses": {"200": {"description": "OK", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/ContactDetail"}}}},
                "404": {"description": "unknown (or no longer remembered) contact"}}}},
        "/api/trends": {"get": {
            "summary": "Customer sentiment and negative share per time bucket, per queue and per channel, and the "
                       "churn-risk band distribution",
            "parameters": [{"name": "window", "in": "query", "required": False,
                            "schema": {"enum": ["hour", "day"], "default": "hour"}}, *FILTER],
            "responses": {"200": {"description": "OK", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Trends"}}}}, "400": {"description": "unknown window"}}}},
        "/api/corrections": {"post": {
            "summary": "Mark a turn's sentiment label wrong: produced to cx.feedback.labels with the "
                       "authenticated user, the time, the model's label and version and the redacted text",
            "requestBody": {"required": True, "content": {"application/json": {"schema": obj(
                contact_id=STR, turn=INT, label={"enum": ["negative", "neutral", "positive"]})}}},
            "responses": {"201": {"description": "stored (acknowledged by Kafka)", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/LabelCorrection"}}}},
                "400": {"description": "bad request or same label as the model"},
                "401": {"description": "no or wrong credentials"},
                "403": {"description": "cross-origin request"},
                "404": {"description": "unknown contact or turn"},
                "415": {"description": "not application/json"},
                "503": {"description": "Kafka unavailable"}}}},
        "/api/events": {"get": {"summary": "Live updates (server-sent events): `snapshot` with every view, "
                                           "then one event per changed view (contacts, alerts, escalations, "
                                           "quality, agents, journey, accounts; trends carries only the "
                                           "newest event time: fetch /api/trends) carrying that view's JSON",
                                "responses": {"200": {"description": "event stream",
                                                      "content": {"text/event-stream": {"schema": STR}}}}}},
    },
    "components": {"schemas": SCHEMAS, "securitySchemes": {
        "basic": {"type": "http", "scheme": "basic", "description": "a user of INSIGHTS_AUTH_USERS"},
        "bearer": {"type": "http", "scheme": "bearer", "description": "INSIGHTS_AUTH_TOKEN"}}},
    "security": [{"basic": []}, {"bearer": []}],
}
