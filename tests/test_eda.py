"""EDA PNGs decode, have sane sizes, and a 100%-missing description still gets a PNG."""
from __future__ import annotations

import pandas as pd
from PIL import Image

import demo_data
import eda
from config import Config


def test_eda_on_asaniczka_schema_with_248_categories(project):
    prod, cats = demo_data.make_asaniczka(3000)
    prod.to_csv(project.raw / "amazon_products.csv", index=False)
    cats.to_csv(project.raw / "amazon_categories.csv", index=False)
    out = eda.run(Config.for_mode("smoke", project_root=str(project.root)), project)
    assert out["n_categories"] > 200 and out["description"]["missing_frac"] == 1.0
    assert out["imbalance"]["log_scale"]
    for p in out["plots"]:
        with Image.open(p) as im:
            im.verify()
        with Image.open(p) as im:
            assert im.size[0] > 500 and im.size[1] > 200
    # the asaniczka data has no description column: every row counts as missing or empty
    assert out["missing"].loc["product_description", "missing_or_empty"] == out["shape"][0] > 0
    again = eda.run(Config.for_mode("smoke", project_root=str(project.root)), project)
    assert again["skipped"]


def test_length_plot_when_column_is_empty(tmp_path):
    stats = eda.plot_lengths(pd.Series([""] * 5), tmp_path / "d.png", "description")
    assert stats["missing_frac"] == 1.0
    Image.open(tmp_path / "d.png").verify()
