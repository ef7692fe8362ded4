"""Analyst codes: the rules file, what its patterns match, its validation, and the codes table."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from vocnlp import schema as S
from vocnlp.errors import ConfigError
from vocnlp.nlp import stage_nlp
from vocnlp.nlp.codes import load_rules
from vocnlp.nlp.segmenter import Segmenter
from vocnlp.stages import codes as codes_stage
from vocnlp.stages import insights
from vocnlp.text import normalize

ROOT = Path(__file__).resolve().parents[2]

RULES = """\
codes:
  配送遅延:
    description: 配送が遅い
    patterns:
      - 配送|配達 … 遅い|遅れる
    phrases: [届くのが遅い]
  バーコード:
    patterns: [会員 バーコード, 会員証 … 表示/VERB]
  形容詞ほめ:
    patterns:
      - [{LEMMA: 店員}, {OP: "*"}, {LEMMA: 親切}]
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "codes.yaml"
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def coded(rules, text: str) -> list[str]:
    doc = Segmenter()(stage_nlp()(normalize(text)))
    return rules.match(doc)


def test_shorthand_matches_lemmas_within_a_sentence(tmp_path):
    rules = load_rules(write(tmp_path, RULES))
    assert coded(rules, "配送がとても遅かった") == ["配送遅延"]  # 遅かった -> lemma 遅い
    assert coded(rules, "配達が二日も遅れました") == ["配送遅延"]
    assert coded(rules, "配送は早かった。レジは遅い") == []  # … stays inside one sentence
    assert coded(rules, "遅い配送") == []  # order matters


def test_phrases_match_lemma_by_lemma_and_codes_keep_file_order(tmp_path):
    rules = load_rules(write(tmp_path, RULES))
    assert coded(rules, "荷物が届くのが遅かったです") == ["配送遅延"]
    doc = Segmenter()(stage_nlp()("店員さんが親切。会員バーコードが表示されない。配送も遅い"))
    assert rules.match(doc) == ["配送遅延", "バーコード", "形容詞ほめ"]
    assert doc._.codes == ["配送遅延", "バーコード", "形容詞ほめ"]
    assert {s.label_ for s in doc.spans["codes"]} == {"配送遅延", "バーコード", "形容詞ほめ"}
    assert any(s.text.startswith("会員バー") for s in doc.spans["codes"])  # バーコード = バー + コード, matched as one word


def test_pos_constraint(tmp_path):
    rules = load_rules(write(tmp_path, RULES))
    assert "バーコード" in coded(rules, "会員証が表示されない")  # 表示 is VERB before する
    assert "バーコード" not in coded(rules, "会員証の表示")  # 表示 as a noun


@pytest.mark.parametrize("body, names", [
    ("codes:\n  配送遅延:\n    patterns:\n      - [{LEMA: 配送}]\n", ["配送遅延", "pattern 1", "LEMA"]),
    ("codes:\n  品質:\n    patterns: [良い, 不良/NOUNS]\n", ["品質", "pattern 2", "NOUNS"]),
    ("codes:\n  品質:\n    patterns: [[{POS: ADJECTIVE}]]\n", ["品質", "ADJECTIVE"]),
    ("codes:\n  配送:\n    patterns: [… 遅い]\n", ["配送", "pattern 1", "between two words"]),
    ("codes:\n  配送:\n    description: x\n", ["配送", "no patterns"]),
    ("codes:\n  配送:\n    pattern: [遅い]\n", ["配送", "unknown key", "pattern"]),
    ("codes:\n  配送:\n    patterns: [42]\n", ["配送", "pattern 1"]),
    ("rules:\n  配送: [遅い]\n", ["codes:"]),
    ("codes:\n  配送: [遅い\n", ["not valid YAML"]),
])
def test_bad_rules_name_the_code_the_pattern_and_the_fix(tmp_path, body, names):
    with pytest.raises(ConfigError) as err:
        load_rules(write(tmp_path, body))
    message = str(err.value)
    assert message.startswith("[E200]") and "Fix:" in message and "\n" not in message
    for name in names:
        assert name in message


def test_missing_rules_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_rules(tmp_path / "nope.yaml")


def test_example_rules_file_loads_and_codes_the_sample():
    rules = load_rules(ROOT / "configs" / "codes.example.yaml")
    assert len(rules.codes) >= 5
    assert coded(rules, "アプリを更新したら会員バーコードが出ない") == ["アプリ・ログイン"]
    assert coded(rules, "ベッドの配送予定日に来ませんでした") == ["配送遅延"]


def _frame(texts, statuses=None, labels=None, scores=None):
    n = len(texts)
    df = pd.DataFrame({S.ID: [str(i + 1) for i in range(n)], S.TEXT_NORM: [normalize(t) for t in texts],
                       S.STATUS: statuses or [S.STATUS_OK] * n})
    df[S.DOCS] = [Segmenter()(stage_nlp()(t)) if st == S.STATUS_OK else None for t, st in zip(df[S.TEXT_NORM], df[S.STATUS])]
    df[S.SENTIMENT_LABEL] = labels or ["neutral"] * n
    df[S.SENTIMENT_SCORE] = scores or [0.0] * n
    return df


def test_codes_stage_and_table_with_trend(tmp_path):
    rules = load_rules(write(tmp_path, RULES))
    texts = ["配送が遅い"] * 30 + ["店員さんが親切"] * 10 + ["なし"]
    df = codes_stage.run(_frame(texts, [S.STATUS_OK] * 40 + ["non_answer"],
                                ["negative"] * 30 + ["positive"] * 10 + [""], [-0.8] * 30 + [0.7] * 10 + [float("nan")]),
                         rules)
    assert df[S.CODES].tolist() == ["配送遅延"] * 30 + ["形容詞ほめ"] * 10 + [""]
    previous = ["配送遅延"] * 3 + ["形容詞ほめ"] * 10 + [""] * 27  # last period: 3 of 40
    tab = insights.code_table(df, rules, previous).set_index("code")
    assert tab.loc["配送遅延", "count"] == 30 and tab.loc["配送遅延", "share"] == 0.75
    assert tab.loc["配送遅延", "negative_share"] == 1.0 and tab.loc["配送遅延", "trend"] == "↑"
    assert tab.loc["形容詞ほめ", "trend"] == "→" and tab.loc["バーコード", "count"] == 0
    assert list(tab.index) == ["配送遅延", "バーコード", "形容詞ほめ"]  # file order
    assert insights.code_table(df, rules, None)["trend"].isna().all()


def test_no_rules_gives_an_empty_codes_column():
    df = codes_stage.run(_frame(["配送が遅い"]), None)
    assert df[S.CODES].tolist() == [""]


def test_cli_bad_rules_file_exits_2_with_one_line(tmp_path):
    rules = write(tmp_path, "codes:\n  配送遅延:\n    patterns:\n      - [{LEMA: 配送}]\n")
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(f"codes: {{rules: {rules}}}\nhistory: {{enabled: false}}\n", encoding="utf-8")
    data = tmp_path / "in.csv"
    data.write_text("id,text\n1,配送が遅い\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "vocnlp.cli.main", "run", str(data), "--output", str(tmp_path / "out"),
                           "--config", str(cfg)], capture_output=True, text=True, cwd=tmp_path)
    lines = [ln for ln in (proc.stdout + proc.stderr).splitlines() if ln.strip()]
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1 and lines[0].startswith("error: [E200]")
    assert "配送遅延" in lines[0] and "pattern 1" in lines[0] and "Fix:" in lines[0]
    assert not (tmp_path / "out").exists()
