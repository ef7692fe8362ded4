"""Test inputs in the shape of real exports (column names, date formats, encodings, layouts of the tools
that write them). The comments are short hand-written test inputs, not training data; rows cycle through
them, so texts repeat."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd

APP_REVIEWS = [
    ("ログインできない", "アップデートしてからログイン画面から先に進めません。パスワードを再設定しても同じでした。"),
    ("最高", "ポイントが貯まりやすくて毎日開いています。"),
    ("Wi-Fiだと落ちる", "自宅のWi-Fiにつないでいるとホーム画面で固まって落ちます。モバイル通信だと平気。"),
    ("バーコードが出ない", "レジでバーコードを出そうとしたら真っ白で、後ろに並んでいた人に申し訳なかった。"),
    ("改善希望", "クーポンの一覧が見づらいです。期限が近い順に並べてほしい。"),
    ("便利", "PayPayで払えるようになって助かります。"),
    ("iPhoneで文字が小さい", "iPhone SEだと商品名が途中で切れて読めません。文字サイズの設定を反映してください。"),
    ("通知が多すぎ", "セールの通知が一日に何回も来るのでオフにしました。"),
    ("まあまあ", "使えなくはないけど、起動に時間がかかる。"),
    ("ありがとう", "問い合わせの返事が早くて丁寧でした。"),
    ("au PAYにも対応して", "au PAYが使えないので結局カードで払っています。"),
    ("LINE連携", "LINEでログインできるのは楽。でも連携を外す方法がわからない。"),
    ("重い", "最新バージョンにしてから画像の読み込みがとても遅いです。"),
    ("在庫表示", "アプリでは在庫ありなのに店に行ったら売り切れでした。"),
    ("星1", "ポイントが反映されていない。問い合わせても返事がない。"),
    ("使いやすい", "デザインがすっきりして前より探しやすくなりました。"),
    ("ダークモード", "夜に開くとまぶしいのでダークモードがほしい。"),
    ("決済エラー", "カード情報を入れ直しても決済エラーになります。"),
    ("お気に入り", "お気に入りに入れた商品が値下がりしたら教えてくれるのが嬉しい。"),
    ("再インストール", "一度消して入れ直したら履歴が全部消えてしまった。"),
]

SURVEY_ANSWERS = [
    "店員さんが商品の場所まで案内してくれて助かりました。",
    "レジが一台しか開いておらず、十分以上待ちました。",
    "特になし",
    "駐車場が狭くて停めにくいです。",
    "品揃えが増えて、ここで全部そろうようになった。",
    "セルフレジの使い方がわかりにくい。",
    "値札と会計の金額が違っていました。",
    "トイレがいつもきれいで気持ちいい。",
    "ポイントカードを忘れた時にアプリで出せるのが便利です。",
    "夜九時に閉まるのが早すぎる。",
    "",
    "返品の手続きにレシートが必須なのは厳しい。",
    "冷凍食品の棚がいつも空っぽ。",
    "子ども連れでもカートが広くて買い物しやすい。",
    "チラシの特売品が午前中で売り切れていた。",
    "お惣菜の味付けが最近しょっぱい気がする",
    "入口の段差にスロープがついて母の車椅子でも入れました",
    "ネットで注文して店で受け取れるのは本当に楽",
    "レジ袋の有料化はいいけど、エコバッグの売り場が遠い。",
    "パンの焼き上がり時間を掲示してほしいです",
    "店内放送の音が大きくて、ちょっと頭が痛くなる",
    "Wi-Fiがつながらないのでアプリのクーポンが出せなかった",
    "魚売り場のおじさんがさばき方を教えてくれた！",
    "カゴを置く台が低くて腰にくる",
    "日曜の朝は駐輪場がいっぱい",
    "前の店長のときのほうが野菜が新鮮だったと思う。",
    "ポイント5倍デーの告知がもっと早ければ嬉しいです",
    "試食コーナーが復活していて子どもが喜んでました",
    "問い合わせフォームの返事が一週間来なかった。",
]

CALL_NOTES = [
    "注文した商品が届かないとの問い合わせ。配送状況を確認し明日着と案内。",
    "アプリにログインできないとの連絡。パスワード再設定の手順を案内したが解決せず、二次対応へ。",
    "届いた椅子の脚が一本折れていた。交換品を手配。",
    "請求額が二重になっているとの申告。カード会社の仮売上と説明し了承いただく。",
    "店舗スタッフの対応が冷たかったとのご意見。店長へ共有。",
    "ポイントの有効期限を延ばしてほしいとの要望。",
    "解約方法がわからないとの問い合わせ。マイページの手順を案内。",
    "配達員が不在票を入れずに持ち帰ったとの苦情。配送業者に確認中。",
    "サイズ交換の送料について質問。初回は無料と案内。",
    "商品説明と色が違うとのこと。写真を送っていただき返品受付。",
    "電話がつながるまで三十分待ったとの苦情。",
    "領収書の宛名変更の依頼。再発行して郵送。",
]


def app_store_xlsx(path: Path, n: int = 90, start: date = date(2024, 7, 1), days: int = 92) -> Path:
    """An app-store review export over one quarter (datetime cells, as the store consoles write them)."""
    rows = []
    for i in range(n):
        title, body = APP_REVIEWS[i % len(APP_REVIEWS)]
        posted = datetime.combine(start + timedelta(days=(i * 37) % days), datetime.min.time()) + timedelta(hours=9 + i % 12)
        rows.append({"レビューID": f"R{2407000 + i * 13}", "投稿日": posted,
                     "プラットフォーム": "iOS" if i % 3 else "Android", "バージョン": f"6.{i % 4}.{i % 3}",
                     "評価": 1 + (i * 7) % 5, "タイトル": title, "レビュー本文": body})
    pd.DataFrame(rows).to_excel(path, index=False, sheet_name="レビュー")
    return path


def survey_csv_cp932(path: Path, n: int = 60, start: date = date(2024, 7, 1)) -> Path:
    """A survey tool's CSV for Excel on Japanese Windows: CP932, 回答日時 as 2024/07/03 10:15, no id column."""
    rows = []
    for i in range(n):
        answered = datetime.combine(start + timedelta(days=i % 6), datetime.min.time()) + timedelta(minutes=600 + 17 * i)
        rows.append({"回答日時": answered.strftime("%Y/%m/%d %H:%M"), "年代": f"{20 + 10 * (i % 5)}代",
                     "性別": "女性" if i % 2 else "男性", "満足度（5段階）": 1 + (i * 3) % 5,
                     "ご意見・ご要望（自由記述）": SURVEY_ANSWERS[i % len(SURVEY_ANSWERS)]})
    pd.DataFrame(rows).to_csv(path, index=False, encoding="cp932")
    return path


