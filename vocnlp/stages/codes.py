"""Codes stage: the analyst's rules (``codes.rules``, spaCy Matcher / PhraseMatcher patterns) on each Doc.

Requires: S.DOCS (tokenize; sentences from segment, so … gaps stay inside a sentence), S.STATUS.
Adds: S.CODES (the matched code names in rules-file order, joined by ``|``; empty when none matched,
for rows not analysed, and when no rules file is configured). The rules are validated on load
(:func:`vocnlp.nlp.codes.load_rules`): a bad file stops the run before anything is embedded.
"""

from __future__ import annotations

import pandas as pd

from .. import schema as S
from ..config import SegmentConfig
from ..nlp import stage_nlp
from ..nlp.codes import CodeRules, load_rules
from ..nlp.segmenter import Segmenter
from ..text import normalize


def load(rules_path) -> CodeRules | None:
    return load_rules(rules_path) if rules_path else None


def run(df: pd.DataFrame, rules: CodeRules | None) -> pd.DataFrame:
    S.require(df, [S.DOCS, S.STATUS], "codes", {S.DOCS: "tokenize"})
    if rules is None:
        return df.assign(**{S.CODES: ""})
    done: dict[int, str] = {}  # rows with the same text share one Doc (tokenize)
    codes = []
    for d, st in zip(df[S.DOCS], df[S.STATUS]):
        if d is None or st != S.STATUS_OK:
            codes.append("")
            continue
        if id(d) not in done:
            done[id(d)] = "|".join(rules.match(d))
        codes.append(done[id(d)])
    return df.assign(**{S.CODES: codes})


def previous(rules: CodeRules | None, store, period: str | None, seg_cfg: SegmentConfig) -> list[str] | None:
    """The codes of last period's comments (read from the history, the same rules applied now), for the
    codes' trend; None without rules, history or a previous period."""
    if rules is None or store is None or not period:
        return None
    items = store.previous_items(period, [S.TEXT, "n_rows"])
    if items is None or not len(items) or S.TEXT not in items.columns:
        return None
    segmenter = Segmenter(seg_cfg.split_clauses, seg_cfg.min_clause_chars)
    texts = [normalize(str(t)) for t in items[S.TEXT]]
    matched = ["|".join(rules.match(segmenter(d))) for d in stage_nlp().pipe(texts, batch_size=256)]
    return [m for m, k in zip(matched, items["n_rows"]) for _ in range(int(k))]  # one entry per comment
