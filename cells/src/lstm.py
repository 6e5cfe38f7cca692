"""Step 5 (sequence model): a Keras 3 bidirectional LSTM over the cleaned title's words, on top
of a TF-IDF bag-of-words.

Embedding -> bidirectional LSTM (all steps) -> max- and mean-pooling over time -> dropout ->
class logits, added before the softmax to a second input: the row's bag-of-words logits, from a
logistic regression on the TF-IDF of the same cleaned text (Step 4's word and char n-grams,
`feature_engineering.cleaned_text_vectorizer`). The LSTM's Dense starts at zero, so the model
starts as exactly the bag's predictions and learns what the bag gets wrong. With the PyTorch
backend the LSTM is `FusedLSTM`: a Keras layer whose weights are Keras variables and whose
forward pass is torch's fused LSTM kernel (Keras's own LSTM runs one Python step per token
there, ~5x slower on CPU); other backends use keras.layers.LSTM. Pooling over every step, not
the last state only, lets a short title's decisive word ("kettle") count wherever it sits.

Why the bag, and why stacked (`fit_bag`, `out_of_fold_logits`): on small catalogues (asaniczka
samples: ~15-30 training titles per class) the LSTM alone overfits in a few epochs and stays ~10
points under MultinomialNB. The bag is fitted first, by scikit-learn (convex: no epochs to choose,
no seed to draw). The LSTM then trains on each training row's *out-of-fold* bag logits (from bags
fitted on the other folds), which are as wrong on that row as the full bag is on a title it has
never seen; on in-sample logits, which fit every training title, it has nothing left to learn.
Validation, test and new titles get the full bag's logits. Adam, label smoothing, square-root
class weights (a 5-row class is weighted ~4x a 100-row one, not 20x; the bag's rows are weighted
the same), early stopping on validation accuracy with the best epoch's weights restored, where
epoch 0 (the bag alone) counts too. The training curve, from epoch 0, is saved as
results/plots/lstm_training_curve.png.

The saved model is models/lstm.h5 + models/lstm_bag.joblib (the bag: TF-IDF + logistic
regression) + models/lstm_vocab.json (vocabulary, max_len, labels); its input is `text_clean`
(preprocess.TextCleaner output), encoded by `encode` and `bag_logits` both here and in
LstmPredictor (Step 8).

    import lstm
    row = lstm.train(train_df, val_df, test_df, cfg, paths, n_classes)   # Step 5 calls this
    pred = lstm.LstmPredictor(paths.models / "lstm.h5", paths.models / "lstm_vocab.json")
"""
from __future__ import annotations

import functools
import json
import os
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

PAD, UNK = 0, 1


def tokens(text: str) -> list[str]:
    """The cleaned text's words, split as the TF-IDF word model splits them."""
    from preprocess import WORD_TOKEN

    return re.findall(WORD_TOKEN, str(text))


def build_vocab(texts: Iterable[str], size: int, min_count: int = 1) -> list[str]:
    counts = Counter(w for t in texts for w in tokens(t))
    return [w for w, c in counts.most_common(size) if c >= min_count]


def encode(texts: Iterable[str], vocab: list[str] | dict[str, int], max_len: int) -> np.ndarray:
    """Token ids (0 = pad, 1 = unknown), truncated to max_len and pre-padded."""
    index = vocab if isinstance(vocab, dict) else {w: i + 2 for i, w in enumerate(vocab)}
    texts = list(texts)
    out = np.zeros((len(texts), max_len), dtype=np.int32)
    for r, t in enumerate(texts):
        ids = [index.get(w, UNK) for w in tokens(t)][:max_len]
        if ids:
            out[r, max_len - len(ids):] = ids
    return out


def class_weights(y: np.ndarray, n_classes: int) -> dict[int, float]:
    """1/sqrt(count), scaled to mean 1 over the training rows."""
    counts = np.bincount(y, minlength=n_classes).astype(np.float64)
    w = np.zeros(n_classes)
    present = counts > 0
    w[present] = 1.0 / np.sqrt(counts[present])
    w *= len(y) / float((w[y]).sum())
    return {int(c): float(w[c]) for c in np.flatnonzero(present)}


