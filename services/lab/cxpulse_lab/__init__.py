"""cxpulse lab: everything that is not serving (simulator, demo, benchmarks, training, evaluation).

Imports nothing at package level, so `python -m cxpulse_lab.sentiment.training.finetune` runs in the torch venv
with only `services/lab` and `services/sentiment` on PYTHONPATH."""
