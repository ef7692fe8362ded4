"""Bad input through the real CLI (`vocnlp run`), with the fake embedder.

Every case ends in one of two ways (docs/hardening.md has the table):
- a complete run: items.csv holds exactly the input's rows in the input's order, and the manifest's
  counts add up (read == analysed + skipped_total == analysed + sum of the skipped-by-reason counts);
- exit code 2 with exactly one non-empty output line that says what is wrong and how to fix it
  ("Fix:"), no traceback, and no run folder.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from vocnlp.cli.main import app

runner = CliRunner()

CONFIG = """\
classify:
  cx_dimension: {{method: prototype, labels: "builtin:labels/cx_dimension.yaml"}}
  journey_stage: {{method: prototype, labels: "builtin:labels/journey_stage.yaml"}}
sentiment: {{method: lexicon}}
embed: {{cache_dir: "{cache}"}}
"""

JA = ["配送が遅くて困りました", "店員さんがとても親切でした", "アプリが重くてログインできない", "ポイントが付与されていません",
      "商品の品質に満足しています", "返品の手続きが分かりにくい"]


@dataclass
class Case:
    path: Path
    args: list[str] = field(default_factory=list)
    error: list[str] | None = None  # exit 2: words the one line must contain
    texts: list[str] | None = None  # success: items.text, row by row
    ids: list[str] | None = None  # success: items.id, row by row
    n: int | None = None  # success: number of rows (when texts/ids are not given)
    statuses: list[str] | None = None  # success: items.status, row by row
    warnings: set[str] = field(default_factory=set)  # success: warning codes that must be in the manifest
    encoding: str | None = None  # success: manifest input.encoding
    config: str = ""  # extra YAML


def _csv(path: Path, df: pd.DataFrame, **kw) -> Path:
    df.to_csv(path, index=False, **kw)
    return path


def _frame(texts: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"id": [f"c{i + 1}" for i in range(len(texts))], "text": texts})


# -- the cases ------------------------------------------------------------------------------------


def missing_file(tmp: Path) -> Case:
    """a path that does not exist"""
    return Case(tmp / "no_such_file.csv", error=["does not exist"])


def unknown_extension(tmp: Path) -> Case:
    """a .docx file"""
    p = tmp / "notes.docx"
    p.write_bytes(b"PK\x03\x04 not really a document")
    return Case(p, error=["unsupported file type '.docx'", ".csv"])


def empty_zero_bytes(tmp: Path) -> Case:
    """a 0-byte .csv"""
    p = tmp / "empty.csv"
    p.write_bytes(b"")
    return Case(p, error=["empty (0 bytes)"])


def header_only(tmp: Path) -> Case:
    """`id,text` and no rows"""
    p = tmp / "header.csv"
    p.write_text("id,text\n", encoding="utf-8")
    return Case(p, texts=[], warnings={"W104"})


def missing_text_column(tmp: Path) -> Case:
    """columns 番号, 点数 only (nothing to guess)"""
    p = _csv(tmp / "numbers.csv", pd.DataFrame({"番号": [1, 2], "点数": [3, 4]}))
    return Case(p, error=["no text column", "'番号'", "'点数'", "--text-column"])


def misspelt_text_column(tmp: Path) -> Case:
    """columns id, コメント, nps; `--text-column コメソト`"""
    p = _csv(tmp / "survey.csv", pd.DataFrame({"id": ["a", "b"], "コメント": JA[:2], "nps": [3, 9]}))
    return Case(p, args=["--text-column", "コメソト"],
                error=["'コメソト' not found", "did you mean 'コメント'", "'id'", "'コメント'", "'nps'", "--text-column"])


def cp932_file(tmp: Path) -> Case:
    """CP932 (Excel on Japanese Windows), with ①㈱ and ｽﾀｯﾌ"""
    texts = JA + ["①番の窓口で㈱みどりの方に対応いただきました", "ｽﾀｯﾌの説明が丁寧でした"]
    p = _csv(tmp / "cp932.csv", _frame(texts), encoding="cp932")
    return Case(p, texts=texts, encoding="cp932")


def utf8_bom_file(tmp: Path) -> Case:
    """UTF-8 with BOM, text as the first column"""
    texts = JA[:4]
    p = _csv(tmp / "bom.csv", pd.DataFrame({"text": texts, "id": ["x1", "x2", "x3", "x4"]}), encoding="utf-8-sig")
    return Case(p, texts=texts, ids=["x1", "x2", "x3", "x4"], encoding="utf-8-sig")


def euc_jp_file(tmp: Path) -> Case:
    """EUC-JP that CP932 also decodes without error (mojibake trap)"""
    # short EUC-JP that CP932 also decodes without an error (as ｱ-style half-width kana and rare kanji):
    # the decoder must pick EUC-JP because only that reading is ordinary Japanese
    texts = ["おまけ", "いい"]
    raw = ("id,text\n" + "".join(f"{i + 1},{t}\n" for i, t in enumerate(texts))).encode("euc_jp")
    raw.decode("cp932")  # the trap is real
    p = tmp / "euc.csv"
    p.write_bytes(raw)
    return Case(p, texts=texts, encoding="euc_jp")


def mostly_ascii_few_cp932_bytes(tmp: Path) -> Case:
    """20 ASCII rows + one CP932 Japanese row"""
    # 20 rows: fewer than topics.min_docs_for_clustering, see english_only_week for why that matters
    texts = [f"order {i} arrived on time, thanks" for i in range(20)] + ["東京店の対応が良かった"]
    p = _csv(tmp / "mostly_ascii.csv", _frame(texts), encoding="cp932")
    return Case(p, texts=texts, encoding="cp932")


def latin1_file(tmp: Path) -> Case:
    """Latin-1 French/German text"""
    texts = ["Très bon café, service rapide", "Die Lieferung war pünktlich", "Crème brûlée délicieuse"]
    p = _csv(tmp / "latin1.csv", _frame(texts), encoding="latin-1")
    return Case(p, error=["encoding", "not UTF-8", "input.encoding"])


def utf8_with_one_cp932_line(tmp: Path) -> Case:
    """UTF-8 file with one line pasted in CP932"""
    p = tmp / "mixed.csv"
    body = "id,text\n" + "".join(f"{i + 1},{JA[i % len(JA)]}\n" for i in range(40))
    p.write_bytes(body.encode("utf-8") + "41,店員さんが親切でした\n".encode("cp932"))
    return Case(p, error=["UTF-8 except", "line 42"])


def xlsx_several_sheets(tmp: Path) -> Case:
    """XLSX: README, 回答 (ご意見・ご感想), 集計 sheets"""
    p = tmp / "book.xlsx"
    texts = JA + ["特になし"]
    with pd.ExcelWriter(p) as xw:
        pd.DataFrame({"説明": ["このブックについて", "集計は別シート"]}).to_excel(xw, sheet_name="README", index=False)
        pd.DataFrame({"回答ID": range(1, 8), "ご意見・ご感想": texts, "nps": [3, 9, 2, 1, 10, 4, 7]}).to_excel(
            xw, sheet_name="回答", index=False)
        pd.DataFrame({"月": ["10月"], "件数": [7]}).to_excel(xw, sheet_name="集計", index=False)
    return Case(p, texts=texts, warnings={"W101"}, statuses=["ok"] * 6 + ["non_answer"])


def empty_whitespace_nan_text(tmp: Path) -> Case:
    """'', spaces, 全角 spaces, zero-width space, NaN, nan, #N/A, null, one comment"""
    texts = ["", "   ", "\u3000\u3000", "\u200b", "NaN", "nan", "#N/A", "null", JA[0]]
    p = tmp / "blanks.csv"
    p.write_text("id,text\n" + "".join(f"e{i + 1},{t}\n" for i, t in enumerate(texts)), encoding="utf-8")
    return Case(p, ids=[f"e{i + 1}" for i in range(len(texts))], statuses=["empty"] * 8 + ["ok"])