def call_centre_tsv(path: Path, n: int = 48, start: date = date(2024, 7, 1)) -> Path:
    """A call-centre system's TSV: 受付番号, 受付日 as 2024年7月3日, a category and the note in 内容."""
    rows = []
    for i in range(n):
        day = start + timedelta(days=i % 5)
        rows.append({"受付番号": f"C{day:%y%m%d}-{i:03d}", "受付日": f"{day.year}年{day.month}月{day.day}日",
                     "担当": ["佐藤", "鈴木", "高橋"][i % 3], "区分": ["問い合わせ", "苦情", "要望"][i % 3],
                     "内容": CALL_NOTES[i % len(CALL_NOTES)]})
    pd.DataFrame(rows).to_csv(path, index=False, sep="\t", encoding="utf-8")
    return path


def one_year_csv(path: Path, year: int = 2024, per_day: int = 1, undated: int = 3) -> Path:
    """A year of comments, one a day from the first Monday (2024-01-01) to the last Sunday of ISO week 52,
    plus ``undated`` rows whose date is missing or unreadable."""
    texts = [b for _, b in APP_REVIEWS] + SURVEY_ANSWERS + CALL_NOTES
    texts = [t for t in texts if t and t != "特になし"]
    first = date.fromisocalendar(year, 1, 1)
    last = date.fromisocalendar(year, 52, 7)
    rows, i = [], 0
    d = first
    while d <= last:
        for _ in range(per_day):
            rows.append({"id": f"y{i:04d}", "日付": d.strftime("%Y/%m/%d"), "コメント": texts[i % len(texts)]})
            i += 1
        d += timedelta(days=1)
    for k in range(undated):
        rows.append({"id": f"u{k}", "日付": ["", "不明", "2024/13/40"][k % 3], "コメント": texts[(i + k) % len(texts)]})
    pd.DataFrame(rows).to_csv(path, index=False, encoding="utf-8")
    return path
