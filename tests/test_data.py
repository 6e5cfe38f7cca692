"""data.load_dataset on every accepted format and every bad input (clear DataError, nothing lost)."""
from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pandas as pd
import pytest

import data
import demo_data
from config import Config


def _cfg(paths, **kw):
    return Config.for_mode("smoke", project_root=str(paths.root), **kw)


def _snapshot(root: Path) -> dict:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def asaniczka(tmp_path):
    prod, cats = demo_data.make_asaniczka(600, n_categories=20)
    d = tmp_path / "kaggle"
    d.mkdir()
    prod.to_csv(d / "amazon_products.csv", index=False)
    cats.to_csv(d / "amazon_categories.csv", index=False)
    return d


def test_asaniczka_folder_single_zip_and_two_zips_give_the_same_frame(project, asaniczka, tmp_path):
    cfg = _cfg(project)
    ref, info = data.load_dataset(cfg, project, source=str(asaniczka))
    assert info["format"] == "asaniczka" and info["description_missing_frac"] == 1.0
    assert list(ref.columns[:3]) == ["product_title", "product_description", "category"]
    assert "imgUrl" not in ref.columns and ref["category"].dtype == "category"
    one = tmp_path / "one.zip"
    with zipfile.ZipFile(one, "w") as zf:
        for f in asaniczka.iterdir():
            zf.write(f, f"archive/{f.name}")
    two = tmp_path / "two"
    two.mkdir()
    for f in asaniczka.iterdir():
        with zipfile.ZipFile(two / f"{f.stem}.zip", "w") as zf:
            zf.write(f, f.name)
    for src in (one, two):
        got, _ = data.load_dataset(cfg, project, source=str(src))
        pd.testing.assert_frame_equal(got.reset_index(drop=True), ref.reset_index(drop=True))


def test_plain_csv_aliases_latin1_and_duplicates(project, tmp_path):
    df = pd.DataFrame({"Name": ["Café crème mug", "Steel knife", "Steel knife", "Blue pen"],
                       "about_product": ["<b>Ceramic</b>", None, None, "ink"],
                       "main_category": ["Kitchen & Dining", "Kitchen & Dining", "Kitchen & Dining", "Office"]})
    p = tmp_path / "latin.csv"
    df.to_csv(p, index=False, encoding="latin-1")
    out, info = data.load_dataset(_cfg(project), project, source=str(p))
    assert info["encoding"] == "latin-1" and info["dropped_duplicates"] == 1
    assert out["product_title"].iloc[0] == "Café crème mug"
    assert out["product_description"].iloc[1] == ""  # missing description -> ""


BAD = {
    "empty.csv": ("", "empty"),
    "header_only.csv": ("title,category\n", "no rows"),
    "no_title.csv": ("foo,category\n1,a\n", "no CSV with a title-like column"),
    "nan_category.csv": ("title,category\nmug,\npen,\n", "empty (all values missing)"),
    "no_category.csv": ("title,price\nmug,1\n", "no category column"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_inputs_raise_data_error_naming_the_file_and_lose_nothing(project, tmp_path, name):
    (project.root / "keep.txt").write_text("user's work")
    before = _snapshot(project.root)
    text, needle = BAD[name]
    p = tmp_path / name
    p.write_text(text)
    with pytest.raises(data.DataError) as exc:
        data.load_dataset(_cfg(project), project, source=str(p))
    assert needle in str(exc.value) and name in str(exc.value)
    assert _snapshot(project.root) == before


def test_missing_file_and_zip_with_several_csvs(project, tmp_path):
    with pytest.raises(data.DataError, match="no such file"):
        data.load_dataset(_cfg(project), project, source=str(tmp_path / "nope.csv"))
    z = tmp_path / "many.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("a.csv", "title,category\nmug,K\n")
        zf.writestr("b.csv", "title,category\npen,O\n")
    with pytest.raises(data.DataError, match=r"several CSVs.*a\.csv.*b\.csv"):
        data.load_dataset(_cfg(project), project, source=str(z))
    # a products-named CSV beside an unrelated one is picked by name
    z2 = tmp_path / "named.zip"
    with zipfile.ZipFile(z2, "w") as zf:
        zf.writestr("notes.csv", "title,category\nx,y\n")
        zf.writestr("my_products.csv", "title,category\nmug,K\npen,O\n")
    out, info = data.load_dataset(_cfg(project), project, source=str(z2))
    assert info["source"].endswith("my_products.csv") and len(out) == 2


def test_products_without_categories_file_is_a_clear_error(project, asaniczka):
    (asaniczka / "amazon_categories.csv").unlink()
    with pytest.raises(data.DataError, match="amazon_categories.csv"):
        data.load_dataset(_cfg(project), project, source=str(asaniczka))


def test_demo_fallback_when_no_data(project, capsys):
    df, info = data.load_dataset(_cfg(project), project)
    assert info["demo"] and "DEMO" in capsys.readouterr().out
    assert df["category"].str.contains(" ").any() and (df["product_description"] == "").any()


@pytest.mark.parametrize("n", [10, 48, 200])
def test_small_demo_catalogues_have_the_rows_asked_for(n):
    """Benchmarks and smoke checks ask for a few dozen rows: fewer than every class's minimum."""
    import demo_data

    df = demo_data.make_catalogue(n, seed=7)
    dupes = df.duplicated(["product_title", "product_description", "category"]).sum()
    assert len(df) - dupes <= n and df["category"].notna().all() and len(df) >= n
