import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from vocnlp.config import SegmentConfig
from vocnlp.japanese import analyse, split
from vocnlp.nlp import make_nlp, stage_nlp
from vocnlp.text import normalize


def test_tokens_carry_readable_lemma_upos_and_unidic_tag():
    doc = stage_nlp()("アプリを更新してから悪くはないけど困る")
    by_text = {t.text: t for t in doc}
    assert by_text["し"].lemma_ == "する" and by_text["し"].norm_ == "為る"  # readable lemma, UniDic lemma as norm
    assert by_text["ない"].lemma_ == "ない" and by_text["ない"].norm_ == "無い"
    assert by_text["アプリ"].pos_ == "NOUN" and by_text["アプリ"].tag_ == "名詞-普通名詞-一般"
    assert by_text["悪く"].pos_ == "ADJ" and by_text["悪く"].lemma_ == "悪い"
    assert by_text["困る"].pos_ == "VERB"
    assert not any("-" in t.lemma_ and t.lemma_[0].isalpha() for t in doc)  # no unidic glosses


def test_doc_text_is_the_input_exactly_whitespace_included():
    nlp = stage_nlp()
    for text in ["  前後に空白  ", "配送 遅い\n\n次の文", "", " ", "abc def", "全角　空白"]:
        doc = nlp(text)
        assert doc.text == text
    doc = nlp("配送  遅い")
    assert [t.pos_ for t in doc if t.text.isspace()] == ["SPACE"]


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("あいかがけどした。、！？!?\n 　配送遅いソファ😊ｱ１2abc\t")), max_size=60))
def test_doc_text_round_trips(s):
    assert stage_nlp()(s).text == s


def test_segmenter_sets_sents_and_segment_spans_like_split():
    nlp = make_nlp()
    nlp.add_pipe("vocnlp_segmenter")
    text = normalize("配送は早かった。ただ、箱が潰れてた!最悪😡 対応は丁寧でしたが、結局解決しませんでした")
    doc = nlp(text)
    assert [s.text for s in doc.spans["segments"]] == split(text, analyse(text), SegmentConfig())
    assert [s.text for s in doc.sents][0] == "配送は早かった。"
    assert len(list(doc.sents)) >= 3


def test_normalising_tokenizer_for_raw_text():
    doc = make_nlp(normalize=True)("ｱﾌﾟﾘが落ちる！！！！！")
    assert doc.text == normalize("ｱﾌﾟﾘが落ちる！！！！！") and doc[0].text == "アプリ"


def test_no_sudachipy_and_no_torch_imported():
    code = ("import sys; import vocnlp.nlp as n; n.stage_nlp()('配送が遅い'); "
            "print('sudachipy' in sys.modules, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]


def test_tokenize_and_segment_stages_share_one_doc_per_distinct_text():
    import pandas as pd

    from vocnlp import schema as S
    from vocnlp.config import TokenizeConfig, resolve_resource
    from vocnlp.stages import segment, tokenize

    texts = ["配送が遅い。でも店員は親切", "特になし", "配送が遅い。でも店員は親切", "アプリが落ちる"]
    df = pd.DataFrame({S.TEXT_NORM: texts, S.STATUS: ["ok", "non_answer", "ok", "ok"]})
    out = segment.run(tokenize.run(df, TokenizeConfig(), resolve_resource("builtin:stopwords_ja.txt")), SegmentConfig())
    docs = out[S.DOCS].tolist()
    assert docs[0] is docs[2] and docs[1] is None and docs[3].text == "アプリが落ちる"
    assert out[S.TOKENS][0] == out[S.TOKENS][2] and out[S.TOKENS][0] is not out[S.TOKENS][2]
    assert out[S.TOKENS][1] == [] and out[S.SEGMENTS][1] == []
    assert out[S.SEGMENTS][0] == out[S.SEGMENTS][2] == split(texts[0], analyse(texts[0]), SegmentConfig())
