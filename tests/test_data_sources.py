"""Every way the user hands over the data, through the one loader (data.load_dataset): the Kaggle
pair as CSVs side by side, each zipped alone (the zip or its folder), one zip with both, a member
of a zip, a URL served on loopback, a Kaggle handle (kagglehub's download function replaced at the
boundary), a PR preview reading its parent project's data/raw; the parse cache; and the bad inputs
(one-line DataError naming the file and what to do)."""
from __future__ import annotations

import hashlib
import http.server
import threading
import zipfile
from pathlib import Path

import pandas as pd
import pytest

import data
import demo_data
import project as project_mod
from config import Config


def _cfg(paths, **kw):
    return Config.for_mode("smoke", project_root=str(paths.root), **kw)


def _snapshot(root: Path) -> dict:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in root.rglob("*") if p.is_file()}


def write_pair(folder: Path, n: int = 600, n_categories: int = 20, zipped: bool = False) -> Path:
    """The Kaggle pair as the user downloads it: two CSVs, or each one zipped alone."""
    folder.mkdir(parents=True, exist_ok=True)
    prod, cats = demo_data.make_asaniczka(n, n_categories=n_categories)
    for name, frame in (("amazon_products.csv", prod), ("amazon_categories.csv", cats)):
        if zipped:
            with zipfile.ZipFile(folder / f"{name}.zip", "w", zipfile.ZIP_DEFLATED) as zf:
                zf.writestr(name, frame.to_csv(index=False))
        else:
            frame.to_csv(folder / name, index=False)
    return folder


@pytest.fixture
def reference(project, tmp_path):
    """The frame the plain CSV pair gives: every other form must give the same one."""
    pair = write_pair(tmp_path / "csvs")
    df, info = data.load_dataset(_cfg(project), project, source=str(pair))
    assert info["format"] == "asaniczka" and len(df) > 500
    data.cache_path(project).unlink()
    return df.reset_index(drop=True)


def _same(df, ref):
    pd.testing.assert_frame_equal(df.reset_index(drop=True), ref)


def test_two_zips_as_folder_or_either_zip_and_csv_beside_categories(project, tmp_path, reference):
    zips = write_pair(tmp_path / "zips", zipped=True)
    for src in (zips, zips / "amazon_products.csv.zip", zips / "amazon_categories.csv.zip"):
        data.cache_path(project).unlink(missing_ok=True)
        df, info = data.load_dataset(_cfg(project), project, source=str(src))
        _same(df, reference)
        assert info["categories_source"].endswith("amazon_categories.csv.zip!amazon_categories.csv")
        assert info["source"].endswith("amazon_products.csv.zip!amazon_products.csv")
    # the categories zip with no products beside it says what it lacks
    lone = tmp_path / "lone"
    lone.mkdir()
    (lone / "amazon_categories.csv.zip").write_bytes((zips / "amazon_categories.csv.zip").read_bytes())
    with pytest.raises(data.DataError, match="no CSV with a title-like column"):
        data.load_dataset(_cfg(project), project, source=str(lone / "amazon_categories.csv.zip"))
    csvs = tmp_path / "csvs"
    data.cache_path(project).unlink(missing_ok=True)
    df, info = data.load_dataset(_cfg(project), project, source=str(csvs / "amazon_products.csv"))
    _same(df, reference)
    assert info["categories_source"] == str(csvs / "amazon_categories.csv")
    # the products CSV zipped, its categories CSV plain beside it
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    with zipfile.ZipFile(mixed / "amazon_products.csv.zip", "w") as zf:
        zf.write(csvs / "amazon_products.csv", "amazon_products.csv")
    (mixed / "amazon_categories.csv").write_bytes((csvs / "amazon_categories.csv").read_bytes())
    data.cache_path(project).unlink(missing_ok=True)
    _same(data.load_dataset(_cfg(project), project, source=str(mixed / "amazon_products.csv.zip"))[0], reference)


