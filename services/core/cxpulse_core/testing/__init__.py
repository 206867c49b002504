"""Test helpers shared by every service's tests (the pytest plugin is plugin.py): a real Kafka broker, unique
topics, produce/consume, free ports and waits, services as processes, webhook and SMTP receivers."""
