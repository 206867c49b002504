"""Insights benchmarks: throughput and latency, and slow SSE clients."""
