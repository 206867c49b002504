"""Rescoring throughput with reasons: `python -m cxpulse_lab.churn.bench`.

Times what the service does per rescore batch: features from each account's
history, then one score_many call (prediction + contributions + reasons).
Simulating the histories is setup and is not timed.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from typing import Any

from cxpulse_churn.features import features
from cxpulse_churn.model import ChurnModel
from cxpulse_lab.churn.simulator import simulate


def run(n_accounts: int = 5000, batch_size: int = 500, repeats: int = 3, seed: int = 11) -> dict[str, Any]:
    model = ChurnModel.load()
    accounts = [(e.history, e.as_of) for e in simulate(n_accounts, seed)]
    rates = []
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        for i in range(0, len(accounts), batch_size):
            batch = accounts[i : i + batch_size]
            model.score_many([features(h, t) for h, t in batch])
        rates.append(len(accounts) / (time.perf_counter() - t0))
    contacts = sum(len(h) for h, _ in accounts)
    return {
        "accounts_per_s": round(statistics.median(rates)),
        "runs_accounts_per_s": [round(r) for r in rates],
        "accounts": len(accounts), "mean_contacts_per_account": round(contacts / len(accounts), 2),
        "batch_size": batch_size, "model_version": model.version, "goal_accounts_per_s": 1000,
    }


if __name__ == "__main__":
    result = run(*(int(a) for a in sys.argv[1:2]))
    print(json.dumps(result, indent=2))
    raise SystemExit(0 if result["accounts_per_s"] >= result["goal_accounts_per_s"] else 1)