@functools.cache
def _classes() -> dict[str, Any]:
    return {"FusedLSTM": _fused_lstm_class(), "SmoothedSparseCrossentropy": _smoothed_loss()}


def custom_objects() -> dict[str, Any]:
    """The model's own layers and loss, by name, for keras.models.load_model (built once, on
    first use: keras and torch are imported only then)."""
    return dict(_classes())


def fused_lstm_class():
    return custom_objects()["FusedLSTM"]


def _smoothed_loss():
    import keras

    @keras.saving.register_keras_serializable(package="product_categorization")
    class SmoothedSparseCrossentropy(keras.losses.Loss):
        """Cross-entropy against (1 - smoothing) on the true class plus smoothing spread evenly,
        from integer labels (no one-hot copy of 300k rows x n_classes)."""

        def __init__(self, smoothing: float = 0.0, name: str = "smoothed_sparse_crossentropy", **kwargs):
            super().__init__(name=name, **kwargs)
            self.smoothing = float(smoothing)

        def call(self, y_true, y_pred):
            ops = keras.ops
            logp = ops.log(ops.clip(y_pred, 1e-7, 1.0))
            y = ops.cast(ops.reshape(y_true, (-1,)), "int32")
            true = ops.take_along_axis(logp, ops.expand_dims(y, -1), axis=-1)[:, 0]
            return -(1.0 - self.smoothing) * true - self.smoothing * ops.mean(logp, axis=-1)

        def get_config(self):
            return {**super().get_config(), "smoothing": self.smoothing}

    return SmoothedSparseCrossentropy


def _fused_lstm_class():
    import keras
    import torch

    @keras.saving.register_keras_serializable(package="product_categorization")
    class FusedLSTM(keras.layers.Layer):
        """Bidirectional LSTM returning every step: the gates and weights of keras.layers.LSTM
        (glorot/orthogonal kernels, zero biases), computed by torch.lstm in one call."""

        def __init__(self, units: int, **kwargs):
            super().__init__(**kwargs)
            self.units = int(units)

        def build(self, input_shape):
            d, u = int(input_shape[-1]), self.units
            self.weights_ = [self.add_weight(name=f"{side}_{name}", shape=shape, initializer=init)
                             for side in ("forward", "backward")
                             for name, shape, init in (("w_ih", (4 * u, d), "glorot_uniform"),
                                                       ("w_hh", (4 * u, u), "orthogonal"),
                                                       ("b_ih", (4 * u,), "zeros"), ("b_hh", (4 * u,), "zeros"))]

        def call(self, x):
            h0 = torch.zeros(2, x.shape[0], self.units, device=x.device, dtype=x.dtype)
            out, _, _ = torch.lstm(x, (h0, h0), [w.value for w in self.weights_], True, 1, 0.0, self.trainable,
                                   True, True)
            return out

        def compute_output_shape(self, input_shape):
            return (*input_shape[:-1], 2 * self.units)

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    return FusedLSTM


def bidirectional_lstm(units: int):
    import keras

    if keras.backend.backend() == "torch":
        return fused_lstm_class()(units)
    return keras.layers.Bidirectional(keras.layers.LSTM(units, return_sequences=True))


BAG_FILE = "lstm_bag.joblib"


def fit_bag(texts, y: np.ndarray, cfg, sample_weight: np.ndarray | None = None):
    """The bag: TF-IDF of the cleaned text (Step 4's vectorizer at cfg.lstm_bag_ngram_max and
    cfg.lstm_bag_char_ngrams) -> LogisticRegression(C=cfg.lstm_bag_C), fitted on (texts, y)."""
    from dataclasses import replace

    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    from feature_engineering import cleaned_text_vectorizer

    texts = list(texts)
    features = replace(cfg, tfidf_ngram_max=int(cfg.lstm_bag_ngram_max), tfidf_char_ngrams=bool(cfg.lstm_bag_char_ngrams))
    bag = Pipeline([("tfidf", cleaned_text_vectorizer(features, len(texts))),
                    ("clf", LogisticRegression(C=float(cfg.lstm_bag_C), max_iter=int(cfg.lstm_bag_max_iter),
                                               random_state=int(cfg.seed)))])
    return bag.fit(texts, y, clf__sample_weight=sample_weight)


