"""``xsell eval``: offline quality of xsell against baselines on the same split (see
docs/evaluation.md for the protocol)."""
