"""Property-based tests: readers fail only with InputError, text handling never crashes or loses a row.

Hypothesis explores random bytes, CSV-ish / TSV-ish / JSONL-ish text in several encodings, and random
Unicode (all planes, control and format characters, combining marks). Kept under ~60 s in total.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from vocnlp import schema as S
from vocnlp.config import CleanConfig, InputConfig, PrivacyConfig
from vocnlp.errors import InputError
from vocnlp.stages import clean
from vocnlp.stages.ingest import read_input
from vocnlp.text import bare, has_content, mask_pii, normalize

FUZZ = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SUFFIXES = st.sampled_from([".csv", ".tsv", ".jsonl", ".txt"])
STATUSES = {S.STATUS_OK, S.STATUS_EMPTY, S.STATUS_NO_CONTENT, S.STATUS_TOO_SHORT, S.STATUS_NON_ANSWER}


def _read(data: bytes, suffix: str, cfg: InputConfig | None = None):
    """read_input on a file holding ``data``: returns the result, or None when it raised InputError."""
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / f"in{suffix}"
        p.write_bytes(data)
        try:
            res = read_input(p, cfg or InputConfig(text_column="text"))
        except InputError as err:
            msg = str(err)
            assert msg.startswith("[E100]") and "Fix:" in msg and "\n" not in msg, msg
            return None
    # whatever was read is complete and well-formed
    df = res.frame
    assert df[S.ROW].tolist() == list(range(len(df)))
    assert res.text_column in df.columns
    for c in df.columns:
        if c != S.ROW:
            assert all(isinstance(v, str) for v in df[c]), c
            for v in df[c]:
                v.encode("utf-8")  # every value can be written out again
    return res


@FUZZ
@given(data=st.binary(max_size=3000), suffix=SUFFIXES)
@example(data=b"\xef\xbb\xbf", suffix=".csv")
@example(data=b"\xff\xfe", suffix=".tsv")
@example(data=b'"', suffix=".csv")
@example(data=b"\n\n\n", suffix=".csv")
@example(data=b"text\n\x00", suffix=".csv")
@example(data=b"[1, 2]", suffix=".jsonl")
@example(data=b'{"text": "\\ud800"}', suffix=".jsonl")
@example(data=b"[" * 5000, suffix=".jsonl")
def test_random_bytes_raise_only_input_error(data, suffix):
    _read(data, suffix)


# CSV-ish: the characters that make parsers trip, plus letters, Japanese and emoji
CSVISH = st.text(alphabet=st.sampled_from(list(',\t";\n\r \'\\=+-@#') + list("abcXYZ019") +
                                          list("配送が遅いｽﾀｯﾌ①㈱〜ー。、") + ["😊", "\u200b", "\ufeff", "\x00", "\x1a"]),
                 max_size=400)
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "cp932", "euc_jp", "utf-16", "latin-1"])


@FUZZ
@given(body=CSVISH, header=st.sampled_from(["text\n", "id,text\n", "id\ttext\n", '"text","id"\n', ""]),
       encoding=ENCODINGS, suffix=SUFFIXES)
def test_random_csvish_text_raises_only_input_error(body, header, encoding, suffix):
    try:
        data = (header + body).encode(encoding)
    except UnicodeEncodeError:
        data = (header + body).encode("utf-8")
    _read(data, suffix)


@FUZZ
@given(rows=st.lists(st.dictionaries(st.sampled_from(["id", "text", "nps", "コメント", ""]),
                                     st.one_of(st.none(), st.integers(), st.floats(), st.text(max_size=30),
                                               st.lists(st.integers(), max_size=3)), max_size=4), max_size=8),
       cut=st.integers(min_value=0, max_value=400), junk=st.sampled_from(["", "{", "}", "\n", "null", "[]", "\"x\""]))
def test_random_jsonl_raises_only_input_error(rows, cut, junk):
    lines = "\n".join(json.dumps(r, ensure_ascii=bool(cut % 2)) for r in rows)
    data = (lines[:cut] + junk + lines[cut:]).encode("utf-8")
    _read(data, ".jsonl")


# -- text functions and the clean stage ------------------------------------------------------------

ANY_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=300)  # every plane, no lone surrogates
PIECES = list("特になしない配送が遅い〜～~ーｰ！!？?。 　\n\t@.-0123456789０１２３４５６７８９") + [
    "様", "さん", "〒", "😊", "👍", "\u200b", "\u3000", "http://x.jp/a ", "090-1234-5678", "a@b.jp", "山田"]
JAPANESEISH = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)  # PII-like and non-answer-like pieces


@settings(max_examples=1000, deadline=None)
@given(text=st.one_of(ANY_TEXT, JAPANESEISH), repeats=st.integers(2, 6), urls=st.booleans())
def test_normalize_and_mask_never_crash(text, repeats, urls):
    norm = normalize(text, collapse_repeats=repeats, strip_urls=urls)
    assert isinstance(norm, str) and norm == norm.strip()
    masked, counts = mask_pii(norm, ["email", "phone", "postal", "card", "name"])
    assert isinstance(masked, str) and all(v > 0 for v in counts.values())
    has_content(masked)
    bare(masked)


@settings(max_examples=300, deadline=None)
@given(texts=st.lists(st.one_of(ANY_TEXT, JAPANESEISH, st.sampled_from(["", " ", "NaN", "なし", "特になし。", "-"])),
                      max_size=25),
       mask=st.booleans())
def test_clean_keeps_one_row_per_input_row(texts, mask):
    df = pd.DataFrame({"text": texts, S.ROW: range(len(texts))})
    out, totals = clean.run(df, "text", CleanConfig(), PrivacyConfig(mask_pii=mask))
    assert len(out) == len(texts)
    assert out[S.ROW].tolist() == list(range(len(texts)))  # same rows, same order
    assert out[S.TEXT_RAW].tolist() == texts  # the original is kept as read
    assert set(out[S.STATUS]) <= STATUSES
    for norm, status in zip(out[S.TEXT_NORM], out[S.STATUS]):
        assert isinstance(norm, str)
        if status == S.STATUS_OK:
            assert norm.strip()
    assert sum(out[S.PII_COUNT]) == sum(totals.values())
