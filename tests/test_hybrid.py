"""Step 5b's hybrid model on a tiny BERT built here: the embedder's pooling and pickling, the
fitted Pipeline, the encoder fallback, and Step 8 leaving a CPU-expensive hybrid to Step 5b."""
from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import joblib
import numpy as np
import pytest

import demo_data
import hybrid
import preprocess
import tiny_model
from config import Config


@pytest.fixture(scope="module")
def catalogue():
    df = demo_data.make_catalogue(900, seed=5)
    vc = df["category"].value_counts()
    df = df[df["category"].isin(vc[vc >= 10].index)].reset_index(drop=True)
    df["text"] = preprocess.combine_text(df["product_title"], df["product_description"])
    return df


@pytest.fixture(scope="module")
def encoder(tmp_path_factory, catalogue):
    return Path(tiny_model.build_tiny_bert(catalogue["text"], tmp_path_factory.mktemp("enc") / "tiny"))


def test_embedder_mean_pools_to_unit_vectors_scaled_by_weight(encoder, catalogue):
    emb = hybrid.SentenceEmbedder(str(encoder), max_length=32, batch_size=7, weight=2.0).fit(catalogue["text"][:20])
    a = emb.transform(catalogue["text"][:20])
    assert a.shape == (20, emb.n_features_out_) and a.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 2.0, rtol=1e-5)
    # batches are length-sorted: every row must still come back in its own place
    one = emb.transform([catalogue["text"][7]])
    np.testing.assert_allclose(a[7], one[0], rtol=1e-4, atol=1e-5)


def test_pickled_embedder_drops_the_model_and_finds_the_moved_encoder(encoder, catalogue, tmp_path, monkeypatch):
    emb = hybrid.SentenceEmbedder(str(encoder)).fit(catalogue["text"][:5])
    before = emb.transform(catalogue["text"][:5])
    blob = pickle.dumps(emb)
    assert len(blob) < 10_000  # the model's weights are not in the pickle
    moved = tmp_path / "project"
    shutil.copytree(encoder, moved / "models" / hybrid.ENCODER_DIR / encoder.name)
    emb2 = pickle.loads(blob)
    emb2.model_path = str(tmp_path / "elsewhere" / encoder.name)  # as if the project folder had moved
    with pytest.raises(FileNotFoundError, match="hybrid_encoders/tiny"):
        emb2.transform(["red mug"])
    monkeypatch.setenv("PROJECT_ROOT", str(moved))
    np.testing.assert_allclose(emb2.transform(catalogue["text"][:5]), before, rtol=1e-4, atol=1e-5)


def test_fit_gives_one_pipeline_on_raw_text(encoder, catalogue, tmp_path):
    cfg = Config(tfidf_max_features=5_000, tfidf_char_max_features=5_000)
    train, test = catalogue.iloc[:700], catalogue.iloc[700:]
    pipe, info = hybrid.fit(train["text"].tolist(), train["category"].to_numpy(object), cfg, [str(encoder)])
    assert [n for n, _ in pipe.steps] == ["features", "clf"] and info["train_rows"] == 700
    assert [n for n, _ in pipe.named_steps["features"].transformer_list] == ["tfidf", "embed_0"]
    assert "LinearSVC C=1, balanced class weights, sigmoid-calibrated" in info["notes"]
    proba = pipe.predict_proba(test["text"].tolist())
    assert proba.shape == (len(test), train["category"].nunique())
    assert (pipe.predict(test["text"].tolist()) == test["category"]).mean() > 0.8
    joblib.dump(pipe, tmp_path / "hybrid.joblib")
    again = joblib.load(tmp_path / "hybrid.joblib")
    np.testing.assert_allclose(again.predict_proba(test["text"][:3].tolist()), proba[:3], rtol=1e-5)


