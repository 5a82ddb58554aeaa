"""The FastAPI integration, one job per module; the public names are re-exported by ``integrations.fastapi``.

- ``_policy``: which targets the service accepts; resolves each name once and pins the address it checked.
- ``_scans``: the scans a service holds (bounded, with eviction), their state, and how they run and end.
- ``_streaming``: NDJSON and Server-Sent Events, and the response that notices a client hanging up.
- ``_router``: request/response models, validation, and the ``APIRouter`` factory.
"""
