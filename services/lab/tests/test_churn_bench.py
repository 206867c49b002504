from cxpulse_lab.churn.bench import run


def test_bench_runs_and_reports() -> None:
    r = run(n_accounts=300, batch_size=100, repeats=1)
    assert r["accounts_per_s"] > 0 and r["accounts"] > 200 and r["batch_size"] == 100
