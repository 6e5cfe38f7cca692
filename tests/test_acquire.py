"""Option A/B acquisition, the assignment-doc copy, installs and requirements (no network used:
the Colab widget, kagglehub and pip are replaced by local fakes with the same call shape)."""
from __future__ import annotations

import io
import subprocess
import zipfile

import pandas as pd
import pytest

import acquire
import data
import demo_data
import environment
from config import Config


def _cfg(paths, **kw):
    return Config.for_mode("smoke", project_root=str(paths.root), **kw)


def _zip_bytes(files: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return buf.getvalue()


def test_option_a_upload_extracts_zip_then_skips_when_present(project):
    prod, cats = demo_data.make_asaniczka(300, n_categories=10)
    up = {"archive.zip": _zip_bytes({"x/amazon_products.csv": prod.to_csv(index=False),
                                     "x/amazon_categories.csv": cats.to_csv(index=False)})}
    out = acquire.option_a_upload(_cfg(project), project, uploader=lambda: up)
    assert sorted(p.split("/")[-1] for p in out["files"]) == ["amazon_categories.csv", "amazon_products.csv"]
    df, info = data.load_dataset(_cfg(project), project)
    assert info["format"] == "asaniczka" and len(df) == 300
    assert acquire.option_a_upload(_cfg(project), project)["skipped"]
    assert acquire.option_b_kaggle(_cfg(project), project)["skipped"]


def test_option_a_plain_csv_is_renamed_and_outside_colab_does_nothing(project, capsys):
    assert acquire.option_a_upload(_cfg(project), project, in_colab=False)["source"] is None
    assert "Outside Colab" in capsys.readouterr().out
    acquire.option_a_upload(_cfg(project), project, uploader=lambda: {"my export.csv": b"title,category\nmug,K\n"})
    assert (project.raw / "amazon_products.csv").read_bytes() == b"title,category\nmug,K\n"


def test_option_b_kaggle_copies_download_and_stops_in_colab_on_failure(project, tmp_path, monkeypatch):
    dl = tmp_path / "kaggle_cache"
    dl.mkdir()
    prod, cats = demo_data.make_asaniczka(200, n_categories=8)
    prod.to_csv(dl / "amazon_products.csv", index=False)
    cats.to_csv(dl / "amazon_categories.csv", index=False)
    calls = []
    out = acquire.option_b_kaggle(_cfg(project), project, downloader=lambda h: calls.append(h) or str(dl))
    assert calls == [acquire.KAGGLE_DATASET] and len(out["files"]) == 2
    fresh = project.root.parent / "other"
    import project as project_mod

    p2 = project_mod.make_tree(str(fresh))
    monkeypatch.delenv("KAGGLE_API_TOKEN", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))

    def refuse(handle):
        raise PermissionError("403 Forbidden")
    with pytest.raises(acquire.AcquireError, match="upload amazon_products.csv"):
        acquire.option_b_kaggle(_cfg(p2), p2, downloader=refuse, in_colab=True, ask_kaggle_json=False)
    assert acquire.option_b_kaggle(_cfg(p2), p2, downloader=refuse, in_colab=False)["source"] is None
    monkeypatch.setenv("KAGGLE_API_TOKEN", "tok")
    tries = []
    acquire.option_b_kaggle(_cfg(p2), p2, downloader=lambda h: str(dl) if tries.append(h) or len(tries) > 1
                            else refuse(h), in_colab=True)
    assert len(tries) == 2 and (p2.raw / "amazon_products.csv").is_file()


def test_assignment_doc_is_copied_and_recorded(project):
    doc = project.root.parent / "ML_Assignment.pdf"
    doc.write_bytes(b"%PDF-1.4 assignment")
    out = acquire.copy_assignment_doc(project)
    assert out["copied"] == [str(project.raw / "ML_Assignment.pdf")]
    assert "ML_Assignment.pdf" in project.notes.read_text()


def test_install_only_missing_in_colab_and_record_versions(project):
    ran = []
    fake = lambda cmd, **kw: ran.append(cmd) or subprocess.CompletedProcess(cmd, 0, "", "")  # noqa: E731
    res = environment.ensure_packages({"lime": "0.2.0.1", "surely-not-installed-pkg": "1.0"}, in_colab=True, runner=fake)
    assert len(ran) == 1 and ran[0][-1] == "surely-not-installed-pkg==1.0" and "lime==0.2.0.1" not in ran[0]
    assert res["installed"] == ["surely-not-installed-pkg==1.0"]
    assert environment.ensure_packages({"lime": "0.2.0.1"}, in_colab=True, runner=fake)["installed"] == []
    assert len(ran) == 1
    out = environment.write_requirements(project)
    req = (project.root / "requirements.txt").read_text()
    assert f"pandas=={pd.__version__}" in req and "numpy==" in req
    assert "dependencies:" in (project.root / "environment.yml").read_text()
    assert out["packages"]["scikit-learn"]


