"""Tag and message names for reports, from the FIX data dictionaries the quickfix package
installs (FIX 4.2 and 4.4 together); a number alone where they are not found."""

import sys
from functools import cache
from pathlib import Path
from xml.etree import ElementTree

_DICTIONARIES = ("FIX44.xml", "FIX42.xml")


@cache
def _tables() -> tuple[dict[int, str], dict[str, str]]:
    tags: dict[int, str] = {}
    messages: dict[str, str] = {}
    folder = Path(sys.prefix) / "share" / "quickfix"
    for filename in _DICTIONARIES:
        path = folder / filename
        if not path.is_file():
            continue
        root = ElementTree.parse(path).getroot()
        for field in root.iterfind("fields/field"):
            tags.setdefault(int(field.get("number", "0")), field.get("name", ""))
        for message in root.iterfind("messages/message"):
            messages.setdefault(message.get("msgtype", ""), message.get("name", ""))
    return tags, messages


def tag_name(tag: int) -> str | None:
    return _tables()[0].get(tag)


def message_name(msg_type: str) -> str | None:
    return _tables()[1].get(msg_type)