def test_two_encoders_each_add_their_embedding_block(encoder, catalogue, tmp_path):
    second = tmp_path / "tiny_copy"
    shutil.copytree(encoder, second)
    cfg = Config(tfidf_max_features=3_000, tfidf_char_max_features=3_000)
    texts, y = catalogue["text"].tolist()[:300], catalogue["category"].to_numpy(object)[:300]
    one, info1 = hybrid.fit(texts, y, cfg, [str(encoder)])
    two, info2 = hybrid.fit(texts, y, cfg, [str(encoder), str(second)], ["first", "second"])
    hidden = hybrid.SentenceEmbedder(str(encoder)).fit(texts[:1]).n_features_out_
    assert info2["n_features"] == info1["n_features"] + hidden
    assert info2["encoders"] == ["first", "second"] and "first + second mean-pooled" in info2["notes"]
    assert two.named_steps["features"].transform(texts[:4]).shape == (4, info2["n_features"])
    with pytest.raises(ValueError, match="at least one sentence encoder"):
        hybrid.fit(texts, y, cfg, [])


def test_predictions_in_slices_match_one_call(encoder, catalogue):
    from inference import in_slices

    cfg = Config(tfidf_max_features=3_000, tfidf_char_max_features=3_000)
    texts, y = catalogue["text"].tolist()[:300], catalogue["category"].to_numpy(object)[:300]
    pipe, _ = hybrid.fit(texts, y, cfg, str(encoder))
    assert list(in_slices(pipe.predict, texts[:50], rows=7)) == list(pipe.predict(texts[:50]))
    assert len(in_slices(pipe.predict, [])) == 0


def test_unreachable_encoder_falls_back_to_tiny_bert_and_says_so(project, catalogue):
    cfg = Config(project_root=str(project.root))
    [(path, how)] = hybrid.resolve_encoders(cfg, project, catalogue["text"].tolist(), ["no-such-org/no-such-model"])
    assert path == str(project.models / hybrid.ENCODER_DIR / "tiny-bert") and "fallback" in how
    assert (project.models / hybrid.ENCODER_DIR / "tiny-bert" / "config.json").is_file()
    notes = project.notes.read_text(encoding="utf-8")
    assert "## [fallbacks: Step 5b hybrid encoder]" in notes and "no-such-org/no-such-model" in notes


def test_one_unreachable_encoder_of_two_is_left_out_and_noted(project, catalogue, encoder):
    cfg = Config(project_root=str(project.root))
    stale = project.models / hybrid.ENCODER_DIR / "from-an-earlier-run"
    stale.mkdir(parents=True)
    (stale / "config.json").write_text("{}")
    found = hybrid.resolve_encoders(cfg, project, catalogue["text"].tolist(), [str(encoder), "no-such-org/missing"])
    assert found == [(str(project.models / hybrid.ENCODER_DIR / encoder.name), str(encoder))]
    assert not stale.exists()  # only the encoders the saved model uses stay beside it
    notes = project.notes.read_text(encoding="utf-8")
    assert "no-such-org/missing" in notes and "only" in notes


def test_encoder_lists_come_from_env_and_yaml_as_tuples(tmp_path):
    cfg = Config.from_dict({"hybrid_encoders": "org/a, org/b", "hybrid_cpu_encoders": ["org/a"]})
    assert cfg.hybrid_encoders == ("org/a", "org/b") and cfg.hybrid_cpu_encoders == ("org/a",)
    cfg.save_yaml(str(tmp_path / "c.yaml"))
    assert Config.load_yaml(str(tmp_path / "c.yaml")).hybrid_encoders == ("org/a", "org/b")
    with pytest.raises(ValueError, match="at least one encoder"):
        Config(hybrid_cpu_encoders=())
    assert hybrid.encoder_names(Config()) == Config().hybrid_cpu_encoders  # no GPU here


def test_step5b_needs_step5_first(project):
    with pytest.raises(FileNotFoundError, match="run Step 5"):
        hybrid.run(Config(project_root=str(project.root)), project)
