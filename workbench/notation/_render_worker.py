"""The engraver's side of :mod:`workbench.notation.render`: verovio in a child process.

`serve` runs in a spawned process, reads render requests from its end of a pipe and answers
each with SVG pages already made drawable by QtSvg (:func:`qtsvg_compatible`). It exits when
asked (a ``None`` request) or when the pipe closes, which is also what happens when the parent
process dies, so the worker never outlives the application. verovio can kill this process on
malformed ABC (SIGSEGV/SIGABRT); the parent notices the closed pipe and starts a new one.

The SVG repair lives here, in the child, so that its XML work does not hold the GUI
process's interpreter lock. Nothing here imports Qt.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
_SVG = f"{{{SVG_NS}}}svg"
_G = f"{{{SVG_NS}}}g"
_TEXT = f"{{{SVG_NS}}}text"
_TSPAN = f"{{{SVG_NS}}}tspan"

# Without these, ElementTree writes the SVG namespace as "ns0:", which QtSvg does not read.
ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", XLINK_NS)

# Attributes a collapsed <text> takes over from the <tspan>s it held.
_POSITION = ("x", "y", "text-anchor")
_STYLE = ("font-size", "font-style", "font-weight", "font-family", "fill", "class")


def _flatten_nested_svg(root: ET.Element) -> None:
    """Turn verovio's inner ``<svg class="definition-scale" viewBox=...>`` into a ``<g>``.

    QtSvg (SVG Tiny 1.2) skips nested ``<svg>`` elements, so the page came out blank. The
    inner element fills the whole page, so its viewBox can move to the root unchanged.
    """
    for parent in root.iter():
        for child in parent:
            if child.tag != _SVG:
                continue
            view_box = child.attrib.pop("viewBox", None)
            if view_box and "viewBox" not in root.attrib:
                root.set("viewBox", view_box)
            for name in ("x", "y", "width", "height", "overflow", "preserveAspectRatio"):
                child.attrib.pop(name, None)
            child.tag = _G


def _collapse_text(text: ET.Element) -> list[ET.Element]:
    """One flat ``<text>`` per positioned run of a verovio ``<text>`` with nested ``<tspan>``s.

    verovio writes a title as ``<text font-size="0px"><tspan x= y=><tspan><tspan
    font-size="405px">Title</tspan>...``; QtSvg draws nested tspans with the outer 0 px size,
    i.e. not at all. Each tspan that carries a position starts a run; the run's own text, the
    innermost non-zero font size and its position become attributes of a plain ``<text>``.
    """
    runs = [t for t in text.iter(_TSPAN) if "x" in t.attrib or "y" in t.attrib] or [text]
    flat = []
    for run in runs:
        new = ET.Element(_TEXT)
        for name in _POSITION:
            value = run.get(name, text.get(name))
            if value is not None:
                new.set(name, value)
        for node in (text, *run.iter()):
            for name in _STYLE:
                value = node.get(name)
                if value is not None and value != "0px":
                    new.set(name, value)
        new.text = " ".join("".join(run.itertext()).split())
        if new.text:
            flat.append(new)
    return flat


# verovio's element classes for what ABC writes as a note, a chord or a rest (a multi-bar rest
# is an mRest or multiRest, an invisible ``x`` a space, an invisible ``X`` an mSpace).
_DRAWN_KINDS = {
    "note": "note",
    "chord": "chord",
    "rest": "rest",
    "mRest": "rest",
    "multiRest": "rest",
    "space": "rest",
    "mSpace": "rest",
}


def drawn_notes(root: ET.Element) -> list[tuple[str, str]]:
    """``(kind, element id)`` of every note, chord and rest drawn on a page, in document order.

    Kinds are "note", "chord" and "rest", as in
    :func:`workbench.notation.written_notes.written_notes`; the notes of a chord are part of
    it, not entries of their own. verovio writes a single-staff tune's layer in time order, so
    this is the written order of the ABC.
    """
    found: list[tuple[str, str]] = []
    stack = [iter(root)]
    while stack:  # depth-first, in document order, without recursion
        child = next(stack[-1], None)
        if child is None:
            stack.pop()
            continue
        kind = None
        if child.tag == _G:
            kind = next(
                (_DRAWN_KINDS[c] for c in child.get("class", "").split() if c in _DRAWN_KINDS),
                None,
            )
        if kind is not None and child.get("id"):
            found.append((kind, child.get("id", "")))
            continue  # a note's or chord's insides (noteheads, a chord's notes) are part of it
        stack.append(iter(child))
    return found


def qtsvg_compatible(svg: str) -> str:
    """verovio's SVG made drawable by QtSvg: no nested ``<svg>``, no nested ``<tspan>``."""
    return _repaired_page(svg)[0]


def _repaired_page(svg: str) -> tuple[str, list[tuple[str, str]]]:
    """The page made drawable by QtSvg, and its :func:`drawn_notes`."""
    root = ET.fromstring(svg)
    _flatten_nested_svg(root)
    for parent in list(root.iter()):
        for i, child in reversed(list(enumerate(parent))):
            if child.tag == _TEXT and len(child):
                parent.remove(child)
                for offset, flat in enumerate(_collapse_text(child)):
                    flat.tail = child.tail
                    parent.insert(i + offset, flat)
    return ET.tostring(root, encoding="unicode"), drawn_notes(root)


def render_pages(
    toolkit: Any, abc: str, options: dict[str, Any]
) -> tuple[list[str], str | None, list[tuple[str, int, str]]]:
    """``(pages, error, notes)`` for one tune, with a toolkit already made.

    ``notes`` lists ``(kind, page index, element id)`` of every drawn note, chord and rest.
    """
    toolkit.setOptions(options)
    if not toolkit.loadData(abc):
        return [], "verovio could not read this ABC", []
    count = toolkit.getPageCount()
    if count < 1:
        return [], "verovio found nothing to engrave in this ABC", []
    pages: list[str] = []
    notes: list[tuple[str, int, str]] = []
    for index in range(count):
        page, drawn = _repaired_page(toolkit.renderToSVG(index + 1))
        pages.append(page)
        notes.extend((kind, index, element) for kind, element in drawn)
    return pages, None, notes


def serve(conn: Any) -> None:
    """The child process's loop: ``(request_id, abc, options, timemap)`` in, replies out.

    The reply is ``(request_id, pages, error, notes)`` (see :func:`render_pages`); when a
    timemap was asked for and the pages were made, a second message ``(request_id,
    timemap)`` follows. It comes separately because verovio 6.4 kills the process
    computing the timemap of many tunes with repeats (16 of 30 corpus tunes tried): the
    pages must reach the parent first.
    """
    import verovio

    verovio.enableLog(verovio.LOG_OFF)  # its warnings would go to the app's stderr
    toolkit = verovio.toolkit()
    # verovio loads its fonts on first use: do it now, while the worker is not yet needed.
    render_pages(toolkit, "X:1\nL:1/8\nK:C\nC|\n", {"footer": "none"})
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):  # the parent closed the pipe or died
            return
        if request is None:
            return
        request_id, abc, options, timemap = request
        try:
            pages, error, notes = render_pages(toolkit, abc, options)
        except Exception as exc:  # a Python-level failure is an answer, not the end
            pages, error, notes = [], f"the engraver failed: {exc}", []
        try:
            conn.send((request_id, pages, error, notes))
            if timemap and pages:
                try:
                    events = toolkit.renderToTimemap({"includeMeasures": True})
                except Exception:
                    events = None
                conn.send((request_id, events))
        except (EOFError, OSError):
            return
