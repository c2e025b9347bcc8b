"""The messages of the event contract, each declared once (docs/contract.md).

- :mod:`models.messages.rules`: the input rules as pure checks (shared with the hot path);
- :mod:`models.messages.inputs`, :mod:`models.messages.shop`: the input events as pydantic
  models;
- :mod:`models.messages.outputs`: what xsell writes (suggestions, notifications, dead
  letters); :mod:`models.messages.api`: the API's bodies, as pydantic models;
- :mod:`models.messages.reader`: a record read through its declaration (pydantic);
- :mod:`models.messages.schemas`: docs/schemas/*.json generated from those models.
"""