def bag_logits(bag, texts, n_classes: int) -> np.ndarray:
    """(rows, n_classes) float32 logits of the fitted bag; a class the bag never saw in training
    sits 20 below the row's lowest logit (probability ~0 until the LSTM learns otherwise)."""
    texts = list(texts)
    d = np.asarray(bag.decision_function(texts), dtype=np.float64) if texts else np.zeros((0, 1))
    known = np.asarray(bag.classes_, dtype=int)
    if d.ndim == 1:  # two classes: sklearn gives the second's logit against the first
        d = np.stack([np.zeros_like(d), d], axis=1)
    out = np.repeat(d.min(axis=1, keepdims=True) - 20.0, n_classes, axis=1) if len(d) else np.zeros((0, n_classes))
    out[:, known] = d
    return out.astype(np.float32)


def out_of_fold_logits(texts, y: np.ndarray, n_classes: int, cfg,
                       sample_weight: np.ndarray | None = None) -> np.ndarray:
    """Each row's bag logits from a bag fitted on the other cfg.lstm_bag_folds folds (stratified
    where every class has that many rows)."""
    from sklearn.model_selection import KFold, StratifiedKFold

    texts = np.asarray(list(texts), dtype=object)
    k = int(cfg.lstm_bag_folds)
    counts = np.bincount(y)
    splitter = (StratifiedKFold(k, shuffle=True, random_state=cfg.seed) if counts[counts > 0].min() >= k
                else KFold(k, shuffle=True, random_state=cfg.seed))
    out = np.zeros((len(texts), n_classes), dtype=np.float32)
    for i, (fit_rows, held) in enumerate(splitter.split(texts, y), 1):
        t0 = time.perf_counter()
        bag = fit_bag(texts[fit_rows], y[fit_rows], cfg,
                      None if sample_weight is None else sample_weight[fit_rows])
        out[held] = bag_logits(bag, texts[held], n_classes)
        print(f"LSTM bag: fold {i}/{k} fitted on {len(fit_rows):,} rows ({time.perf_counter() - t0:.0f} s)", flush=True)
    return out


def build_model(n_tokens: int, n_classes: int, max_len: int, cfg):
    """The BiLSTM on token ids whose logits add to the second input, the bag's logits, compiled.
    The LSTM branch's Dense starts at zero: the model starts as exactly the bag's predictions."""
    import keras

    ids = keras.Input(shape=(max_len,), dtype="int32", name="token_ids")
    bag = keras.Input(shape=(n_classes,), dtype="float32", name="bag_logits")
    emb = keras.layers.Embedding(n_tokens, cfg.lstm_embed_dim, mask_zero=False)(ids)
    emb = keras.layers.SpatialDropout1D(cfg.lstm_dropout)(emb)
    seq = bidirectional_lstm(cfg.lstm_units)(emb)
    pooled = keras.layers.Concatenate()([keras.layers.GlobalMaxPooling1D()(seq),
                                         keras.layers.GlobalAveragePooling1D()(seq),
                                         keras.layers.GlobalAveragePooling1D()(emb)])
    logits = keras.layers.Dense(n_classes, kernel_initializer="zeros", name="lstm_logits")(
        keras.layers.Dropout(cfg.lstm_dropout)(pooled))
    model = keras.Model([ids, bag], keras.layers.Activation("softmax")(keras.layers.Add()([logits, bag])))
    _compile(model, cfg)
    return model


def _compile(model, cfg) -> None:
    import keras

    model.compile(optimizer=keras.optimizers.Adam(cfg.lstm_learning_rate), metrics=["accuracy"],
                  loss=custom_objects()["SmoothedSparseCrossentropy"](float(cfg.lstm_label_smoothing)))


