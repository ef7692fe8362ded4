"""A company's own journey-stage set, end to end: classify, items, report views, labelling export."""

import json
import re

import pandas as pd

from vocnlp.config import load_config
from vocnlp.labeling import export_for_labelling
from vocnlp.pipeline import run_pipeline

from .conftest import SAMPLE_DIR

STAGES = """\
task: journey_stage
multi_label: false
labels:
  - name: 来店
    description: 店に来るまで。場所、駐車場、営業時間、混雑。
    examples: [駐車場が狭い, 営業時間が短い]
  - name: 接客
    description: 店員やスタッフの対応、説明、態度。
    examples: [店員さんが親切だった, 説明が分かりにくい]
  - name: 会計
    description: レジ、支払い、ポイント、アプリの会員証。
    examples: [レジが混んでいた, ポイントが付かない, アプリが落ちる]
"""


def test_a_custom_stage_set_reaches_every_output(tmp_path, use_fake_embedder):
    labels = tmp_path / "my_stages.yaml"
    labels.write_text(STAGES, encoding="utf-8")
    cfg = load_config(None, {"embed.cache_dir": str(tmp_path / "cache"), "history.path": str(tmp_path / "hist"),
                             "classify.cx_dimension.method": "prototype", "classify.journey_stage.method": "prototype",
                             "classify.journey_stage.labels": str(labels), "sentiment.method": "lexicon"})
    weeks = []
    for w in ("2026-W44", "2026-W45"):
        rows = pd.read_csv(SAMPLE_DIR / f"midori_{w}.csv", dtype=str, keep_default_na=False).head(80)
        rows.loc[len(rows)] = rows.loc[0]  # an exact duplicate comment: flagged, still analysed
        rows["duplicate"] = "input value"  # an input column with the flag's name passes through untouched
        p = tmp_path / f"shop_{w}.csv"
        rows.to_csv(p, index=False)
        weeks.append(run_pipeline(p, tmp_path / w, cfg))
    res = weeks[-1]
    items = pd.read_csv(tmp_path / "2026-W45" / "items.csv", dtype=str, keep_default_na=False)
    ok = items[items.status == "ok"]
    assert set(ok.journey_stage) <= {"来店", "接客", "会計"} and len(set(ok.journey_stage)) >= 2
    assert res.manifest["models"]["journey_stage"]["labels"] == ["来店", "接客", "会計"]
    assert items.duplicate.tolist()[-1] == "True" and res.manifest["counts"]["duplicates"] >= 1
    assert items.status.tolist()[-1] == items.status.tolist()[0]
    assert set(items.input_duplicate) == {"input value"}

    html = (tmp_path / "2026-W45" / "report.html").read_text(encoding="utf-8")
    heat = html[html.index('<table class="heat">'):]
    heat = heat[: heat.index("</table>")]
    assert [s for s in ("来店", "接客", "会計") if f"<td>{s}</td>" in heat or f"<th>{s}</th>" in heat] == ["来店", "接客", "会計"]
    trend = html[html.index("推移（"):]
    stage_rows = re.findall(r"<tr><td>([^<]+)</td><td><svg", trend[trend.index("</table>"):])  # the stage table
    assert set(stage_rows) == set(ok.journey_stage) and stage_rows  # the week-over-week stage view is there

    paths = export_for_labelling(tmp_path / "2026-W45", tmp_path / "lab", n=10)
    config = paths["labelstudio_config"].read_text(encoding="utf-8")
    journey = config[config.index('name="journey_stage"'):]
    journey = journey[: journey.index("</Choices>")]
    assert re.findall(r'value="([^"]+)"', journey) == ["来店", "接客", "会計"]  # the set, whole and in its order
    assert "認知" not in config
    tasks = json.loads(paths["labelstudio"].read_text(encoding="utf-8"))
    assert {t["predictions"][0]["result"][1]["value"]["choices"][0] for t in tasks} <= {"来店", "接客", "会計"}
