"""Step 5's sequence model (lstm.py): FusedLSTM is keras.layers.LSTM's math, training saves what Step 8 loads."""
from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")

import lstm  # noqa: E402


def test_encoding_is_prepadded_with_unknowns_and_keeps_model_numbers_whole():
    x = lstm.encode(["red mug", "zzz red", "", "usb-c 8kg"], ["red", "mug", "usb-c"], 4)
    assert x.tolist() == [[0, 0, 2, 3], [0, 0, 1, 2], [0, 0, 0, 0], [0, 0, 4, 1]]
    assert lstm.build_vocab(["a b b", "b c"], 2) == ["b", "a"]


def test_sqrt_class_weights_average_one_over_the_rows():
    y = np.array([0] * 100 + [1] * 4)
    w = lstm.class_weights(y, 3)
    assert set(w) == {0, 1} and w[1] / w[0] == pytest.approx(5.0)
    assert np.mean([w[c] for c in y]) == pytest.approx(1.0)


def test_fused_lstm_computes_what_keras_bidirectional_lstm_computes():
    import keras
    import torch

    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(3, 7, 5)).astype("float32")
    ref = keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=True))
    expected = keras.ops.convert_to_numpy(ref(x))
    fused = lstm.fused_lstm_class()(4)
    fused.build((None, 7, 5))
    weights = []
    for direction in (ref.forward_layer, ref.backward_layer):
        kernel, recurrent, bias = (keras.ops.convert_to_numpy(w) for w in direction.cell.weights)
        weights += [kernel.T, recurrent.T, bias, np.zeros_like(bias)]  # keras: one bias; torch: two, summed
    for var, value in zip(fused.weights_, weights):
        var.assign(value)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(fused(x)), expected, rtol=1e-5, atol=1e-5)
    # gradients reach the LSTM weights (Keras's own cuDNN path detaches them)
    out = fused(torch.tensor(x))
    out.sum().backward()
    assert all(w.value.grad is not None and float(w.value.grad.abs().sum()) > 0 for w in fused.weights_)


def labelled_catalogue(project, seed: int):
    """The demo catalogue's classes with 20+ rows, labelled and cleaned as Step 5 reads them; the
    label map written into `project`."""
    import demo_data
    import preprocess

    df = demo_data.make_catalogue(900, seed=seed)
    vc = df["category"].value_counts()
    df = df[df["category"].isin(vc[vc >= 20].index)].reset_index(drop=True)
    classes = sorted(df["category"].unique())
    df["label"] = df["category"].map({c: i for i, c in enumerate(classes)})
    df["text_clean"] = preprocess.clean_texts(preprocess.combine_text(df["product_title"], df["product_description"]))
    (project.models / "label_map.json").write_text(json.dumps(preprocess.label_map(classes)))
    return df, classes


def test_training_saves_model_vocab_curve_and_predicts_the_same_after_loading(project):
    from config import Config
    from evaluate import scores

    df, classes = labelled_catalogue(project, seed=2)
    train, val, test = df.iloc[:600], df.iloc[600:720], df.iloc[720:]
    cfg = Config(lstm_epochs=8, lstm_patience=3, lstm_embed_dim=32, lstm_units=16, lstm_batch_size=32)
    row = lstm.train(train, val, test, cfg, project, n_classes=len(classes))
    assert row["model"] == "lstm" and row["accuracy"] > 0.5 and 0 <= row["val_accuracy"] <= 1
    meta = json.loads((project.models / "lstm_vocab.json").read_text())
    assert 0 <= meta["best_epoch"] < len(meta["history"]["loss"]) <= 9  # epoch 0: the bag alone
    assert (project.plots / "lstm_training_curve.png").stat().st_size > 5000
    pred = lstm.LstmPredictor(project.models / "lstm.h5", project.models / "lstm_vocab.json")
    probs = pred.predict_proba_clean(test["text_clean"].tolist())
    again = scores(test["category"].tolist(), [pred.classes[i] for i in probs.argmax(1)])
    assert again["accuracy"] == pytest.approx(row["accuracy"])


def test_refit_trains_the_chosen_epochs_on_every_row_and_saves_what_the_predictor_loads(project):
    """lstm.refit (the bench's final model): the bag and the epochs early stopping chose, on
    train + val, no validation; the saved model replaces the early-stopped one and loads back."""
    from config import Config

    df, classes = labelled_catalogue(project, seed=3)
    cfg = Config(lstm_epochs=8, lstm_patience=3, lstm_embed_dim=16, lstm_units=8, lstm_batch_size=32)
    row = lstm.train(df.iloc[:400], df.iloc[400:480], df.iloc[480:], cfg, project, n_classes=len(classes))
    assert 0 <= row["best_epoch"] <= cfg.lstm_epochs
    out = lstm.refit(df.iloc[:480], cfg, project, len(classes), epochs=2)
    assert out["train_rows"] == 480 and "then 2 BiLSTM epochs" in out["notes"]
    meta = json.loads((project.models / "lstm_vocab.json").read_text())
    assert meta["refit"] is True and meta["best_epoch"] == 2
    assert len(meta["history"]["loss"]) == 3  # epoch 0 (the bag alone), then 2
    assert "val_loss" not in meta["history"]  # no validation rows in a refit
    pred = lstm.LstmPredictor(project.models / "lstm.h5", project.models / "lstm_vocab.json")
    probs = pred.predict_proba_clean(df["text_clean"].iloc[480:].tolist())
    assert probs.shape == (len(df) - 480, len(classes))
    assert np.mean(probs.argmax(1) == df["label"].iloc[480:].to_numpy()) > 0.5


