"""Benchmarks (`make bench`): NLU accuracy against Rasa's default pipeline and a
BM25 keyword baseline, conversation latency and throughput, memory, cold start.
Not tests: they print figures (bench/results/) and never fail on a number.
Also `make eval` (evaluation.py): the NLU figures on the evaluation sets under tests/."""
