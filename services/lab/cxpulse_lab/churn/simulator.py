"""Seeded generator of contact histories and 30-day churn labels (SIMULATED data).

Generative story (all numbers are assumptions, see MODEL_CARD.md):
  * Each account has a tenure (months, exponential, mean 30), a monthly plan value
    (log-normal, median 45) and a base contact rate (gamma, mean 0.8 contacts/month).
  * Issue episodes (billing error, outage) start at 0.15/month and last ~10 days;
    during one the contact rate is x4 and sentiment shifts negative: bursts.
  * Latent dissatisfaction D >= 0 starts small, rises by 0.35 per unresolved
    negative contact (+0.2 more if escalated and still unresolved), shrinks by 40%
    after a positive contact, decays with a 45-day half-life, and jumps now and
    then for reasons no contact shows (price rises, competitor offers): noise.
  * Each contact's sentiment comes from a mood = 0.35 - 0.45 D - 0.4 episode +
    N(0, 0.35); start/end/overall scores, anger, negative turns, escalation,
    status, channel and journey stage ("cancellation" more likely as D grows)
    follow from the mood plus noise. Whether the agent resolves it is random,
    likelier for better moods.
  * Monthly churn hazard h = h0 * exp(0.8 D + 0.25 U) * 1.6 (tenure < 6 months)
    * (value / 45)^-0.2, with U a 30-day-decaying count of unresolved negatives;
    h0 is set so ~1.5-2.5% of scored accounts churn within 30 days, in line with
    commonly reported telecom/subscription monthly churn of ~1.5-3% (annual
    ~15-25%) from industry reports and analyst surveys; these are assumptions,
    not measurements of any real operator.
Each account is scored once at a random as_of day in [120, 180]; accounts that
churned before it are dropped; label = churned within the next HORIZON_DAYS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

DAY_MS = 86_400_000
EPOCH_MS = 1_735_689_600_000  # 2025-01-01T00:00:00Z: simulated day 0
HORIZON_DAYS = 30
H0_MONTHLY = 0.008
CHANNELS = ("voice", "chat", "email", "sms", "social")
STAGES = ("billing", "technical_support", "general", "ivr")


@dataclass(frozen=True, slots=True)
class Example:
    account_id: str
    history: list[dict[str, Any]]
    as_of: int  # epoch ms
    label: int  # 1 = churned within HORIZON_DAYS after as_of
    hazard: float = 0.0  # latent monthly churn hazard at as_of: an oracle ceiling, never a feature


def _sig(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def simulate(n_accounts: int = 20_000, seed: int = 7, horizon_days: int = HORIZON_DAYS) -> list[Example]:
    """Examples for the accounts still active at their as_of; deterministic in (n, seed)."""
    rng = np.random.default_rng(seed)
    n = n_accounts
    tenure = rng.exponential(30.0, n)
    value = rng.lognormal(np.log(45.0), 0.5, n)
    rate = rng.gamma(2.0, 0.4, n) / 30.0  # contacts per day
    as_of = rng.integers(120, 181, n)
    days = int(as_of.max()) + horizon_days + 1
    dis = rng.gamma(1.0, 0.3, n)
    unres = np.zeros(n)
    episode = np.zeros(n)  # days left in the current issue episode
    churn_day = np.full(n, -1)
    base_h = H0_MONTHLY * np.where(tenure < 6, 1.6, 1.0) * (value / 45.0) ** -0.2
    histories: list[list[dict[str, Any]]] = [[] for _ in range(n)]
    hazard_at = np.zeros(n)
    for day in range(days):
        alive = churn_day < 0
        episode = np.where(rng.random(n) < 0.15 / 30, rng.exponential(10.0, n), episode - 1)
        ep = episode > 0
        dis = dis * 0.5 ** (1 / 45) + (rng.random(n) < 0.004) * rng.exponential(0.5, n)
        unres *= np.exp(-1 / 30)
        p_contact = np.minimum(0.9, rate * np.where(ep, 4.0, 1.0) * (1 + 0.3 * dis))
        idx = np.flatnonzero(alive & (rng.random(n) < p_contact))
        if idx.size:
            _contacts(rng, idx, day, dis, unres, ep, histories)
        h = np.minimum(0.5, base_h * np.exp(1.4 * dis + 0.4 * unres))
        hazard_at[as_of == day] = h[as_of == day]
        churned = alive & (rng.random(n) < 1 - (1 - h) ** (1 / 30))
        churn_day[churned] = day
    out = []
    for i in range(n):
        if 0 <= churn_day[i] <= as_of[i]:
            continue  # already gone when it would have been scored
        label = int(as_of[i] < churn_day[i] <= as_of[i] + horizon_days)
        t = EPOCH_MS + int(as_of[i]) * DAY_MS + DAY_MS - 1  # end of the as_of day
        seen = [e for e in histories[i] if e["ended_time"] <= t]  # the service cannot see later ones
        out.append(Example(f"acct-{seed}-{i:06d}", seen, t, label, float(hazard_at[i])))
    return out


def _contacts(rng: np.random.Generator, idx: np.ndarray, day: int, dis: np.ndarray,
              unres: np.ndarray, ep: np.ndarray, histories: list[list[dict[str, Any]]]) -> None:
    """Draw one contact for each account in idx and update its latent state in place."""
    k = idx.size
    mood = 0.35 - 0.45 * dis[idx] - 0.4 * ep[idx] + rng.normal(0, 0.35, k)
    resolved = rng.random(k) < _sig(0.8 + 2.0 * mood)
    start = np.tanh(mood - 0.15 + rng.normal(0, 0.2, k))
    end = np.tanh(mood + np.where(resolved, 0.35, -0.3) + rng.normal(0, 0.2, k))
    overall = np.clip(0.3 * start + 0.7 * end + rng.normal(0, 0.05, k), -1, 1)
    anger = np.clip(_sig(-3.0 * np.minimum(start, end) - 1.8 + rng.normal(0, 0.5, k)), 0, 1)
    frustration = np.clip(anger + rng.normal(0.05, 0.1, k), 0, 1)
    escalated = rng.random(k) < _sig(-3.2 - 2.5 * overall + 1.5 * anger)
    status = np.where(rng.random(k) < 0.04 + 0.06 * (overall < -0.25), "abandoned", "completed")
    voice_p = 0.5 + 0.2 * ep[idx]
    channel = np.where(rng.random(k) < voice_p, 0, rng.integers(1, len(CHANNELS), k))
    cancel = rng.random(k) < _sig(-4.5 + 1.2 * dis[idx])
    stage = rng.integers(0, len(STAGES), k)
    turns = 4 + rng.poisson(np.where(channel == 0, 14, 8))
    neg_turns = rng.binomial(turns, _sig(-3.0 * overall - 1.0))
    secs = rng.integers(0, 86_400, k)
    bad = (~resolved | (status != "completed")) & (end <= -0.25)
    dis[idx] += bad * (0.45 + 0.2 * escalated)
    dis[idx] *= np.where(overall >= 0.25, 0.6, 1.0)
    unres[idx] += bad
    for j, i in enumerate(idx):
        histories[i].append({
            "contact_id": f"c-{i}-{day}", "ended_time": EPOCH_MS + day * DAY_MS + int(secs[j]) * 1000,
            "channel": CHANNELS[channel[j]], "overall_score": float(overall[j]),
            "start_score": float(start[j]), "end_score": float(end[j]),
            "trend": float(end[j] - start[j]), "negative_turns": int(neg_turns[j]),
            "turns": int(turns[j]), "peak_anger": float(anger[j]),
            "peak_frustration": float(frustration[j]), "escalated": bool(escalated[j]),
            "status": str(status[j]),
            "journey_stage": "cancellation" if cancel[j] else STAGES[stage[j]],
        })
