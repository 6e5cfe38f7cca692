"""The user's data through the Go tool: `run --mode quickstart --data ...` on the two Kaggle zips'
folder, on each zip, on the products CSV beside its categories CSV, on one CSV of a zip
(`ZIP!MEMBER`) and on a loopback URL: each finishes and prints accuracy; bad data (an empty file,
a missing categories table, wrong columns, a folder without CSVs, a zip of two product tables
without a member, a URL that answers 404 or nothing, an unknown Kaggle handle) exits 2 ("bad
input") with the one-line message first."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

import demo_data
from test_data_sources import _Server, _zip_bytes
from test_notebook_run import run_tool  # the Go tool itself: the session fixture `tool` in conftest.py

from conftest import SHARED_DATASETS

ASANICZKA = SHARED_DATASETS / "asaniczka_amazon2023_random10k"


@pytest.fixture(scope="module")
def user_files(tmp_path_factory) -> dict[str, Path]:
    """The Kaggle pair as a user holds it: zipped one by one in a folder, as two CSVs side by side,
    and in one zip beside another product table (so the member has to be named)."""
    base = tmp_path_factory.mktemp("user")
    prod, cats = demo_data.make_asaniczka(3000, n_categories=40)
    zips, csvs = base / "zips", base / "csvs"
    zips.mkdir()
    csvs.mkdir()
    for name, frame in (("amazon_products.csv", prod), ("amazon_categories.csv", cats)):
        frame.to_csv(csvs / name, index=False)
        with zipfile.ZipFile(zips / f"{name}.zip", "w", zipfile.ZIP_DEFLATED) as zf:
            zf.write(csvs / name, name)
    shops = base / "shops.zip"
    with zipfile.ZipFile(shops, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(csvs / "amazon_products.csv", "amazon/amazon_products.csv")
        zf.write(csvs / "amazon_categories.csv", "amazon/amazon_categories.csv")
        zf.writestr("other_shop_products.csv", "title,category\nred mug,Kitchen\nblue pen,Office\n")
    return {"zips": zips, "csvs": csvs, "shops": shops}


def quickstart(tool, tmp: Path, data: str):
    root = tmp / "project"
    res = run_tool(tool, "run", "--mode", "quickstart", "--cells", "cells", "--out", str(tmp / "build"),
                   "--project-root", str(root), "--data", data, timeout=900)
    metrics = root / "results" / "quickstart_metrics.json"
    return res, (json.loads(metrics.read_text()) if metrics.is_file() else None)


@pytest.mark.parametrize("form", ["folder of two zips", "products zip", "categories zip", "CSV beside its categories",
                                  "zip member", "URL"])
def test_every_form_finishes_and_prints_accuracy(tool, tmp_path, user_files, form):
    zips, csvs = user_files["zips"], user_files["csvs"]
    server = None
    try:
        if form == "URL":
            server = _Server({"/amazon/archive.zip": _zip_bytes(csvs)})
            data = server.url + "/amazon/archive.zip"
        else:
            data = str({"folder of two zips": zips, "products zip": zips / "amazon_products.csv.zip",
                        "categories zip": zips / "amazon_categories.csv.zip",
                        "CSV beside its categories": csvs / "amazon_products.csv",
                        "zip member": f"{user_files['shops']}!amazon/amazon_products.csv"}[form])
        res, m = quickstart(tool, tmp_path, data)
    finally:
        if server:
            server.close()
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert "  accuracy: " in res.stdout and m["accuracy"] > 0.5
    assert m["data_source"] == data and m["n_rows"] == 3000 and m["dataset"].startswith("asaniczka: ")


def test_bad_data_exits_2_with_the_message_first(tool, tmp_path, user_files):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    lone = tmp_path / "lone"
    lone.mkdir()
    (lone / "amazon_products.csv").write_bytes((user_files["csvs"] / "amazon_products.csv").read_bytes())
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("a,b,c\n1,2,3\n")
    no_csv = tmp_path / "no_csv"
    no_csv.mkdir()
    (no_csv / "README.txt").write_text("title,category\nmug,Kitchen\n")
    server = _Server({})
    cases = [(str(empty), "the file is empty (0 bytes)"),
             (str(lone / "amazon_products.csv"), "looked for amazon_categories.csv or amazon_categories.csv.zip"),
             (str(wrong), "no CSV with a title-like column"),
             (str(no_csv), "no CSV files found in"),
             (str(user_files["shops"]), "several CSVs look like product tables; choose one with SOURCE!MEMBER"),
             (server.url + "/gone.zip", "the server answered HTTP 404"),
             ("http://127.0.0.1:9/nothing-listens-here.zip", "could not be reached"),
             # offline, kagglehub cannot resolve kaggle.com; online, Kaggle answers 404: one line either way
             ("no-such-owner-4f2a/no-such-dataset-4f2a", "Kaggle dataset 'no-such-owner-4f2a/no-such-dataset-4f2a' "
              "could not be downloaded")]
    try:
        for i, (data, needle) in enumerate(cases):
            res, _ = quickstart(tool, tmp_path / f"bad{i}", data)
            assert res.returncode == 2, (data, res.returncode, res.stderr[-2000:])
            first = res.stderr.strip().splitlines()[0]
            assert first.startswith("run quickstart: ") and "DataError: " in first and needle in first, first
            assert "traceback:" in res.stderr
    finally:
        server.close()
    # a folder is data now, and a missing zip's member is still refused before anything runs
    res = run_tool(tool, "run", "--mode", "quickstart", "--cells", "cells", "--out", str(tmp_path / "b"),
                   "--project-root", str(tmp_path / "p"), "--data", str(tmp_path / "nope.zip") + "!a.csv")
    assert res.returncode == 2 and "data file not found" in res.stderr and not (tmp_path / "p").exists()


@pytest.mark.skipif(not ASANICZKA.is_dir(), reason="shared datasets not present")
def test_real_asaniczka_sample_as_two_zips_in_a_folder(tool, tmp_path):
    folder = tmp_path / "kaggle"
    folder.mkdir()
    for src, name in ((ASANICZKA / "amazon_products_sample.csv", "amazon_products.csv"),
                      (ASANICZKA / "amazon_categories.csv", "amazon_categories.csv")):
        with zipfile.ZipFile(folder / f"{name}.zip", "w", zipfile.ZIP_DEFLATED) as zf:
            zf.write(src, name)
    res, m = quickstart(tool, tmp_path, str(folder))
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    print("asaniczka random10k, two zips in a folder:", m)
    assert m["n_classes"] > 150 and m["accuracy"] > 0.5
