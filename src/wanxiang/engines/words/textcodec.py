"""Decoding uploaded text files whose encoding nobody declared."""

from __future__ import annotations

import codecs

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode_text(data: bytes) -> str:
    """UTF-8 or UTF-16 by BOM, else strict UTF-8, else GBK (what Chinese Windows tools write).

    Raises UnicodeDecodeError when none of them fits: the caller turns that into a job failure.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # gb18030 is the superset of GBK that accepts every byte sequence GBK does.
        return data.decode("gb18030")
