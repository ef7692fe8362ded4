"""Normalise text, mask PII, and decide which rows are analysed (``status``).

Requires: the text column named in the ingest result. Adds: S.TEXT_RAW, S.TEXT_NORM, S.TEXT (display
text, PII-masked when privacy.mask_pii), S.STATUS, S.PII_COUNT, S.IS_DUPLICATE (an analysed row whose exact text
an earlier row of the run already had: still analysed, so every copy keeps its topic and sentiment, but
flagged and counted so a pasted-in-twice export is visible).
"""

from __future__ import annotations

import re
from collections import Counter

import pandas as pd

from .. import schema as S
from ..config import CleanConfig, PrivacyConfig
from ..text import bare, has_content, mask_pii, normalize

# what spreadsheets and scripts write for a missing value: an empty cell, not a comment
MISSING_MARKERS = frozenset({"nan", "null", "#n/a", "<na>", "nat", "#null!", "undefined"})
# whitespace and invisible format characters (zero-width space, joiners, BOM, direction marks)
_INVISIBLE = re.compile(r"[\s\u00ad\u180e\u200b-\u200f\u2028-\u202f\u205f-\u206f\ufeff]+")


def is_empty(raw: str) -> bool:
    """True for an empty, whitespace-only or invisible-only cell, and for missing-value markers (NaN, #N/A)."""
    visible = _INVISIBLE.sub("", raw)
    return not visible or visible.casefold() in MISSING_MARKERS


def row_status(norm: str, raw: str, cfg: CleanConfig, non_answers: frozenset[str]) -> str:
    if is_empty(raw):
        return S.STATUS_EMPTY
    if not has_content(norm):
        return S.STATUS_NO_CONTENT
    b = bare(norm)
    if b and b in non_answers:  # '' (from a non-answer such as 「-」) must not swallow emoji-only comments
        return S.STATUS_NON_ANSWER
    if len(b) < cfg.min_chars and not any(ord(ch) > 0x2000 for ch in norm if not ch.isascii()):
        return S.STATUS_TOO_SHORT
    if len(norm.replace(" ", "")) < cfg.min_chars:
        return S.STATUS_TOO_SHORT
    return S.STATUS_OK


def model_text(raw: str, cfg: CleanConfig, privacy: PrivacyConfig) -> tuple[str, Counter[str]]:
    """The text the models see: normalised, cut at ``clean.max_chars``, PII-masked when enabled.

    The one text preparation for a run and for training (``vocnlp.training.prepared_texts``), so a
    model is trained on exactly what it is later asked about. Returns the text and the PII counts."""
    norm = normalize(raw[: cfg.max_chars * 4], collapse_repeats=cfg.collapse_repeats, strip_urls=cfg.strip_urls)
    norm = norm[: cfg.max_chars]
    if not privacy.mask_pii:
        return norm, Counter()
    return mask_pii(norm, privacy.kinds)


def run(df: pd.DataFrame, text_column: str, cfg: CleanConfig, privacy: PrivacyConfig) -> tuple[pd.DataFrame, Counter[str]]:
    """Returns the frame with the columns above and the PII counts by kind."""
    S.require(df, [text_column], "clean", {text_column: "ingest"})
    non_answers = frozenset(bare(normalize(x)) for x in cfg.non_answers)
    raw = df[text_column].tolist()  # ingest's strings: a repeated comment is one string object, kept shared
    if not all(type(v) is str for v in raw):
        raw = df[text_column].astype(str).tolist()
    norms, displays, statuses, pii_counts, duplicates = [], [], [], [], []
    totals: Counter[str] = Counter()
    seen: dict[str, tuple[str, str, str, int, Counter[str] | None]] = {}  # identical texts are cleaned once
    for text in raw:
        hit = seen.get(text)
        if hit is not None:
            norm, display, status, n_pii, counts = hit
            if counts:
                totals.update(counts)
            statuses.append(status)
            norms.append(norm)
            displays.append(display)
            pii_counts.append(n_pii)
            duplicates.append(status == S.STATUS_OK)
            continue
        norm, counts = model_text(text, cfg, privacy)
        display = text
        n_pii = 0
        if counts:
            n_pii = sum(counts.values())
            totals.update(counts)
            display, _ = mask_pii(text, privacy.kinds)
            if sum(_.values()) < n_pii:  # the raw form hid a pattern (全角 digits ...): show the normalised form
                display = norm
        status = row_status(norm, text, cfg, non_answers)
        seen[text] = (norm, display, status, n_pii, counts)
        statuses.append(status)
        norms.append(norm)
        displays.append(display)
        pii_counts.append(n_pii)
        duplicates.append(False)
    # the text columns as objects: the rows of one text share its strings (pandas' own string dtype would copy
    # every row's text: 150 MB at a million rows, and again in every copy of the column a later stage takes)
    shared = {S.TEXT_RAW: raw, S.TEXT_NORM: norms}
    out = df.assign(**{k: pd.Series(v, index=df.index, dtype=object) for k, v in shared.items()},
                    **{S.STATUS: statuses, S.PII_COUNT: pii_counts, S.IS_DUPLICATE: duplicates})
    out[S.TEXT] = pd.Series(displays, index=df.index, dtype=object)
    return out, totals