def test_one_zip_with_both_and_zip_member_selection(project, tmp_path, reference):
    csvs = tmp_path / "csvs"
    kaggle = tmp_path / "archive.zip"
    with zipfile.ZipFile(kaggle, "w") as zf:
        for f in csvs.iterdir():
            zf.write(f, f"archive/{f.name}")
    _same(data.load_dataset(_cfg(project), project, source=str(kaggle))[0], reference)
    shops = tmp_path / "shops.zip"
    with zipfile.ZipFile(shops, "w") as zf:
        zf.writestr("shop_a.csv", "title,category\nred mug,Kitchen\nblue pen,Office\n")
        zf.writestr("nested/shop_b.csv", "title,category\nsteel knife,Kitchen\n")
    with pytest.raises(data.DataError, match=r"several CSVs look like product tables; choose one with "
                                             r"SOURCE!MEMBER, e\.g\. DATA_PATH='.*shops\.zip!"):
        data.load_dataset(_cfg(project), project, source=str(shops))
    a, info = data.load_dataset(_cfg(project), project, source=f"{shops}!shop_a.csv")
    assert list(a["product_title"]) == ["red mug", "blue pen"] and info["source"].endswith("shops.zip!shop_a.csv")
    b, _ = data.load_dataset(_cfg(project), project, source=f"{shops}!shop_b.csv")  # by file name
    assert list(b["product_title"]) == ["steel knife"]
    b2, _ = data.load_dataset(_cfg(project), project, source=f"{shops}!nested/shop_b.csv")  # by path inside
    _same(b2, b.reset_index(drop=True))
    with pytest.raises(data.DataError, match=r"no CSV called 'shop_c\.csv' in it; it holds: shop_a\.csv, nested/shop_b\.csv"):
        data.load_dataset(_cfg(project), project, source=f"{shops}!shop_c.csv")
    # a folder's member: its path relative to the folder
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "a.csv").write_text("name,label\nmug,K\npen,O\n")
    (folder / "b.csv").write_text("name,label\nhat,C\n")
    got, _ = data.load_dataset(_cfg(project), project, source=f"{folder}!b.csv")
    assert list(got["product_title"]) == ["hat"]


def test_parse_source_tells_paths_urls_and_handles_apart(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "owner").mkdir()
    (tmp_path / "owner" / "name").mkdir()  # an existing folder wins over the handle it looks like
    z = tmp_path / "x.zip"
    z.write_bytes(b"")
    cases = {
        "owner/name": ("path", "owner/name", ""),
        "asaniczka/amazon-products-dataset-2023-1-4m-products": ("kaggle", "asaniczka/amazon-products-dataset-2023-1-4m-products", ""),
        "kaggle:owner/other": ("kaggle", "owner/other", ""),
        "owner/other/versions/2": ("kaggle", "owner/other/versions/2", ""),
        "https://www.kaggle.com/datasets/owner/other": ("kaggle", "owner/other", ""),
        "https://example.com/d/amazon.zip": ("url", "https://example.com/d/amazon.zip", ""),
        "http://127.0.0.1:9/a.zip!shop_a.csv": ("url", "http://127.0.0.1:9/a.zip", "shop_a.csv"),
        f"{z}!shop_a.csv": ("path", str(z), "shop_a.csv"),
        "data/products.csv": ("path", "data/products.csv", ""),
    }
    for text, (kind, target, member) in cases.items():
        s = data.parse_source(text)
        assert (s.kind, s.target, s.member, s.given) == (kind, target, member, text), text


