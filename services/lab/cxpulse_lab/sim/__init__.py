"""Realistic, deterministic contact-center traffic for cxpulse (`cxpulse simulate`)."""

from .events import CONTACT_LENS, CXPULSE, SimEvent
from .scenario import generate
from .simulate import produce_events, summarize

__all__ = ["CONTACT_LENS", "CXPULSE", "SimEvent", "generate", "produce_events", "summarize"]
