"""Generated blocks inside hand-written Markdown: the text between two marker comments.

A block reads::

    <!-- generated: layers soilsuite -->
    ... whatever the generator wrote last time ...
    <!-- end generated -->

The words after ``generated:`` name the block (a renderer and its arguments);
:func:`fill` replaces every block's body with what its renderer produces now and
leaves the prose around it untouched; a block indented inside a list item gets its body
indented alike.  The comments are invisible on the repository host, so the
page reads as plain Markdown.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from baresoil.errors import BaresoilError

Renderer = Callable[[list[str]], str]
"""Arguments of a block (the words after its name) to Markdown."""

_BLOCK = re.compile(
    r"^(?P<indent>[ \t]*)<!-- generated: (?P<spec>[^>]*?) -->\n(?P<body>.*?)^[ \t]*<!-- end generated -->",
    re.DOTALL | re.MULTILINE,
)


class DocsError(BaresoilError):
    """A documentation page has a malformed or unknown generated block."""


def fill(text: str, renderers: dict[str, Renderer], where: str) -> str:
    """``text`` with the body of every generated block rendered anew."""

    def replace(match: re.Match[str]) -> str:
        name, *args = match["spec"].split()
        if name not in renderers:
            raise DocsError(
                f"{where}: unknown generated block {name!r}; known: {', '.join(sorted(renderers))}"
            )
        indent = match["indent"]
        body = renderers[name](args).strip("\n")
        body = "\n".join(f"{indent}{line}" if line.strip() else "" for line in body.split("\n"))
        return f"{indent}<!-- generated: {match['spec']} -->\n{body}\n{indent}<!-- end generated -->"

    filled = _BLOCK.sub(replace, text)
    opened, closed = filled.count("<!-- generated:"), filled.count("<!-- end generated -->")
    if opened != closed:
        raise DocsError(f"{where}: {opened} generated block(s) opened but {closed} closed")
    return filled


def block_names(text: str) -> list[str]:
    """The specs of the generated blocks of a page, in order (e.g. ``layers soilsuite``)."""
    return [m["spec"].strip() for m in _BLOCK.finditer(text)]