def fit_lstm(model, x_tr, y_tr, x_va, y_va, cfg, class_weight, callbacks,
             fixed_epochs: int | None = None) -> dict[str, list[float]]:
    """Train the BiLSTM on top of the bag ([token ids, bag logits] inputs); the history starts at
    epoch 0, the bag alone. Early stopping on validation accuracy restores the best epoch, and
    if no epoch beats epoch 0 the LSTM's Dense goes back to zero: the model is the bag again.
    With `fixed_epochs` there is no validation: exactly that many epochs (`refit`); 0 trains none."""
    import keras

    def measure(x, y, weights=None):  # epoch 0, weighted as fit weighs its epochs
        loss, acc = model.evaluate(x, y, sample_weight=weights, batch_size=1024, verbose=0)
        return [float(loss)], [float(acc)]

    weights = None if not class_weight else np.array([class_weight[int(c)] for c in y_tr], dtype=np.float32)
    start = dict(zip(("loss", "accuracy"), measure(x_tr, y_tr, weights)))
    if fixed_epochs is None:
        start.update(zip(("val_loss", "val_accuracy"), measure(x_va, y_va)))
    epochs = int(cfg.lstm_epochs if fixed_epochs is None else fixed_epochs)
    if epochs == 0:
        return start
    dense = model.get_layer("lstm_logits")
    initial = [np.array(w) for w in dense.get_weights()]
    stop, val = [], {}
    if fixed_epochs is None:
        stop = [keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max", patience=int(cfg.lstm_patience),
                                              restore_best_weights=True)]
        val = {"validation_data": (x_va, y_va)}
    hist = model.fit(x_tr, y_tr, epochs=epochs, batch_size=cfg.lstm_batch_size, class_weight=class_weight,
                     callbacks=[*stop, *callbacks], verbose=2, **val)
    history = {k: start[k] + [float(v) for v in vals] for k, vals in hist.history.items() if k in start}
    if fixed_epochs is None and max(history["val_accuracy"][1:]) <= history["val_accuracy"][0]:
        dense.set_weights(initial)
    return history


def best_epoch(history: dict[str, list[float]]) -> int:
    """The epoch fit_lstm kept: the first with the highest validation accuracy (0: the bag alone)."""
    return int(np.argmax(history["val_accuracy"]))


def plot_curve(history: dict[str, list[float]], path, title: str) -> None:
    from evaluate import plot_training_curves

    plot_training_curves(np.arange(len(history["loss"])),
                         {"train loss (class-weighted)": history["loss"], "validation loss": history["val_loss"]},
                         {"train accuracy": history["accuracy"], "validation accuracy": history["val_accuracy"]},
                         path, title)


def row_cap(cfg) -> int:
    """Training rows: one Python-level step per token on CPU makes it ~10x slower there than on a GPU."""
    import torch

    return cfg.lstm_sample if torch.cuda.is_available() else cfg.lstm_cpu_sample


def vocabulary(train_df: pd.DataFrame, cfg) -> tuple[list[str], int]:
    """(vocab, max_len) of the training rows' cleaned text."""
    vocab = build_vocab(train_df["text_clean"], cfg.lstm_vocab)
    # cleaned titles are short: padding to cfg.lstm_max_len when 95% fit in fewer tokens only
    # adds recurrent steps
    n_tok = np.array([len(tokens(t)) for t in train_df["text_clean"]])
    return vocab, int(min(cfg.lstm_max_len, max(8, np.percentile(n_tok, 95))))


def save(model, bag, vocab: list[str], max_len: int, paths, training: dict) -> dict[str, str]:
    """models/lstm.h5 + lstm_bag.joblib + lstm_vocab.json (what LstmPredictor loads; `training`:
    history and epochs, kept for the record); returns the id -> label map written there."""
    from atomic import atomic_joblib_dump, atomic_path, atomic_write_json
    from splits import load_label_map

    with atomic_path(paths.models / "lstm.h5", suffix=".h5") as tmp:
        model.save(tmp)
    atomic_joblib_dump(bag, paths.models / BAG_FILE)
    id2label = {str(i): c for i, c in load_label_map(paths)[0].items()}
    atomic_write_json(paths.models / "lstm_vocab.json",
                      {"vocab": vocab, "max_len": max_len, "pad_id": PAD, "unk_id": UNK, "padding": "pre",
                       "bag": BAG_FILE, "input": "text_clean (preprocess.TextCleaner output)", "id2label": id2label,
                       **training})
    return id2label


