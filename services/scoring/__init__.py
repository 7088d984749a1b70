"""Scorers: measure a module against the faults market injected (its ground truth).

Only scorers and tests read market's fault ground truth; no service imports this package
(tests/contract/test_layering.py checks it), so no service can use the answers to find what
it should detect. bench/ and tests/ both run the scorers here.
"""
