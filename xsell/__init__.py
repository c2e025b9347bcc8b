"""xsell: streaming, real-time cross-sell recommender (Kafka -> Faust -> Redis -> suggestions)."""

__version__ = "0.1.0"
