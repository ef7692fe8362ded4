"""Japanese text handling shared by the stages: normalisation and PII masking.

Pure functions on strings, so they are easy to property-test. The original text is never
changed in place: callers keep it beside the normalised form.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

_URL = re.compile(r"https?://[^\s　<>\"']+|www\.[^\s　<>\"']+")
_WS = re.compile(r"[ \t\u3000\u00a0\u2000-\u200b]+")
_NL = re.compile(r"\s*[\r\n]+\s*")
_CTRL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_WAVE = str.maketrans({"〜": "ー", "～": "ー", "~": "ー"})  # 「すごい〜」 lengthening; NFKC leaves 〜 alone
_LETTER = re.compile(r"[\w\u3040-\u30ff\u4e00-\u9fff]")
_NOT_LETTER = re.compile(r"[^\w\u3040-\u30ff\u4e00-\u9fff]+")
_EMOJI = re.compile(
    "[\U0001f300-\U0001faff\u2600-\u27bf\U0001f000-\U0001f2ff\u2b50\u2b55\u203c\u2049\u3030\u303d\u3297\u3299]"
)


def normalize(text: str, *, collapse_repeats: int = 3, strip_urls: bool = True) -> str:
    """NFKC (full-width ASCII -> half-width, 半角カナ -> 全角), unified whitespace, bounded repeats.

    Line breaks become 「。」-free sentence breaks (a newline) so the segmenter can still see them.
    """
    if not text:
        return ""
    t = unicodedata.normalize("NFKC", text)
    t = _CTRL.sub("", t)
    if strip_urls:
        t = _URL.sub(" ", t)
    t = t.translate(_WAVE)
    t = _WS.sub(" ", t)  # before line breaks, so a zero-width space beside a newline cannot leave a space behind
    t = _NL.sub("\n", t)
    if collapse_repeats:
        n = collapse_repeats
        t = re.sub(r"([^\d])\1{%d,}" % n, lambda m: m.group(1) * n, t)
    return t.strip()


def has_content(text: str) -> bool:
    """True when the text has a letter, digit, kana, kanji or an emoji (emoji carry sentiment)."""
    return bool(_LETTER.search(text) or _EMOJI.search(text))


def clip(text: str, limit: int) -> str:
    """One line of at most ``limit`` characters, for quotes in reports and issue lists."""
    t = " ".join(str(text).split())
    return t if len(t) <= limit else t[: limit - 1] + "…"


def bare(text: str) -> str:
    """Lower-cased text without punctuation, spaces or emoji: used to match 「特になし。」 etc."""
    return _NOT_LETTER.sub("", text.lower())


# -- PII ----------------------------------------------------------------------------------------
# Patterns run on NFKC-normalised text, so 全角 digits and ＠ are already half-width here.
PII_PATTERNS: dict[str, re.Pattern[str]] = {
    "email": re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"),
    "card": re.compile(r"(?<!\d)(?:\d{4}[ \-]?){3}\d{1,4}(?!\d)"),
    "phone": re.compile(
        r"(?<![\d\-])(?:\+81[ \-]?)?(?:0\d{1,4}[ \-(]?\d{1,4}[ \-)]?\d{3,4}|0[5789]0\d{8}|0\d{9,10})(?![\d\-])"
    ),
    "postal": re.compile(r"(?:〒\s?\d{3}-?\d{4})|(?<![\d\-])\d{3}-\d{4}(?![\d\-])"),
    "name": re.compile(
        r"[\u4e00-\u9fff]{1,4}(?:[\u4e00-\u9fff\u3040-\u309f]{0,3})?\s?(?=(?:様|さま|さん|氏)(?![\u3040-\u309f]{0,1}[がのにをはでと]?る))"
        r"|[\u30a1-\u30fa\u30fc]{2,8}\s?(?=(?:様|さま|さん|氏))"
    ),
}
PII_TOKENS = {"email": "[メール]", "card": "[カード番号]", "phone": "[電話番号]", "postal": "[郵便番号]", "name": "[氏名]"}
# words that precede さん/様 but are not names (roles, places, things)
_NOT_NAMES = {
    "店員", "お客", "客", "担当", "担当者", "スタッフ", "配達員", "配送員", "運転手", "業者", "店長", "皆", "皆様", "お子",
    "子供", "子ども", "奥", "奥様", "旦那", "お母", "お父", "母", "父", "姉", "兄", "妹", "弟", "娘", "息子", "先生",
    "看護師", "先輩", "後輩", "隣", "近所", "常連", "ご家族", "家族", "お店", "店舗", "受付", "レジ", "ドライバー",
    "オペレーター", "美容師", "医師", "薬剤師", "大家", "管理人", "仲居", "女将", "職員", "係", "係員", "社員", "店舗様",
    "配送業者", "業者様", "神", "王", "お疲れ", "ご苦労", "お互い", "おばあ", "おじい", "おばあちゃん", "お嬢", "坊",
    "ママ", "パパ", "みな", "皆さん", "皆さま", "各位", "貴社", "御社", "取引先", "お隣", "人",
}


def mask_pii(text: str, kinds: list[str] | tuple[str, ...]) -> tuple[str, Counter[str]]:
    """Replace e-mail, card, phone, postal and honorific-marked names with placeholders.

    Card numbers run before phones (a 16-digit number is not a phone). Names are only masked when
    followed by 様/さん/氏 and not a role word (店員さん, 担当の方, お客様 stay), so precision wins over
    recall here: a missed name is better than a comment whose meaning is masked away.
    """
    counts: Counter[str] = Counter()
    for kind in ("email", "card", "phone", "postal", "name"):
        if kind not in kinds:
            continue
        pattern = PII_PATTERNS[kind]

        def _sub(m: re.Match[str], kind: str = kind) -> str:
            word = m.group(0).strip()
            if kind == "name" and (word in _NOT_NAMES or any(word.endswith(n) for n in _NOT_NAMES if len(n) > 1)):
                return m.group(0)
            counts[kind] += 1
            return PII_TOKENS[kind]

        text = pattern.sub(_sub, text)
    return text, counts
