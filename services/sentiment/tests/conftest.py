from __future__ import annotations

import pytest

from cxpulse_sentiment.model import SentimentModel


@pytest.fixture(scope="session")
def model() -> SentimentModel:
    return SentimentModel.load()