def jsonl_null_and_missing_text(tmp: Path) -> Case:
    """JSONL: text null, key missing, NaN, a comment, a number"""
    rows = [{"id": 1, "text": None}, {"id": 2}, {"id": 3, "text": float("nan")}, {"id": 4, "text": JA[1]},
            {"id": 5, "text": 12345}]
    p = tmp / "nulls.jsonl"
    p.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return Case(p, ids=["1", "2", "3", "4", "5"], statuses=["empty", "empty", "empty", "ok", "ok"])


def one_huge_text(tmp: Path) -> Case:
    """three rows, the middle one a 1,000,000-character text"""
    huge = ("配送が遅くて困りました。" * 90_000)[:1_000_000]
    texts = [JA[1], huge, JA[2]]
    p = _csv(tmp / "huge.csv", _frame(texts))
    return Case(p, texts=texts, statuses=["ok", "ok", "ok"])


def binary_garbage_named_csv(tmp: Path) -> Case:
    """50 kB of random bytes named .csv"""
    p = tmp / "garbage.csv"
    p.write_bytes(random.Random(7).randbytes(50_000))
    return Case(p, error=["binary"])


def duplicate_ids(tmp: Path) -> Case:
    """ids a, a, b, a, c, b"""
    ids = ["a", "a", "b", "a", "c", "b"]
    p = _csv(tmp / "dups.csv", pd.DataFrame({"id": ids, "text": JA}))
    return Case(p, ids=ids, texts=JA, warnings={"W105"})