class _Server:
    """A loopback HTTP server for a few byte strings; honours Range, can break one response midway."""

    def __init__(self, files: dict[str, bytes]):
        self.files, self.hits, self.break_once = files, [], set()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.hits.append((self.path, self.headers.get("Range")))
                body = outer.files.get(self.path)
                if body is None:
                    self.send_error(404, "Not Found")
                    return
                start = int(self.headers["Range"].split("=")[1].split("-")[0]) if self.headers.get("Range") else 0
                self.send_response(206 if start else 200)
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                if self.path in outer.break_once:
                    outer.break_once.discard(self.path)
                    self.wfile.write(body[start:start + (len(body) - start) // 2])
                    self.close_connection = True
                    return
                self.wfile.write(body[start:])

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = _Server({})
    yield s
    s.close()


def _zip_bytes(folder: Path) -> bytes:
    import io

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(folder.iterdir()):
            zf.write(f, f.name)
    return buf.getvalue()


def test_url_is_downloaded_once_resumed_and_never_read_half_written(project, tmp_path, server, reference, capsys):
    body = _zip_bytes(tmp_path / "csvs")
    server.files["/kaggle/archive.zip"] = body
    server.break_once.add("/kaggle/archive.zip")
    url = server.url + "/kaggle/archive.zip"
    cfg = _cfg(project, data_path=url)
    with pytest.raises(data.DataError, match=r"the download broke off at [\d,]+ of [\d,]+ bytes; run again to resume it"):
        data.load_dataset(cfg, project)
    folder = data.download_dir(cfg, project) / "url"
    assert [p.name for p in folder.rglob("*") if p.is_file()] == [".download.part"]  # nothing half-written to read
    df, info = data.load_dataset(cfg, project)
    _same(df, reference)
    assert server.hits[-1][1] == f"bytes={len(body) // 2}-"  # resumed where it broke off
    got = next(p for p in folder.rglob("archive.zip"))
    assert got.read_bytes() == body and got.parent.parent == project.raw / "downloads" / "url"
    assert info["data_source"] == url and "download archive.zip" in capsys.readouterr().err
    # cached by URL: a later run reads the file without the network
    n = len(server.hits)
    server.files.clear()
    data.cache_path(project).unlink()
    _same(data.load_dataset(cfg, project)[0], reference)
    assert len(server.hits) == n
    # the downloads folder is not mistaken for the user's own data in data/raw
    assert data.find_source(_cfg(project), project) is None


def test_url_member_and_bad_urls(project, tmp_path, server):
    shops = tmp_path / "shops"
    shops.mkdir()
    (shops / "shop_a.csv").write_text("title,category\nred mug,Kitchen\nblue pen,Office\n")
    (shops / "shop_b.csv").write_text("title,category\nhat,Clothing\n")
    server.files["/shops.zip"] = _zip_bytes(shops)
    server.files["/dl?id=7"] = (shops / "shop_a.csv").read_bytes()  # no file name in the URL
    server.files["/empty.csv"] = b""
    df, _ = data.load_dataset(_cfg(project), project, source=server.url + "/shops.zip!shop_b.csv")
    assert list(df["product_title"]) == ["hat"]
    df, info = data.load_dataset(_cfg(project), project, source=server.url + "/dl?id=7")
    assert len(df) == 2 and info["source"].endswith(".csv")
    for url, needle in ((server.url + "/missing.zip", "the server answered HTTP 404"),
                        (server.url + "/empty.csv", "the file is empty (0 bytes)"),
                        ("http://127.0.0.1:9/nothing-listens-here.zip", "could not be reached")):
        with pytest.raises(data.DataError) as exc:
            data.load_dataset(_cfg(project), project, source=url)
        msg = str(exc.value)
        assert msg.startswith(url) and needle in msg and "\n" not in msg


def _fake_kaggle(monkeypatch, folder_with_files: Path, calls: list):
    import kagglehub

    def dataset_download(handle, path=None, *, force_download=False, output_dir=None):
        calls.append(handle)
        if handle != "asaniczka/amazon-products-dataset-2023-1-4m-products":
            from kagglehub.exceptions import KaggleApiHTTPError

            raise KaggleApiHTTPError(f"404 Client Error.\n\nResource not found at URL: .../datasets/{handle}")
        out = Path(output_dir)
        out.mkdir(parents=True, exist_ok=True)
        for f in folder_with_files.iterdir():
            (out / f.name).write_bytes(f.read_bytes())
        return str(out)

    monkeypatch.setattr(kagglehub, "dataset_download", dataset_download)


def test_kaggle_handle_downloads_once_and_unknown_handle_is_one_line(project, tmp_path, monkeypatch, reference):
    calls: list = []
    _fake_kaggle(monkeypatch, write_pair(tmp_path / "kaggle_files", zipped=True), calls)
    handle = "asaniczka/amazon-products-dataset-2023-1-4m-products"
    for spec in (handle, f"kaggle:{handle}", f"https://www.kaggle.com/datasets/{handle}"):
        data.cache_path(project).unlink(missing_ok=True)
        df, info = data.load_dataset(_cfg(project, data_path=spec), project)
        _same(df, reference)
        assert info["data_source"] == spec
    assert calls == [handle]  # downloaded once, then read from data/raw/downloads/kaggle/<handle>
    assert (project.raw / "downloads" / "kaggle" / handle / "amazon_products.csv.zip").is_file()
    with pytest.raises(data.DataError) as exc:
        data.load_dataset(_cfg(project, data_path="someone/no-such-dataset"), project)
    msg = str(exc.value)
    assert msg.startswith("Kaggle dataset 'someone/no-such-dataset' could not be downloaded (KaggleApiHTTPError: 404")
    assert "\n" not in msg
    assert not (project.raw / "downloads" / "kaggle" / "someone").exists() or \
        not any((project.raw / "downloads" / "kaggle" / "someone").rglob("*.csv"))


def test_download_dir_is_configurable(project, tmp_path, monkeypatch, reference):
    calls: list = []
    _fake_kaggle(monkeypatch, write_pair(tmp_path / "kaggle_files"), calls)
    shared = tmp_path / "ci-cache"
    cfg = _cfg(project, data_path="asaniczka/amazon-products-dataset-2023-1-4m-products", download_dir=str(shared))
    _same(data.load_dataset(cfg, project)[0], reference)
    assert (shared / "kaggle" / "asaniczka").is_dir() and not (project.raw / "downloads").exists()


def test_preview_reads_the_parent_projects_data_without_writing_there(tmp_path, reference):
    parent = project_mod.make_tree(str(tmp_path / "top"))
    write_pair(parent.raw, zipped=True)
    before = _snapshot(parent.raw)
    child = project_mod.make_tree(str(parent.root / "ci" / "pr-7"))
    cfg = _cfg(child, parent_project_root=str(parent.root))
    assert data.find_source(cfg, child) == str(parent.raw)
    df, info = data.load_dataset(cfg, child)
    _same(df, reference)
    assert data.cache_path(child).is_file() and _snapshot(parent.raw) == before
    assert not data.cache_path(parent).exists()
    # the preview's own data wins once it has some
    (child.raw / "mine.csv").write_text("title,category\nmug,K\npen,O\n")
    assert data.find_source(cfg, child) == str(child.raw)


def test_parse_is_cached_and_the_cache_follows_the_source(project, tmp_path, monkeypatch, reference):
    monkeypatch.setattr(data, "_CACHE_SLICE_ROWS", 128)  # written slice by slice, read back whole
    pair = tmp_path / "csvs"
    cfg = _cfg(project, data_path=str(pair))
    df, info = data.load_dataset(cfg, project)
    assert info["cache"] == "written" and data.cache_path(project).is_file()
    calls = []
    real_parse = data.parse
    monkeypatch.setattr(data, "parse", lambda *a, **k: calls.append(a) or real_parse(*a, **k))
    again, info2 = data.load_dataset(cfg, project)
    _same(again, reference)
    assert info2["cache"] == "read" and calls == [] and again["category"].dtype == "category"
    assert {k: v for k, v in info2.items() if k != "cache"} == {k: v for k, v in info.items() if k != "cache"}
    # a changed source (size and mtime) is parsed again
    prod = pair / "amazon_products.csv"
    prod.write_text(prod.read_text() + prod.read_text().splitlines()[1].replace("DEMO", "NEW0") + "\n")
    _, info3 = data.load_dataset(cfg, project)
    assert info3["cache"] == "written" and len(calls) == 1
    # a row cap is part of the key
    _, info4 = data.load_dataset(_cfg(project, data_path=str(pair), max_rows=100), project)
    assert info4["rows_read"] == 100 and len(calls) == 2


BAD = {
    "empty file": (lambda d: (d / "products.csv").write_bytes(b"") or d / "products.csv", "the file is empty (0 bytes)"),
    "empty zip": (lambda d: (d / "products.zip").write_bytes(b"") or d / "products.zip", "the file is empty (0 bytes)"),
    "not a zip": (lambda d: _write(d / "products.zip", "hello"), "not a valid zip file"),
    "folder of empty files": (lambda d: (d / "a.csv").write_bytes(b"") or d, "the file is empty (0 bytes)"),
    "no such file": (lambda d: d / "nope.csv", "no such file or folder"),
    "header only": (lambda d: _write(d / "h.csv", "title,category\n"), "has a header but no rows"),
    "zip without CSV": (lambda d: _zip_with(d / "x.zip", {"readme.txt": "hi"}), "no CSV files found"),
    "folder without CSV": (lambda d: _write(d / "README.txt", "title,category\nmug,K\n") and
                           _write(d / "notes.tsv", "title\tcategory\n") and d, "no CSV files found in"),
    "wrong columns": (lambda d: _write(d / "shop.csv", "a,b,c\n1,2,3\n"),
                      "no CSV with a title-like column (product_title, title"),
    "no category column": (lambda d: _write(d / "shop.csv", "title,price\nmug,3\n"), "no category column"),
    "two product tables, no member": (lambda d: _zip_with(d / "shops.zip", {"a.csv": "title,category\nmug,K\n",
                                                                            "b.csv": "title,category\npen,O\n"}),
                                      "several CSVs look like product tables; choose one with SOURCE!MEMBER"),
}


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _zip_with(path: Path, files: dict) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return path


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_inputs_say_what_is_wrong_in_one_line(project, tmp_path, case):
    make, needle = BAD[case]
    d = tmp_path / "in"
    d.mkdir()
    src = make(d)
    before = _snapshot(project.root)
    with pytest.raises(data.DataError) as exc:
        data.load_dataset(_cfg(project), project, source=str(src))
    msg = str(exc.value)
    assert needle in msg and "\n" not in msg, msg
    assert _snapshot(project.root) == before


def test_missing_categories_table_names_both_files_and_where(project, tmp_path):
    for zipped in (False, True):
        d = write_pair(tmp_path / f"pair{zipped}", zipped=zipped)
        (d / ("amazon_categories.csv.zip" if zipped else "amazon_categories.csv")).unlink()
        src = d / ("amazon_products.csv.zip" if zipped else "amazon_products.csv")
        with pytest.raises(data.DataError) as exc:
            data.load_dataset(_cfg(project), project, source=str(src))
        msg = str(exc.value)
        assert "amazon_categories.csv or amazon_categories.csv.zip" in msg and f"beside it in {d}" in msg
        assert msg.startswith(str(src)) and "\n" not in msg


def test_duplicate_titles_are_dropped_and_conflicting_ones_grouped(project):
    rows = [("Red Mug", "Kitchen"), ("red  mug ", "Kitchen"), ("RED MUG", "Office"),  # one title, two categories
            ("Blue Pen", "Office"), ("blue pen", "Office")]
    rows += [(f"kitchen item {i}", "Kitchen") for i in range(40)] + [(f"office item {i}", "Office") for i in range(40)]
    src = project.root.parent / "dups.csv"
    pd.DataFrame(rows, columns=["title", "category"]).to_csv(src, index=False)
    df, info = data.load_dataset(_cfg(project), project, source=str(src))
    assert info["dropped_duplicates"] == 2 and info["conflicting_titles"] == 1 and info["conflicting_rows"] == 2
    groups = data.title_groups(df["product_title"])
    assert len(set(groups)) == len(df) - 1
    import preprocess

    for seed in range(20):  # wherever the split falls, the two "red mug" rows fall together
        tr, va, te = preprocess.stratified_split(df, 0.2, 0.2, seed, groups=groups)
        side = {i: s for s, idx in (("train", tr), ("val", va), ("test", te)) for i in idx}
        mugs = df.index[data.title_key(df["product_title"]) == "red mug"]
        assert len({side[i] for i in mugs}) == 1
        assert sorted(list(tr) + list(va) + list(te)) == list(range(len(df)))
