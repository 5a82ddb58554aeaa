"""A small DOM for the tests, built with the standard library's HTML parser: what a page's markup means to a
browser's tree (which elements exist, their attributes, their text), without a browser."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Final

import attrs

_VOID: Final = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"})


@attrs.define(eq=False)
class Element:
    """One element: its tag, attributes, children (elements and text, in order) and parent."""

    tag: str
    attributes: dict[str, str]
    parent: Element | None = None
    children: list[Element | str] = attrs.field(factory=list)

    def iter(self) -> Iterator[Element]:
        """This element and every element inside it, in document order."""
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter()

    def find_all(self, tag: str | None = None, **attributes: str) -> list[Element]:
        """The elements inside (and including) this one with ``tag`` and those attribute values (``class_`` for
        ``class``, matched as one of the classes)."""
        wanted = {key.rstrip("_").replace("_", "-"): value for key, value in attributes.items()}

        def matches(element: Element) -> bool:
            for key, value in wanted.items():
                if key == "class":
                    if value not in element.attributes.get("class", "").split():
                        return False
                elif element.attributes.get(key) != value:
                    return False
            return tag is None or element.tag == tag

        return [element for element in self.iter() if matches(element)]

    def find(self, tag: str | None = None, **attributes: str) -> Element:
        """The one element that ``find_all`` finds; fails when there are none or several."""
        found = self.find_all(tag, **attributes)
        assert len(found) == 1, f"{len(found)} elements match {tag} {attributes}"
        return found[0]

    def by_id(self, identity: str) -> Element:
        """The element with this id."""
        return self.find(id=identity)

    @property
    def text(self) -> str:
        """Its text, as the parser decoded it, spaces collapsed."""
        parts: list[str] = []

        def walk(element: Element) -> None:
            for child in element.children:
                if isinstance(child, str):
                    parts.append(child)
                else:
                    walk(child)

        walk(self)
        return " ".join("".join(parts).split())


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element(tag="#document", attributes={})
        self.current = self.root

    def handle_starttag(self, tag: str, attributes: list[tuple[str, str | None]]) -> None:
        element = Element(tag=tag, attributes={k: v or "" for k, v in attributes}, parent=self.current)
        self.current.children.append(element)
        if tag not in _VOID:
            self.current = element

    def handle_startendtag(self, tag: str, attributes: list[tuple[str, str | None]]) -> None:
        self.current.children.append(
            Element(tag=tag, attributes={k: v or "" for k, v in attributes}, parent=self.current)
        )

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        element: Element | None = self.current
        while element is not None and element.tag != tag:
            element = element.parent
        assert element is not None and element.parent is not None, f"</{tag}> closes nothing"
        self.current = element.parent

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)


def parse(markup: str) -> Element:
    """The document's tree."""
    builder = _Builder()
    builder.feed(markup)
    builder.close()
    return builder.root