def very_short_texts(tmp: Path) -> Case:
    """なし, 特になし, a, -, 特になし。, ない, 良い"""
    texts = ["なし", "特になし", "a", "-", "特になし。", "ない", "良い"]
    p = _csv(tmp / "short.csv", _frame(texts))
    return Case(p, texts=texts,
                statuses=["non_answer", "non_answer", "too_short", "no_content", "non_answer", "non_answer", "ok"])


def english_and_mixed_language(tmp: Path) -> Case:
    """English, Japanese-English, Spanish, Korean, Chinese rows"""
    texts = ["The delivery was late and the box was damaged", "Great staff, very helpful!",
             "アプリのlogin画面がfreezeします", "Wi-Fiが遅い and the app crashes", "Muy buen servicio, gracias",
             "서비스가 좋았어요", "快递太慢了"]
    p = _csv(tmp / "mixed.csv", _frame(texts))
    return Case(p, texts=texts, statuses=["ok"] * len(texts))


def english_only_week(tmp: Path) -> Case:
    """40 English-only comments (no Japanese content words)"""
    texts = ["The delivery was late", "Great staff, very helpful", "The app crashes on login", "Prices are too high"] * 10
    p = _csv(tmp / "english.csv", _frame(texts))
    return Case(p, texts=texts, statuses=["ok"] * len(texts))


def hankaku_and_platform_chars(tmp: Path) -> Case:
    """ﾊﾝｶｸ, ①②③, ㈱, ㌔, 髙/﨑"""
    texts = ["ﾊﾝｶｸｶﾅで書きました", "①配送②梱包③対応すべて不満", "㈱みどり生活の対応", "㌔単位で送料が高い",
             "ｽﾀｯﾌの対応が良かったです", "髙島屋店と﨑の字も使えます"]
    p = _csv(tmp / "hankaku.csv", _frame(texts))
    return Case(p, texts=texts, statuses=["ok"] * len(texts))


def emoji_only_rows(tmp: Path) -> Case:
    """😊😊, 😡😡😡, 👍, 🙏🙏, 👍️, 💯🎉"""
    texts = ["😊😊", "😡😡😡", "👍", "🙏🙏", "👍️", "💯🎉"]
    p = _csv(tmp / "emoji.csv", _frame(texts))
    return Case(p, texts=texts, statuses=["ok", "ok", "too_short", "ok", "ok", "ok"])


def one_row(tmp: Path) -> Case:
    """one comment"""
    p = _csv(tmp / "one.csv", _frame(JA[:1]))
    return Case(p, texts=JA[:1], statuses=["ok"], warnings={"W201"})


def two_rows(tmp: Path) -> Case:
    """two comments"""
    p = _csv(tmp / "two.csv", _frame(JA[:2]))
    return Case(p, texts=JA[:2], statuses=["ok", "ok"], warnings={"W201"})


