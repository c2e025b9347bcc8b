"""The processing step shared by the worker, backfill, the API and evaluation:
events -> store (exactly-once effects) -> scoring and ranking (pure) -> suggestion messages."""

from xsell.engine.engine import Engine, assignment_unit
from xsell.engine.followed_tuning import followed_tuning_status
from xsell.engine.messages import now_text, offer_json, suggestion_id, suggestion_message
from xsell.engine.params import rank_params, segment_params, variant_params
from xsell.engine.rebuy_tuning import rebuy_tuning_status
from xsell.engine.self_tuning import SelfTuning, sampled, tuning_status

__all__ = [
    "Engine",
    "SelfTuning",
    "assignment_unit",
    "followed_tuning_status",
    "now_text",
    "offer_json",
    "rank_params",
    "rebuy_tuning_status",
    "sampled",
    "segment_params",
    "suggestion_id",
    "suggestion_message",
    "tuning_status",
    "variant_params",
]
