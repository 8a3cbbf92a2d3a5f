"""Named entities from POS tags: people, places, organisations and times.

NerMethod:
* ``NerBasic``: dictionary only (jieba without HMM): a word is an entity when the dictionary tags
  it nr/ns/nt/t. Unknown names (张三) are not found.
* ``DL`` (default): jieba's HMM tagger finds unknown names too, and a name-like word followed by an
  organisation suffix (腾讯 + 公司, 北京 + 大学) is joined into one Organization.
No statistical English NER is shipped: English words are tokens (``nx``) but not entities.
"""

from __future__ import annotations

from dataclasses import dataclass

from wanxiang.engines.words.segment import Token, tagged

CATEGORY_BY_POS: dict[str, str] = {
    "nr": "Person",
    "nrf": "Person",
    "nrg": "Person",
    "ns": "Location",
    "nt": "Organization",
    "t": "Time",
}
_ORG_SUFFIXES = frozenset(
    [
        "公司",
        "集团",
        "银行",
        "大学",
        "学院",
        "学校",
        "中学",
        "小学",
        "医院",
        "研究所",
        "研究院",
        "委员会",
        "协会",
        "基金会",
        "俱乐部",
        "政府",
        "部",
        "局",
        "厅",
        "署",
        "报社",
        "电视台",
        "出版社",
        "工厂",
        "厂",
        "酒店",
        "商场",
        "超市",
        "实验室",
        "中心",
    ]
)
_ORG_HEADS = frozenset({"nz", "ns", "nt", "nr", "nrf", "j"})


@dataclass(frozen=True)
class Entity:
    category: str
    word: str
    offset: int


def _joined_organisations(tokens: list[Token]) -> tuple[list[Entity], set[int]]:
    """Organisations made of a name-like word and a suffix; also the token indexes they used."""
    found: list[Entity] = []
    used: set[int] = set()
    for i in range(1, len(tokens)):
        head, suffix = tokens[i - 1], tokens[i]
        adjacent = head.offset + head.length == suffix.offset
        if adjacent and suffix.word in _ORG_SUFFIXES and head.pos in _ORG_HEADS:
            found.append(Entity("Organization", head.word + suffix.word, head.offset))
            used.update((i - 1, i))
    return found, used


def uses_hmm(ner_method: str) -> bool:
    return ner_method.lower() != "nerbasic"


def entities(text: str, ner_method: str, tokens: list[Token] | None = None) -> list[Entity]:
    """Entities in order of appearance, each word once per category. ``tokens``: the tagging
    pass with the HMM setting of ``ner_method``, when the caller already has it."""
    basic = not uses_hmm(ner_method)
    if tokens is None:
        tokens = tagged(text, hmm=not basic)
    found: list[Entity] = []
    used: set[int] = set()
    if not basic:
        found, used = _joined_organisations(tokens)
    for i, token in enumerate(tokens):
        category = CATEGORY_BY_POS.get(token.pos)
        if category and i not in used:
            found.append(Entity(category, token.word, token.offset))
    unique: dict[tuple[str, str], Entity] = {}
    for entity in sorted(found, key=lambda e: e.offset):
        unique.setdefault((entity.category, entity.word), entity)
    return list(unique.values())
