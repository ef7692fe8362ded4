"""Normalise text, mask PII, and decide which rows are analysed (``status``).

Requires: the text column named in the ingest result. Adds: S.TEXT_RAW, S.TEXT_NORM, S.TEXT (display
text, PII-masked when privacy.mask_pii), S.STATUS, S.PII_COUNT.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd

from .. import schema as S
from ..config import CleanConfig, PrivacyConfig
from ..text import bare, has_content, mask_pii, normalize


def row_status(norm: str, raw: str, cfg: CleanConfig, non_answers: frozenset[str]) -> str:
    if not raw.strip():
        return S.STATUS_EMPTY
    if not has_content(norm):
        return S.STATUS_NO_CONTENT
    b = bare(norm)
    if b in non_answers:
        return S.STATUS_NON_ANSWER
    if len(b) < cfg.min_chars and not any(ord(ch) > 0x2000 for ch in norm if not ch.isascii()):
        return S.STATUS_TOO_SHORT
    if len(norm.replace(" ", "")) < cfg.min_chars:
        return S.STATUS_TOO_SHORT
    return S.STATUS_OK


def run(df: pd.DataFrame, text_column: str, cfg: CleanConfig, privacy: PrivacyConfig) -> tuple[pd.DataFrame, Counter[str]]:
    """Returns the frame with the columns above and the PII counts by kind."""
    S.require(df, [text_column], "clean", {text_column: "ingest"})
    non_answers = frozenset(bare(normalize(x)) for x in cfg.non_answers)
    raw = df[text_column].astype(str).tolist()
    norms, displays, statuses, pii_counts = [], [], [], []
    totals: Counter[str] = Counter()
    for text in raw:
        norm = normalize(text[: cfg.max_chars * 4], collapse_repeats=cfg.collapse_repeats, strip_urls=cfg.strip_urls)
        norm = norm[: cfg.max_chars]
        display = text
        n_pii = 0
        if privacy.mask_pii:
            norm, counts = mask_pii(norm, privacy.kinds)
            if counts:
                n_pii = sum(counts.values())
                totals.update(counts)
                display, _ = mask_pii(text, privacy.kinds)
                if sum(_.values()) < n_pii:  # the raw form hid a pattern (全角 digits ...): show the normalised form
                    display = norm
        statuses.append(row_status(norm, text, cfg, non_answers))
        norms.append(norm)
        displays.append(display)
        pii_counts.append(n_pii)
    out = df.assign(**{S.TEXT_RAW: raw, S.TEXT_NORM: norms, S.STATUS: statuses, S.PII_COUNT: pii_counts})
    out[S.TEXT] = displays
    return out, totals
