"""Reading a page's form as a browser would submit it, so a test can send it back changed."""

from __future__ import annotations

from html.parser import HTMLParser

from werkzeug.datastructures import MultiDict


class _FormReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[dict[str, str], MultiDict]] = []
        self._select: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []
        self._first_option: tuple[str, str] | None = None
        self._selected = False

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append((a, MultiDict()))
            return
        if not self.forms:
            return
        fields = self.forms[-1][1]
        name = a.get("name")
        if tag == "input" and name and a.get("type", "text") not in ("submit", "button", "file", "image", "reset"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    fields.add(name, a.get("value", "y"))
            else:
                fields.add(name, a.get("value", ""))
        elif tag == "select" and name:
            self._select, self._first_option, self._selected = name, None, False
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._first_option is None:
                self._first_option = (self._select, value)
            if "selected" in a:
                fields.add(self._select, value)
                self._selected = True
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_endtag(self, tag):
        if tag == "select" and self._select:
            if not self._selected and self._first_option is not None:
                self.forms[-1][1].add(*self._first_option)
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.forms[-1][1].add(self._textarea, "".join(self._text).removeprefix("\n"))
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self._text.append(data)


def form_data(html: bytes | str, action: str | None = None) -> MultiDict:
    """The fields of the page's POST form whose action is ``action`` (or the largest one)."""
    reader = _FormReader()
    reader.feed(html.decode() if isinstance(html, bytes) else html)
    forms = [(attrs, fields) for attrs, fields in reader.forms if attrs.get("method", "get").lower() == "post"]
    if action is not None:
        forms = [(attrs, fields) for attrs, fields in forms if attrs.get("action", "") in (action, "")]
    assert forms, "no such form on the page"
    return max(forms, key=lambda form: len(form[1]))[1]
