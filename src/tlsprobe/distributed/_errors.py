"""The one exception of distributed scans."""

from __future__ import annotations

from tlsprobe._exceptions import TLSProbeError


class ClusterError(TLSProbeError):
    """Ray is not installed, the cluster cannot be reached or started, or no worker could start. The message is
    one line for people."""
