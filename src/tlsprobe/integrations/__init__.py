"""Integrations of tlsprobe with other frameworks, each behind its own extra.

- ``tlsprobe.integrations.fastapi`` (``pip install 'tlsprobe[fastapi]'``): a FastAPI router that runs scans as a
  web service.

Importing ``tlsprobe`` never imports any of them.
"""
