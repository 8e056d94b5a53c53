"""Training side: the written corpus, training runs, evaluation and (later) retraining."""
