"""``Pipeline.run``: the README's SDK pipeline runs in the test session, as ``airflow-mlplat run`` would."""

from __future__ import annotations

import json

from tests.sdk.conftest import readme_python


def test_the_readme_pipeline_runs(spark, tmp_path):
    data = tmp_path / "churn.csv"
    rows = [f"{i % 60},{20 + (i * 7) % 90},{int(i % 60 > 30)}" for i in range(240)]
    data.write_text("\n".join(["tenure,monthly_charges,label", *rows]) + "\n")
    namespace: dict = {}
    exec(readme_python().replace("/data/churn.csv", str(data)), namespace)

    out = tmp_path / "run"
    report = namespace["p"].run(out=str(out), spark=spark, params={"reg_param": 0.1})

    assert report["status"] == "success"
    assert report["params"]["reg_param"] == 0.1
    assert 0.5 < report["metrics"]["eval"]["auc_roc"] <= 1.0
    assert json.loads((out / "report.json").read_text()) == report
    assert sorted(p.name for p in (out / "outputs").iterdir()) == ["metrics", "model"]
