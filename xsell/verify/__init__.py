"""Proof of robustness (harness): chaos (kill -9), outages, hostile input, the numpy state
oracle. Not in the wheel."""
