"""The FastAPI integration, one job per module; the public names are re-exported by ``integrations.fastapi``.

- ``_policy``: which targets the service accepts; resolves each name once and pins the address it checked.
- ``_judging``: how the service judges: the CAs its certificate check trusts, its policy and the named ones.
- ``_scans``: the scans a service holds (bounded, with eviction, listed by page), their state, how they run and end.
- ``_streaming``: NDJSON and Server-Sent Events, each ending with the scan's end status, and the response that
  notices a client hanging up.
- ``_schema``: the results' type in OpenAPI, from the CLI's JSON Schema.
- ``_models``: the request and response models.
- ``_service``: what one router serves: its settings, a request's validation, the lifespan that runs the scans.
- ``_router``: the ``APIRouter`` factory and its routes.
- ``_docs``: ``/docs`` and ``/redoc`` served with local assets, for networks without a CDN.
"""
