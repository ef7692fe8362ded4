from hypothesis import given, settings
from hypothesis import strategies as st

from vocnlp.config import SegmentConfig, resolve_resource
from vocnlp.japanese import analyse, content_words, load_stopwords, split
from vocnlp.text import normalize

STOP = load_stopwords(str(resolve_resource("builtin:stopwords_ja.txt")))
POS = ("名詞", "動詞", "形容詞", "形状詞")


def segs(text):
    t = normalize(text)
    return split(t, analyse(t), SegmentConfig())


def test_contrast_splits_into_clauses():
    assert segs("対応は丁寧でしたが、結局解決しませんでした") == ["対応は丁寧でしたが、", "結局解決しませんでした"]
    assert segs("悪くはないけど、期待したほどではない") == ["悪くはないけど、", "期待したほどではない"]


def test_sentences_split_and_slivers_merge():
    out = segs("配送は早かった。ただ、箱が潰れてた!最悪😡")
    assert out[0] == "配送は早かった。"
    assert "".join(out) == normalize("配送は早かった。ただ、箱が潰れてた!最悪😡")


def test_content_words_are_readable_base_forms():
    words = content_words(analyse("アプリを更新してから会員バーコードが表示されず、エグゾーストみたいでした"), POS, STOP)
    assert "会員バーコード" in words  # noun compound
    assert "為る" not in words and "する" not in words
    assert not any("-" in w for w in words)  # no unidic glosses (エグゾースト-exhaust)
    assert "エグゾースト" in words


jp_text = st.text(alphabet=st.sampled_from(list("あいうえおかがけどしたでは。、！？!?\n 配送遅いソファ😊ｱｲｳ１２３abc")), max_size=80)


@settings(max_examples=300, deadline=None)
@given(jp_text)
def test_segments_cover_the_text(s):
    t = normalize(s)
    out = split(t, analyse(t), SegmentConfig())
    assert "".join(out).replace(" ", "") == t.replace(" ", "") or (not t.strip() and out == [])


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_tokenizer_never_crashes_and_offsets_are_valid(s):
    t = normalize(s)
    morphs = analyse(t)
    for m in morphs:
        assert t[m.start : m.start + len(m.surface)] == m.surface