def _weights(y: np.ndarray, n_classes: int) -> tuple[dict[int, float], np.ndarray]:
    cw = class_weights(y, n_classes)
    return cw, np.array([cw[int(c)] for c in y])


BAG_SHARE = 1 / 3  # of the step's allowance at most, so the BiLSTM keeps the rest


def bag_inputs(tr: pd.DataFrame, cfg, n_classes: int, step=None) -> tuple[Any, np.ndarray]:
    """(bag, logits): the bag fitted on tr (a stratified cfg.lstm_bag_rows of it, when larger), and
    every row of tr's bag logits: out-of-fold for the rows the bag was fitted on, the bag's own for
    the rest (it never saw them either). With a budget `step`, a bag fitted on 1,000 rows times the
    fits (cfg.lstm_bag_folds + 1 of them, each on up to all the rows) and the rows are cut to what
    fits BAG_SHARE of the step's time left."""
    from budget import per_second
    from sampling import stratified_cap

    cap = min(int(cfg.lstm_bag_rows), len(tr))
    if step is not None and cap > 1_000:
        t0 = time.perf_counter()
        probe = stratified_cap(tr, 1_000, cfg.seed)
        fit_bag(probe["text_clean"], probe["label"].to_numpy(np.int32), cfg)
        per_row = (time.perf_counter() - t0) / len(probe)
        fits = int(cfg.lstm_bag_folds) + 1
        cap = step.rows_that_fit(fits * per_row / BAG_SHARE, cap=cap, minimum=min(cap, int(cfg.lstm_min_rows)),
                                 what="LSTM bag rows", rate=f"bag fit {per_second(1, per_row, 'rows')}")
    t0 = time.perf_counter()
    rows = stratified_cap(tr.assign(_row=np.arange(len(tr))), cap, cfg.seed)["_row"].to_numpy()
    fit_rows = tr.iloc[rows]
    y_bag = fit_rows["label"].to_numpy(np.int32)
    sw = _weights(y_bag, n_classes)[1]
    bag = fit_bag(fit_rows["text_clean"], y_bag, cfg, sw)
    print(f"LSTM bag: fitted on {len(fit_rows):,} rows ({time.perf_counter() - t0:.0f} s)", flush=True)
    logits = np.empty((len(tr), n_classes), dtype=np.float32)
    rest = np.setdiff1d(np.arange(len(tr)), rows)
    if len(rest):
        logits[rest] = bag_logits(bag, tr["text_clean"].iloc[rest], n_classes)
    logits[rows] = out_of_fold_logits(fit_rows["text_clean"], y_bag, n_classes, cfg, sw)
    return bag, logits


