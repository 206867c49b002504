"""Churn model lab: the account simulator, training tables, training, evaluation and the scoring benchmark."""
