"""Step 5's sequence model (lstm.py): FusedLSTM is keras.layers.LSTM's math, training saves what Step 8 loads."""
from __future__ import annotations

import json
import os

import numpy as np
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
    assert 1 <= meta["best_epoch"] <= len(meta["history"]["loss"]) <= 8
    assert (project.plots / "lstm_training_curve.png").stat().st_size > 5000
    pred = lstm.LstmPredictor(project.models / "lstm.h5", project.models / "lstm_vocab.json")
    probs = pred.predict_proba_clean(test["text_clean"].tolist())
    again = scores(test["category"].tolist(), [pred.classes[i] for i in probs.argmax(1)])
    assert again["accuracy"] == pytest.approx(row["accuracy"])


def test_refit_trains_the_chosen_epochs_on_every_row_and_saves_what_the_predictor_loads(project):
    """lstm.refit (the bench's final model): the epochs early stopping chose, on train + val, no
    validation; the saved model replaces the early-stopped one and loads back."""
    from config import Config

    df, classes = labelled_catalogue(project, seed=3)
    cfg = Config(lstm_epochs=8, lstm_patience=3, lstm_embed_dim=16, lstm_units=8, lstm_batch_size=32)
    row = lstm.train(df.iloc[:400], df.iloc[400:480], df.iloc[480:], cfg, project, n_classes=len(classes))
    assert 1 <= row["bag_best_epoch"] <= cfg.lstm_bag_epochs and 1 <= row["best_epoch"] <= cfg.lstm_epochs
    out = lstm.refit(df.iloc[:480], cfg, project, len(classes), bag_epochs=3, epochs=2)
    assert out["train_rows"] == 480 and "3 bag, 2 BiLSTM" in out["notes"]
    meta = json.loads((project.models / "lstm_vocab.json").read_text())
    assert meta["refit"] is True and (meta["bag_best_epoch"], meta["best_epoch"]) == (3, 2)
    assert len(meta["bag_history"]["loss"]) == 3 and len(meta["history"]["loss"]) == 2
    assert "val_loss" not in meta["history"]  # no validation rows in a refit
    pred = lstm.LstmPredictor(project.models / "lstm.h5", project.models / "lstm_vocab.json")
    probs = pred.predict_proba_clean(df["text_clean"].iloc[480:].tolist())
    assert probs.shape == (len(df) - 480, len(classes))
    assert np.mean(probs.argmax(1) == df["label"].iloc[480:].to_numpy()) > 0.5


def test_the_bag_branch_is_a_linear_model_on_the_rows_tfidf_vector_and_padding_adds_nothing():
    import keras

    bag = lstm.bag_logits_class()(5, 2, scale=4.0)
    bag.build((None, 3))
    bag.table.assign(np.array([[9, 9], [9, 9], [1, 0], [0, 1], [2, 2]], dtype="float32"))  # 0 = pad, 1 = unknown
    bag.idf.assign(lstm.idf_weights(np.array([[0, 2, 3], [0, 0, 2], [0, 1, 4]], dtype="int32"), 5))
    idf = keras.ops.convert_to_numpy(bag.idf)
    # sklearn's smoothed idf over 3 rows: id 2 in two rows, ids 3 and 4 in one; pad and unknown weigh 0
    np.testing.assert_allclose(idf, [0, 0, np.log(4 / 3) + 1, np.log(2) + 1, np.log(2) + 1], rtol=1e-6)
    out = keras.ops.convert_to_numpy(bag(np.array([[0, 2, 3], [0, 1, 4], [0, 0, 0]], dtype="int32")))
    w2, w3 = idf[2], idf[3]
    norm = np.hypot(w2, w3)
    np.testing.assert_allclose(out, [[4 * w2 / norm, 4 * w3 / norm], [8.0, 8.0], [0.0, 0.0]], rtol=1e-5)


def test_phase_two_starts_from_the_trained_bag_and_leaves_it_as_it_was():
    """fit_in_two_phases: the BiLSTM's Dense starts at zero (the model predicts what the bag
    alone does) and the bag's table is frozen while the LSTM trains."""
    import keras

    from config import Config

    rng = np.random.default_rng(0)
    x = rng.integers(2, 30, size=(64, 6)).astype("int32")
    y = (x[:, 0] % 3).astype("int32")
    cfg = Config(lstm_epochs=2, lstm_patience=1, lstm_bag_epochs=2, lstm_bag_patience=1, lstm_embed_dim=8, lstm_units=4,
                 lstm_batch_size=16)
    model, bag_model = lstm.build_model(30, 3, 6, cfg, lstm.idf_weights(x, 30))
    np.testing.assert_allclose(model.predict(x, verbose=0), bag_model.predict(x, verbose=0), atol=1e-6)
    seen = {}

    class Snapshot(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            if self.model is model:
                seen["table"] = keras.ops.convert_to_numpy(model.get_layer("bag").table).copy()

    out = lstm.fit_in_two_phases(model, bag_model, x, y, x, y, cfg, None, [Snapshot()])
    assert len(out["bag_history"]["loss"]) >= 1 and len(out["history"]["loss"]) >= 1
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(model.get_layer("bag").table), seen["table"])
    assert np.abs(seen["table"]).sum() > 0  # phase 1 trained it


def test_smoothed_loss_is_plain_cross_entropy_at_zero_and_spreads_the_rest_evenly():
    import keras

    loss_cls = lstm.custom_objects()["SmoothedSparseCrossentropy"]
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], dtype="float32")
    y = np.array([0, 2])
    plain = keras.losses.SparseCategoricalCrossentropy()(y, p)
    np.testing.assert_allclose(float(loss_cls(0.0)(y, p)), float(plain), rtol=1e-6)
    expected = np.mean([-(0.9 * np.log(p[i, y[i]]) + 0.1 * np.log(p[i]).mean()) for i in range(2)])
    np.testing.assert_allclose(float(loss_cls(0.1)(y, p)), expected, rtol=1e-5)
