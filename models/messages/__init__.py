"""The messages of the event contract, each declared once (docs/contract.md).

- :mod:`xsell.models.messages.rules`: the input rules as pure checks (shared with the hot path);
- :mod:`xsell.models.messages.inputs`, :mod:`xsell.models.messages.shop`: the input events as
pydantic
  models;
- :mod:`xsell.models.messages.outputs`: what xsell writes (suggestions, notifications, dead
  letters); :mod:`xsell.models.messages.api`: the API's bodies, as pydantic models;
- :mod:`xsell.models.messages.reader`: a record read through its declaration (pydantic);
- :mod:`xsell.models.messages.schemas`: docs/schemas/*.json generated from those models.
"""
