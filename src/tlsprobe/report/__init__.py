"""A scan as one self-contained HTML page: a fleet overview (grades, findings by severity and kind, a servers by
findings matrix, certificate expiry, protocol versions, and trends over past scans), then one section per server
with the facts of the terminal report. Sorting and filtering work from ``file://``; nothing is fetched.

::

    write_html_report("report.html", servers, title="Nightly scan", generated_at=datetime.datetime.now(datetime.UTC))

``servers`` are JSON forms (``to_jsonable`` of each ``ServerScanResult``, or read back from a file or a store),
streamed: the page is built without holding every server in memory.
"""

from tlsprobe.report._page import write_html_report
from tlsprobe.report._trends import TrendPoint, trend_point

__all__ = ["TrendPoint", "trend_point", "write_html_report"]