def rows_100k(tmp: Path) -> Case:
    """100,000 rows (every 97th empty, なし or 😊)"""
    subjects = ["配送", "アプリ", "ポイント", "店員", "商品", "返品", "レジ", "会員証", "駐車場", "サイト"]
    preds = ["が遅い", "が良かった", "が分かりにくい", "に満足", "が壊れていた", "が便利です", "で困った", "が丁寧でした"]
    texts = [f"{subjects[i % 10]}{preds[(i // 10) % 8]}（{i % 997}件目）" for i in range(100_000)]
    for i in range(0, 100_000, 97):
        texts[i] = ["", "なし", "😊"][i % 3]
    ids = [f"r{i}" for i in range(100_000)]
    p = _csv(tmp / "big.csv", pd.DataFrame({"id": ids, "text": texts}))
    return Case(p, ids=ids)  # the real topic stage: it clusters a sample above topics.max_cluster_docs


def jsonl_broken_line(tmp: Path) -> Case:
    """JSONL whose line 2 is cut off"""
    p = tmp / "broken.jsonl"
    p.write_text('{"id": 1, "text": "配送が遅い"}\n{"id": 2, "text": "途中で切れた\n{"id": 3, "text": "良かった"}\n',
                 encoding="utf-8")
    return Case(p, error=["line 2", "JSON"])


def csv_quoted_newlines_and_commas(tmp: Path) -> Case:
    """quoted fields with line breaks (LF and CRLF), commas and quotes"""
    texts = ["一行目です。\n二行目に、カンマ, も入っています", "引用符 \"quoted\" も, あります", "普通のコメントです",
             "改行だけ\r\nWindows式"]
    p = _csv(tmp / "multiline.csv", _frame(texts))
    return Case(p, texts=texts, statuses=["ok"] * 4)


def tsv_named_csv(tmp: Path) -> Case:
    """tab-separated file named .csv"""
    p = _csv(tmp / "actually_tab.csv", _frame(JA[:3]), sep="\t")
    return Case(p, texts=JA[:3], warnings={"W106"})


def utf16_tab_text(tmp: Path) -> Case:  # Excel "Unicode Text" (.txt): UTF-16 with BOM, tab-separated
    """Excel 'Unicode Text': UTF-16 with BOM, tab-separated, .txt"""
    p = _csv(tmp / "unicode.txt", _frame(JA[:3]), sep="\t", encoding="utf-16")
    return Case(p, texts=JA[:3], encoding="utf-16")


def more_fields_than_header(tmp: Path) -> Case:
    """an unquoted comma in a text (3 fields under a 2-field header)"""
    # a comma inside an unquoted text: pandas' default would shift every column silently
    p = tmp / "unquoted.csv"
    p.write_text("id,text\n1,配送が遅い\n2,店員さん、親切,でした\n", encoding="utf-8")
    return Case(p, error=["not a well-formed CSV", "line 3", "quote"])


def blank_lines_are_rows(tmp: Path) -> Case:
    """one-column CSV with blank lines before, inside and after the rows"""
    p = tmp / "one_column.csv"  # a one-column export writes an empty answer as an empty line
    p.write_text("\ntext\n配送が遅い\n\n店員さんが親切\n\n\n", encoding="utf-8")
    return Case(p, texts=["配送が遅い", "", "店員さんが親切"], statuses=["ok", "empty", "ok"])


def text_column_other_case(tmp: Path) -> Case:
    """columns ID, Text (not id, text)"""
    p = _csv(tmp / "upper.csv", pd.DataFrame({"ID": ["1", "2"], "Text": JA[:2]}))
    return Case(p, texts=JA[:2], ids=["1", "2"], warnings={"W103"})


def csv_named_xlsx(tmp: Path) -> Case:
    """a CSV file renamed to .xlsx"""
    p = tmp / "renamed.xlsx"
    _frame(JA[:2]).to_csv(p, index=False)
    return Case(p, error=["not a readable XLSX file", "save it again as .xlsx"])


