"""XMPP ``<starttls/>`` (RFC 6120 5.4): open a stream, read its features, ask for TLS, read ``<proceed/>``.

The same exchange serves client-to-server (``jabber:client``) and server-to-server (``jabber:server``) streams.
The server's XML is read with an incremental parser; a document type declaration (forbidden in XMPP, and the
way to entity-expansion attacks) is refused before parsing.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from tlsprobe._net._negotiation import Negotiator, quote

# xml.sax.saxutils.quoteattr would do, but importing it pulls in urllib.request, http.client and email at every
# start of the command, for one attribute.
_ATTRIBUTE_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}
)
_STREAMS = "{http://etherx.jabber.org/streams}"
_TLS = "{urn:ietf:params:xml:ns:xmpp-tls}"


def _quoted_attribute(value: str) -> str:
    """``value`` as a double-quoted XML attribute value."""
    return f'"{value.translate(_ATTRIBUTE_ESCAPES)}"'


class XMPPNegotiator(Negotiator):
    """The client's side of an XMPP upgrade; the client opens the stream."""

    def __init__(self, domain: str, *, server_to_server: bool) -> None:
        super().__init__()
        self._domain = domain
        self._server_to_server = server_to_server
        self.protocol = "XMPP server-to-server" if server_to_server else "XMPP"
        self._parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("start", "end"))
        self._depth = 0
        self._asked = False

    def start(self) -> bytes:
        namespace = "jabber:server" if self._server_to_server else "jabber:client"
        dialback = " xmlns:db='jabber:server:dialback'" if self._server_to_server else ""
        return (
            f"<?xml version='1.0'?><stream:stream xmlns='{namespace}'{dialback} "
            f"xmlns:stream='http://etherx.jabber.org/streams' to={_quoted_attribute(self._domain)} version='1.0'>"
        ).encode()

    def _advance(self) -> bytes:
        data = self.peek()
        self.take_bytes(len(data))
        if b"<!" in data:  # <!DOCTYPE, <!ENTITY (CDATA sections cannot occur in a stream header or features)
            raise self.error_class(f"{self.protocol}: the server sent a declaration XMPP forbids: {quote(data)}")
        try:
            self._parser.feed(data)
            events = list(self._parser.read_events())
        except ET.ParseError as error:
            raise self.error_class(f"{self.protocol}: the server's stream is not well-formed XML ({error})") from None
        for item in events:
            if len(item) != 2 or not isinstance(item[1], ET.Element):
                continue  # only start and end events were asked for
            event, element = item[0], item[1]
            if event == "start":
                self._depth += 1
                if self._depth == 1 and element.tag != f"{_STREAMS}stream":
                    raise self.error_class(f"{self.protocol}: the server did not open an XMPP stream: <{element.tag}>")
                continue
            self._depth -= 1
            if self._depth != 1:
                continue  # only the stream's children matter
            said = _describe(element)
            self.last_reply = said.encode()
            if element.tag == f"{_STREAMS}error":
                raise self.error_class(f"{self.protocol}: the server closed the stream with an error: {quote(said)}")
            if element.tag == f"{_STREAMS}features" and not self._asked:
                if not any(child.tag == f"{_TLS}starttls" for child in element):
                    raise self.error_class(f"{self.protocol}: the server does not offer STARTTLS: {quote(said)}")
                self._asked = True
                return b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
            if element.tag == f"{_TLS}proceed" and self._asked:
                self.done = True
                return b""
            if element.tag == f"{_TLS}failure":
                raise self.error_class(f"{self.protocol}: the server refused STARTTLS: {quote(said)}")
        return b""


def _local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _describe(element: ET.Element) -> str:
    """``<error> host-unknown: This server does not serve 127.0.0.1``: the element, its children and their text,
    without namespaces."""
    children = [
        _local_name(child.tag) + (f": {child.text.strip()}" if child.text and child.text.strip() else "")
        for child in element
    ]
    text = f" {element.text.strip()}" if element.text and element.text.strip() else ""
    return (
        f"<{_local_name(element.tag)}>{text} " + ", ".join(children)
        if children
        else f"<{_local_name(element.tag)}>{text}"
    )