def test_bag_logits_cover_every_class_and_a_class_the_bag_never_saw_scores_lowest():
    from config import Config

    texts = ["red mug", "blue mug", "usb-c cable", "hdmi cable", "oak table", "pine table"]
    y = np.array([0, 0, 2, 2, 3, 3])  # class 1 has no rows
    bag = lstm.fit_bag(texts, y, Config())
    out = lstm.bag_logits(bag, ["green mug", "usb-c hub"], 4)
    assert out.shape == (2, 4) and out.dtype == np.float32
    assert out.argmax(1).tolist() == [0, 2]
    assert np.all(out[:, 1] <= out.min(axis=1) + 1e-6) and np.all(out[:, 1] < np.delete(out, 1, axis=1).min(1) - 19)
    two = lstm.bag_logits(lstm.fit_bag(texts[:4], np.array([0, 0, 1, 1]), Config()), ["red mug", "hdmi cable"], 2)
    assert two.argmax(1).tolist() == [0, 1]  # sklearn's one-column binary logits, as two columns


def test_out_of_fold_logits_know_nothing_of_their_own_row():
    """Labels carried only by a token unique to each row: the bag fitted on every row reproduces
    them, the out-of-fold logits (what the LSTM trains on) cannot, as on a title never seen."""
    from config import Config

    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=90)
    texts = [f"item{i} widget" for i in range(90)]
    cfg = Config(lstm_bag_folds=3)
    in_sample = lstm.bag_logits(lstm.fit_bag(texts, y, cfg), texts, 3)
    oof = lstm.out_of_fold_logits(texts, y, 3, cfg)
    assert np.mean(in_sample.argmax(1) == y) == 1.0
    assert np.mean(oof.argmax(1) == y) < 0.6
    assert np.allclose(oof.std(axis=0), 0, atol=0.5)  # each row's unique token is unknown to its fold's bag


def test_the_model_starts_as_the_bag_and_epoch_zero_is_a_candidate():
    """fit_lstm: the BiLSTM's Dense starts at zero (the model predicts softmax(bag logits)); the
    history starts at epoch 0; with validation labels the bag gets right and the LSTM cannot
    improve on, the kept model is the bag again."""
    import keras

    from config import Config

    rng = np.random.default_rng(0)
    x = rng.integers(2, 30, size=(64, 6)).astype("int32")
    y = (x[:, 0] % 3).astype("int32")
    logits = np.eye(3, dtype="float32")[y] * 5.0  # a bag that is always right
    cfg = Config(lstm_epochs=3, lstm_patience=3, lstm_embed_dim=8, lstm_units=4, lstm_batch_size=16)
    model = lstm.build_model(30, 3, 6, cfg)
    start = model.predict([x, logits], verbose=0)
    np.testing.assert_allclose(start, keras.ops.convert_to_numpy(keras.ops.softmax(logits)), atol=1e-6)
    history = lstm.fit_lstm(model, [x, logits], (y + 1) % 3, [x, logits], y, cfg, None, [])
    assert len(history["val_accuracy"]) == 4 and history["val_accuracy"][0] == 1.0
    assert lstm.best_epoch(history) == 0
    np.testing.assert_allclose(model.predict([x, logits], verbose=0), start, atol=1e-6)
    assert lstm.fit_lstm(model, [x, logits], y, None, None, cfg, None, [], fixed_epochs=0).keys() == {"loss", "accuracy"}


def test_smoothed_loss_is_plain_cross_entropy_at_zero_and_spreads_the_rest_evenly():
    import keras

    loss_cls = lstm.custom_objects()["SmoothedSparseCrossentropy"]
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], dtype="float32")
    y = np.array([0, 2])
    plain = keras.losses.SparseCategoricalCrossentropy()(y, p)
    np.testing.assert_allclose(float(loss_cls(0.0)(y, p)), float(plain), rtol=1e-6)
    expected = np.mean([-(0.9 * np.log(p[i, y[i]]) + 0.1 * np.log(p[i]).mean()) for i in range(2)])
    np.testing.assert_allclose(float(loss_cls(0.1)(y, p)), expected, rtol=1e-5)


def test_a_tight_budget_cuts_the_bag_rows_and_says_so(project, monkeypatch):
    """bag_inputs with a budget step: the bag's fits are timed on 1,000 rows and its rows cut to
    what fits a third of the time left, recorded as a cut; every row still gets logits."""
    from config import Config

    import budget

    df, classes = labelled_catalogue(project, seed=4)
    df = pd.concat([df] * 3, ignore_index=True)  # over 1,000 rows
    cfg = Config(lstm_min_rows=200)
    with budget.Budget(60).step("lstm") as st:
        monkeypatch.setattr(st, "left", lambda: 0.001)  # a millisecond: the floor
        bag, logits = lstm.bag_inputs(df, cfg, len(classes), st)
    assert logits.shape == (len(df), len(classes)) and np.isfinite(logits).all()
    assert any(c.startswith("LSTM bag rows: 200 of") for c in st.cuts), st.cuts
    assert "LSTM bag rows" in st.rates