def train(train_df: pd.DataFrame, val_df: pd.DataFrame, test_df: pd.DataFrame, cfg, paths,
          n_classes: int) -> dict[str, Any]:
    """Fit the bag and the BiLSTM on (capped) train rows with early stopping on val; save the model,
    bag, vocab and curve; score val/test."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    from evaluate import scores
    from sampling import stratified_cap

    import budget

    keras.utils.set_random_seed(cfg.seed)
    t0 = time.perf_counter()
    tr = stratified_cap(train_df, row_cap(cfg), cfg.seed).reset_index(drop=True)
    va = stratified_cap(val_df, cfg.lstm_val_rows, cfg.seed).reset_index(drop=True)
    run_budget = budget.current(cfg, paths)
    with run_budget.step("lstm") as st:
        # the bag first (cfg.lstm_bag_folds + 1 convex fits on these rows), then the LSTM's budget
        bag, oof = bag_inputs(tr, cfg, n_classes, st)
        vocab, max_len = vocabulary(tr, cfg)
        x_tr, x_va = encode(tr["text_clean"], vocab, max_len), encode(va["text_clean"], vocab, max_len)
        # Time budget: a throwaway model of the same shape trains on four batches (the first, which
        # pays for setting up, is not counted) and predicts once; that sizes the rows (the epochs
        # stay: early stopping decides them).
        bs = int(cfg.lstm_batch_size)
        n_fit, n_pred = min(len(tr), 4 * bs), min(len(va), 1024)
        probe = build_model(len(vocab) + 2, n_classes, max_len, cfg)
        stamps: list[float] = []
        timer = keras.callbacks.LambdaCallback(on_train_batch_end=lambda *a, **kw: stamps.append(time.perf_counter()))
        t1 = time.perf_counter()
        probe.fit([x_tr[:n_fit], oof[:n_fit]], tr["label"].to_numpy(np.int32)[:n_fit], epochs=1, batch_size=bs,
                  verbose=0, callbacks=[timer])
        t2 = time.perf_counter()
        probe.predict([x_va[:n_pred], np.zeros((n_pred, n_classes), np.float32)], batch_size=1024, verbose=0)
        steady = np.diff(stamps)
        per_row = (float(np.median(steady)) / bs if len(steady) else (t2 - t1) / max(1, n_fit))
        per_val = (time.perf_counter() - t2) / max(1, n_pred)
        del probe
        sizing = budget.size_training(st.left(), rows=len(tr), epochs=int(cfg.lstm_epochs), seconds_per_row=per_row,
                                      eval_rows=len(va), seconds_per_eval_row=per_val,
                                      min_rows=int(cfg.lstm_min_rows), min_epochs=int(cfg.lstm_epochs),
                                      min_eval_rows=min(len(va), 1000))
        st.record_sizing("LSTM", sizing, rate=f"{budget.per_second(1, per_row, 'training rows')}, "
                                              f"{budget.per_second(1, per_val, 'validation rows')}")
        if sizing.rows < len(tr) or sizing.eval_rows < len(va):
            # fewer LSTM rows: their out-of-fold logits stay valid, and the bag keeps every row
            keep = stratified_cap(tr.assign(_row=np.arange(len(tr))), sizing.rows, cfg.seed)["_row"].to_numpy()
            tr, oof = tr.iloc[keep].reset_index(drop=True), oof[keep]
            va = stratified_cap(va, sizing.eval_rows, cfg.seed).reset_index(drop=True)
            vocab, max_len = vocabulary(tr, cfg)
            x_tr, x_va = encode(tr["text_clean"], vocab, max_len), encode(va["text_clean"], vocab, max_len)
        y_tr, y_va = tr["label"].to_numpy(np.int32), va["label"].to_numpy(np.int32)
        model = build_model(len(vocab) + 2, n_classes, max_len, cfg)
        history = fit_lstm(model, [x_tr, oof], y_tr, [x_va, bag_logits(bag, va["text_clean"], n_classes)], y_va, cfg,
                           _weights(y_tr, n_classes)[0], [budget.keras_epoch_guard(st, "LSTM")])
    seconds = time.perf_counter() - t0
    chosen = best_epoch(history)
    bag_val = history["val_accuracy"][0]
    id2label = save(model, bag, vocab, max_len, paths, {"history": history, "best_epoch": chosen,
                                                        "bag_val_accuracy": bag_val})
    curve = paths.plots / "lstm_training_curve.png"
    plot_curve(history, curve, f"Keras BiLSTM on top of the TF-IDF bag (epoch 0: the bag alone); best epoch "
                               f"{chosen}, weights restored; {len(tr):,} train rows")
    classes = [id2label[str(i)] for i in range(len(id2label))]
    predictor = LstmPredictor.from_parts(model, bag, vocab, max_len, classes)

    def score(df):
        probs = predictor.predict_proba_clean(df["text_clean"].tolist())
        return scores(df["category"].astype(str).tolist(), [classes[i] for i in probs.argmax(1)], probs, classes)

    val_m, test_m = score(va), score(test_df)
    n_lstm = len(history["loss"]) - 1
    return {"model": "lstm", **test_m, "val_accuracy": val_m["accuracy"], "val_macro_f1": val_m["macro_f1"],
            "train_seconds": round(seconds, 2), "train_rows": len(tr), "n_test": len(test_df),
            "curve": str(curve), "history": history, "best_epoch": chosen,
            "notes": f"Keras {keras.__version__} ({keras.backend.backend()}): a BiLSTM ({cfg.lstm_units} units) on "
                     f"top of a TF-IDF bag-of-words (logistic regression, C={cfg.lstm_bag_C:g}; val accuracy "
                     f"{bag_val:.4f} alone), trained on its {cfg.lstm_bag_folds}-fold out-of-fold logits "
                     f"({n_lstm} epochs, best {chosen}{' = the bag alone' if chosen == 0 else ''}, val accuracy "
                     f"{max(history['val_accuracy']):.4f}); label smoothing {cfg.lstm_label_smoothing:g}, vocab "
                     f"{len(vocab):,}, max_len {max_len}, early stopping on val accuracy, sqrt class weights, on "
                     f"{len(tr):,} rows; curve: results/plots/{curve.name}"}


def refit(train_df: pd.DataFrame, cfg, paths, n_classes: int, epochs: int) -> dict[str, Any]:
    """The model `train` builds, fitted again on train_df (bag, out-of-fold logits, then the BiLSTM
    for the `epochs` early stopping chose there; 0: the bag alone), with no validation rows; saved
    over models/lstm.h5 + lstm_bag.joblib + lstm_vocab.json in `paths`. For a comparison in which
    every other model trains on all the training rows (bench/adapters.run_lstm refits on train +
    its validation slice): the notebook keeps the early-stopped model, whose validation figures
    Step 8 compares."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    from sampling import stratified_cap

    keras.utils.set_random_seed(cfg.seed)
    t0 = time.perf_counter()
    tr = stratified_cap(train_df, row_cap(cfg), cfg.seed).reset_index(drop=True)
    bag, oof = bag_inputs(tr, cfg, n_classes)
    vocab, max_len = vocabulary(tr, cfg)
    x_tr, y_tr = encode(tr["text_clean"], vocab, max_len), tr["label"].to_numpy(np.int32)
    model = build_model(len(vocab) + 2, n_classes, max_len, cfg)
    history = fit_lstm(model, [x_tr, oof], y_tr, None, None, cfg, _weights(y_tr, n_classes)[0], [],
                       fixed_epochs=int(epochs))
    save(model, bag, vocab, max_len, paths, {"history": history, "best_epoch": int(epochs), "refit": True})
    return {"train_rows": len(tr), "train_seconds": round(time.perf_counter() - t0, 2),
            "notes": f"refit on {len(tr):,} rows: the bag, then {epochs} BiLSTM epochs"}


