"""Notification benchmark: alerts through the service to a signed-webhook receiver."""
