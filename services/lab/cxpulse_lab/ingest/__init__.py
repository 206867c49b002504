"""Ingest benchmarks: through Kafka, the pure domain logic, and PII redaction."""