def test_asaniczka_generator_is_deterministic_and_chunked(tmp_path):
    a = demo_data.write_asaniczka(tmp_path / "a", 2500, chunk=1000)
    b = demo_data.write_asaniczka(tmp_path / "b", 2500, chunk=1000)
    assert a[0].read_bytes() == b[0].read_bytes()
    df = pd.read_csv(a[0])
    assert list(df.columns) == ["asin", "title", "imgUrl", "productURL", "stars", "reviews", "price", "listPrice",
                                "category_id", "isBestSeller", "boughtInLastMonth"]
    assert len(df) == 2500 and df["asin"].is_unique
    assert set(df["category_id"]) <= set(pd.read_csv(a[1])["id"])


def test_option_a_upload_of_the_two_zips_or_the_two_csvs(project, tmp_path):
    """The Kaggle pair uploaded as it was downloaded: each file zipped alone, or the two CSVs."""
    prod, cats = demo_data.make_asaniczka(300, n_categories=10)
    files = {"amazon_products.csv": prod.to_csv(index=False), "amazon_categories.csv": cats.to_csv(index=False)}
    zips = {f"{n}.zip": _zip_bytes({n: t}) for n, t in files.items()}
    ref = None
    for i, upload in enumerate((zips, {n: t.encode() for n, t in files.items()})):
        import project as project_mod

        p = project_mod.make_tree(str(tmp_path / f"p{i}"))
        out = acquire.option_a_upload(_cfg(p), p, uploader=lambda up=upload: up)
        assert sorted(f.split("/")[-1] for f in out["files"]) == ["amazon_categories.csv", "amazon_products.csv"]
        df, info = data.load_dataset(_cfg(p), p)
        assert info["format"] == "asaniczka" and info["data_source"] == str(p.raw) and len(df) == 300
        if ref is None:
            ref = df
        else:
            pd.testing.assert_frame_equal(df, ref)


def test_option_a_and_b_skip_when_the_data_path_is_a_url_or_handle_or_the_parent_has_data(project, tmp_path):
    for spec in ("https://example.com/amazon.zip", "asaniczka/amazon-products-dataset-2023-1-4m-products"):
        assert acquire.option_a_upload(_cfg(project, data_path=spec), project)["source"] == spec
    # a local DATA_PATH that does not exist: the loader's own one-line message (bad input, exit 2)
    for option in (acquire.option_a_upload, acquire.option_b_kaggle):
        with pytest.raises(data.DataError, match=r"nope\.csv: no such file or folder; give a CSV, a zip"):
            option(_cfg(project, data_path=str(tmp_path / "nope.csv")), project)
    import project as project_mod

    parent = project_mod.make_tree(str(tmp_path / "top"))
    (parent.raw / "amazon_products.csv").write_text("title,category\nmug,K\n")
    child = project_mod.make_tree(str(parent.root / "ci" / "pr-3"))
    cfg = _cfg(child, parent_project_root=str(parent.root))
    assert acquire.option_b_kaggle(cfg, child)["source"] == str(parent.raw)
    assert not any(child.raw.iterdir())


def test_an_uploaded_zip_is_read_as_the_loader_reads_zips(project):
    """One zip reader: the upload keeps exactly the CSVs the loader would see in the zip (no macOS
    resource forks, no hidden files), and a bad zip is a one-line DataError naming the upload."""
    prod, cats = demo_data.make_asaniczka(300, n_categories=10)
    files = {"amazon/amazon_products.csv": prod.to_csv(index=False),
             "amazon/amazon_categories.csv": cats.to_csv(index=False),
             "__MACOSX/amazon/._amazon_products.csv": "\x00\x05\x16\x07", "amazon/.hidden.csv": "a,b\n1,2\n",
             "amazon/readme.txt": "hello"}
    up = {"archive.zip": _zip_bytes(files)}
    (project.root.parent / "archive.zip").write_bytes(up["archive.zip"])
    seen = sorted(t.member for t in data.zip_tables(project.root.parent / "archive.zip"))
    out = acquire.option_a_upload(_cfg(project), project, uploader=lambda: up)
    assert sorted(p.split("/")[-1] for p in out["files"]) == sorted(m.split("/")[-1] for m in seen) \
        == ["amazon_categories.csv", "amazon_products.csv"]
    assert sorted(p.name for p in project.raw.iterdir()) == ["amazon_categories.csv", "amazon_products.csv"]
    for content, needle in ((b"not a zip", "not a valid zip file"), (b"", "the file is empty (0 bytes)"),
                            (_zip_bytes({"readme.txt": "hi"}), "the zip holds no CSV file")):
        with pytest.raises(data.DataError) as exc:
            acquire.save_upload("my upload.zip", content, project.raw / "other")
        assert str(exc.value).startswith("my upload.zip: ") and needle in str(exc.value), str(exc.value)
        assert not any((project.raw / "other").iterdir())  # the temporary copy is gone too
