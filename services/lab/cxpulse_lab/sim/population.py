"""Who takes part: accounts (with value and a history of unresolved contacts), agents (with a skill), queues,
and the per-account PII that customers read out (test data: Luhn-valid 4-series cards, 555 phones, example
domains)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from .wording import amount, order_number

INDUSTRIES = ("telecom", "energy", "banking", "retail")
STAGES = ("billing", "technical_support", "cancellation", "sales", "onboarding")
STAGE_WEIGHTS = (0.34, 0.34, 0.1, 0.1, 0.12)
QUEUE_BY_STAGE = {"billing": "billing", "technical_support": "tech-support", "cancellation": "retention",
                  "sales": "sales", "onboarding": "new-customers", "ivr": "ivr-main"}
PRIORITY_QUEUE = "priority"  # high-value accounts skip the line
HIGH_VALUE_PLAN = 150.0  # monthly plan value from which an account counts as high value

FIRST_NAMES = ["Jane", "Omar", "Priya", "Tom", "Aisha", "Lukas", "Mei", "Carlos", "Fatima", "Noah", "Grace",
               "Ivan", "Sofia", "Kwame", "Hannah", "Diego", "Yuki", "Liam", "Amara", "Ben", "Chloe", "Ravi",
               "Elena", "Marcus", "Nadia", "Oscar", "Leila", "Sam", "Rosa", "Felix"]
LAST_NAMES = ["Doe", "Khan", "Patel", "Smith", "Okafor", "Weber", "Chen", "Garcia", "Haddad", "Brown", "Murphy",
              "Novak", "Rossi", "Mensah", "Fischer", "Lopez", "Tanaka", "Walsh", "Nwosu", "Clark"]
AGENT_NAMES = ["Dana", "Alex", "Jordan", "Sam", "Priya", "Leo", "Mia", "Chris", "Nina", "Raj", "Tess", "Ollie",
               "Zara", "Ken", "Lucy", "Andre", "Bea", "Hugo", "Ivy", "Max"]
MAIL_DOMAINS = ["example.com", "example.net", "example.org", "mail.example.com"]


@dataclass
class Account:
    account_id: str
    customer_id: str
    industry: str
    plan_value: float  # monthly, in dollars
    first_name: str
    email: str
    phone: str
    card: str
    unresolved: int = 0  # consecutive contacts that ended without a fix: each repeat call starts worse
    open_stage: str | None = None
    open_reason: str | None = None
    contacts: int = 0
    churned: bool = False
    busy_until: float = 0.0

    @property
    def high_value(self) -> bool:
        return self.plan_value >= HIGH_VALUE_PLAN


@dataclass(frozen=True)
class Agent:
    agent_id: str
    name: str
    skill: float  # 0..1: skilled agents de-escalate more often


@dataclass
class Population:
    accounts: list[Account]
    agents: list[Agent]
    open_issues: list[Account] = field(default_factory=list)


def luhn_card(rng: random.Random) -> str:
    digits = [4] + [rng.randint(0, 9) for _ in range(14)]
    total = 0
    for i, d in enumerate(reversed(digits)):  # the check digit will sit right of these: double every other
        total += (d * 2 - 9 if d > 4 else d * 2) if i % 2 == 0 else d
    digits.append((10 - total % 10) % 10)
    number = "".join(map(str, digits))
    sep = rng.choice([" ", " ", "-", ""])
    return sep.join(number[i:i + 4] for i in range(0, 16, 4))


def phone_number(rng: random.Random) -> str:
    line = f"{rng.randint(100, 199):03d}-{rng.randint(1000, 9999)}"
    style = rng.randrange(3)
    return f"(555) {line}" if style == 0 else f"555-{line}" if style == 1 else f"+1 555 {line.replace('-', ' ')}"


def make_account(rng: random.Random, n: int) -> Account:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    email = f"{first.lower()}{rng.choice(['.', '_', ''])}{last.lower()}{rng.randint(1, 99)}@{rng.choice(MAIL_DOMAINS)}"
    value = round(min(900.0, rng.lognormvariate(4.0, 0.7)), 2)  # median ~$55/month, a tail of big accounts
    return Account(f"acct-{n:05d}", f"cust-{n:05d}", rng.choice(INDUSTRIES), value, first, email,
                   phone_number(rng), luhn_card(rng))


def make_agent(rng: random.Random, n: int) -> Agent:
    return Agent(f"agent-{n:03d}", rng.choice(AGENT_NAMES), round(rng.betavariate(2.0, 1.6), 2))


def make_population(rng: random.Random, n_accounts: int, n_agents: int) -> Population:
    return Population([make_account(rng, i + 1) for i in range(n_accounts)],
                      [make_agent(rng, i + 1) for i in range(n_agents)])


def contact_values(rng: random.Random, account: Account, agent_name: str) -> dict[str, str]:
    """Slot values fixed for one contact: the customer's own details and the agent's name."""
    return {"name": account.first_name, "email": account.email, "phone": account.phone, "card": account.card,
            "agent": agent_name, "amount": amount(rng), "order": order_number(rng),
            "ref": f"REF-{rng.randint(10000, 99999)}"}


def queue_for(stage: str, account: Account | None, rng: random.Random) -> str:
    if account is not None and account.high_value and stage != "ivr" and rng.random() < 0.7:
        return PRIORITY_QUEUE
    return QUEUE_BY_STAGE[stage]
