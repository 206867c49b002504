"""Test helpers shared by every service's tests: a real Kafka broker, unique topics, produce/consume."""