class LstmPredictor:
    """The saved Keras model and its bag (models/lstm.h5 + lstm_bag.joblib + lstm_vocab.json); it
    reads the cleaned text column."""

    kind = "lstm"

    def __init__(self, model_path: Path, vocab_path: Path):
        os.environ.setdefault("KERAS_BACKEND", "torch")
        import joblib
        import keras

        meta = json.loads(Path(vocab_path).read_text(encoding="utf-8"))
        if "bag" not in meta:
            raise ValueError(f"{vocab_path} names no bag ({BAG_FILE}): an earlier lstm.py saved this model; "
                             "run Step 5 again (FORCE=True) to train the current one")
        self.model = keras.models.load_model(str(model_path), compile=False, custom_objects=custom_objects())
        self.bag = joblib.load(Path(vocab_path).parent / meta["bag"])
        self.vocab = list(meta["vocab"])
        self.max_len = int(meta["max_len"])
        self.classes = [str(meta["id2label"][str(i)]) for i in range(len(meta["id2label"]))]

    @classmethod
    def from_parts(cls, model, bag, vocab: list[str], max_len: int, classes: list[str]) -> "LstmPredictor":
        self = cls.__new__(cls)
        self.model, self.bag, self.vocab, self.max_len, self.classes = model, bag, list(vocab), int(max_len), list(classes)
        return self

    def predict_proba_clean(self, texts) -> np.ndarray:
        texts = list(texts)
        x = [encode(texts, self.vocab, self.max_len), bag_logits(self.bag, texts, len(self.classes))]
        return np.asarray(self.model.predict(x, batch_size=1024, verbose=0), dtype=float)