def excel_sep_line(tmp: Path) -> Case:
    """semicolon-separated with Excel's `sep=;` first line"""
    p = tmp / "semicolon.csv"
    p.write_text("sep=;\nid;text\n1;配送が遅い, とても\n2;店員さんが親切\n", encoding="utf-8")
    return Case(p, texts=["配送が遅い, とても", "店員さんが親切"], ids=["1", "2"])


def internal_column_name(tmp: Path) -> Case:
    """an input column named `_row` (vocnlp's internal row number)"""
    p = _csv(tmp / "internal.csv", pd.DataFrame({"id": ["a", "b"], "text": JA[:2], "_row": ["7", "8"]}))
    return Case(p, texts=JA[:2], warnings={"W107"})


CASES = {f.__name__: f for f in [
    missing_file, unknown_extension, empty_zero_bytes, header_only, missing_text_column, misspelt_text_column,
    cp932_file, utf8_bom_file, euc_jp_file, mostly_ascii_few_cp932_bytes, latin1_file, utf8_with_one_cp932_line,
    xlsx_several_sheets, empty_whitespace_nan_text, jsonl_null_and_missing_text, one_huge_text,
    binary_garbage_named_csv, duplicate_ids, very_short_texts, english_and_mixed_language, english_only_week, hankaku_and_platform_chars,
    emoji_only_rows, one_row, two_rows, rows_100k, jsonl_broken_line, csv_quoted_newlines_and_commas, tsv_named_csv,
    utf16_tab_text, more_fields_than_header, blank_lines_are_rows, text_column_other_case, csv_named_xlsx,
    excel_sep_line, internal_column_name,
]}


def _unformula(text: str) -> str:
    """items.csv prefixes text that a spreadsheet would run as a formula with an apostrophe."""
    return text[1:] if text.startswith("'") and text[1:2] in ("=", "+", "-", "@", "\t", "\r") else text


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input(name, tmp_path, monkeypatch, use_fake_embedder):
    monkeypatch.chdir(tmp_path)  # nothing a run writes next to the current folder lands in the repository
    monkeypatch.delenv("VOCNLP_PROGRESS", raising=False)
    case = CASES[name](tmp_path)
    cfg = tmp_path / "config.yaml"
    cfg.write_text(CONFIG.format(cache=(tmp_path / "cache").as_posix()) + case.config, encoding="utf-8")
    out = tmp_path / "run"
    result = runner.invoke(app, ["run", str(case.path), "--output", str(out), "--config", str(cfg), *case.args])
    assert "Traceback" not in result.output, result.output

    if case.error is not None:
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert result.exit_code == 2, result.output
        assert len(lines) == 1, result.output
        assert lines[0].startswith("error: [E") and "Fix:" in lines[0], lines[0]
        for needle in case.error:
            assert needle in lines[0], (needle, lines[0])
        assert not out.exists()
        return

    assert result.exit_code == 0, result.output
    items = pd.read_csv(out / "items.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    n = len(case.texts) if case.texts is not None else len(case.ids) if case.ids is not None else case.n
    assert len(items) == n
    assert items["row"].tolist() == [str(i) for i in range(1, n + 1)]  # every row, in input order
    if case.texts is not None:
        assert [_unformula(t) for t in items["text"]] == case.texts
    if case.ids is not None:
        assert items["id"].tolist() == case.ids
    if case.statuses is not None:
        assert items["status"].tolist() == case.statuses
    c = manifest["counts"]
    assert c["read"] == n == c["analysed"] + c["skipped_total"] == c["analysed"] + sum(c["skipped"].values())
    assert (items["status"] == "ok").sum() == c["analysed"]
    assert items["status"][items["status"] != "ok"].value_counts().to_dict() == c["skipped"]
    assert (items.loc[items["status"] != "ok", "topic_id"] == "-1").all()
    assert case.warnings <= {w["code"] for w in manifest["warnings"]}, manifest["warnings"]
    if case.encoding is not None:
        assert manifest["input"]["encoding"] == case.encoding
    if name == "internal_column_name":
        assert items["input_row"].tolist() == ["7", "8"]  # passed through under a new name
