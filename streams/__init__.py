"""Faust stream processing: the app, its topics and agents."""
