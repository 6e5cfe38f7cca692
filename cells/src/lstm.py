"""Step 5 (sequence model): a Keras 3 bidirectional LSTM over the cleaned title's words.

Embedding -> bidirectional LSTM (all steps) -> max- and mean-pooling over time -> dropout ->
class logits, plus a bag-of-words branch: a linear model on the title's TF-IDF vector inside the
same Keras model (`BagLogits`: one learned logit vector per word, weighted by the word's IDF,
L2-normalised, L2-penalised), added to the LSTM's logits before the softmax. With the PyTorch
backend the LSTM is `FusedLSTM`: a Keras layer whose weights are Keras variables and whose
forward pass is torch's fused LSTM kernel (Keras's own LSTM runs one Python step per token
there, ~5x slower on CPU); other backends use keras.layers.LSTM. Pooling over every step, not
the last state only, lets a short title's decisive word ("kettle") count wherever it sits.

Why the bag, and why two phases (`fit_in_two_phases`): on small catalogues (asaniczka samples:
~15-30 training titles per class) the LSTM alone overfits in a few epochs and stays ~10 points
under MultinomialNB; trained jointly with the bag it still memorises the titles first and leaves
the bag under-trained. So the bag trains alone first (phase 1), then is frozen while the BiLSTM
learns what it misses (phase 2, starting from the bag's predictions). The bag's logits are its
weights times `lstm_bag_scale`, which under Adam is that branch's learning rate times that
factor. Both phases: Adam, label smoothing, square-root class weights (a 5-row class is weighted
~4x a 100-row one, not 20x), early stopping on validation accuracy with the best epoch's weights
restored. The training curve (both phases) is saved as results/plots/lstm_training_curve.png.

The saved model is models/lstm.h5 + models/lstm_vocab.json (vocabulary, max_len, labels);
its input is `text_clean` (preprocess.TextCleaner output), encoded by `encode` both here and
in LstmPredictor (Step 8).

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
    return {"FusedLSTM": _fused_lstm_class(), "BagLogits": _bag_logits_class(),
            "SmoothedSparseCrossentropy": _smoothed_loss()}


def custom_objects() -> dict[str, Any]:
    """The model's own layers and loss, by name, for keras.models.load_model (built once, on
    first use: keras and torch are imported only then)."""
    return dict(_classes())


def fused_lstm_class():
    return custom_objects()["FusedLSTM"]


def bag_logits_class():
    return custom_objects()["BagLogits"]


def _bag_logits_class():
    import keras

    @keras.saving.register_keras_serializable(package="product_categorization")
    class BagLogits(keras.layers.Layer):
        """A linear model on the row's TF-IDF vector: one logit vector per token id, summed over the
        row's ids weighted by each id's IDF (a fixed, non-trainable weight; pad and unknown ids
        weigh 0), divided by the weights' L2 norm, times `scale`. With every IDF at 1 that is the
        sum over sqrt(n_words). `l2` penalises the table like LogisticRegression's 1/C. Starts at
        zero, so it adds nothing until it learns."""

        def __init__(self, n_tokens: int, n_classes: int, scale: float = 1.0, l2: float = 0.0, **kwargs):
            super().__init__(**kwargs)
            self.n_tokens, self.n_classes, self.scale, self.l2 = int(n_tokens), int(n_classes), float(scale), float(l2)

        def build(self, input_shape):
            self.table = self.add_weight(name="table", shape=(self.n_tokens, self.n_classes), initializer="zeros",
                                         regularizer=keras.regularizers.L2(self.l2) if self.l2 else None)
            self.idf = self.add_weight(name="idf", shape=(self.n_tokens,), initializer="ones", trainable=False)

        def call(self, ids):
            ops = keras.ops
            w = ops.take(self.idf, ids, axis=0) * ops.cast(ops.greater(ids, PAD), self.table.dtype)
            summed = ops.sum(ops.take(self.table, ids, axis=0) * ops.expand_dims(w, -1), axis=1)
            return self.scale * summed / ops.maximum(ops.sqrt(ops.sum(w * w, axis=1, keepdims=True)), 1e-6)

        def compute_output_shape(self, input_shape):
            return (input_shape[0], self.n_classes)

        def get_config(self):
            return {**super().get_config(), "n_tokens": self.n_tokens, "n_classes": self.n_classes,
                    "scale": self.scale, "l2": self.l2}

    return BagLogits


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


def idf_weights(x: np.ndarray, n_tokens: int) -> np.ndarray:
    """Smoothed IDF of every token id over the encoded training rows x (sklearn's formula,
    ln((1 + n) / (1 + df)) + 1); pad and unknown ids get 0, as TF-IDF ignores unknown words."""
    xs = np.sort(x, axis=1)
    first = np.ones(xs.shape, dtype=bool)  # each id once per row
    first[:, 1:] = xs[:, 1:] != xs[:, :-1]
    df = np.bincount(xs[first], minlength=n_tokens)[:n_tokens]
    idf = np.log((1.0 + len(x)) / (1.0 + df)) + 1.0
    idf[[PAD, UNK]] = 0.0
    return idf.astype(np.float32)


def build_model(n_tokens: int, n_classes: int, max_len: int, cfg, idf: np.ndarray | None = None):
    """(model, bag_model): the BiLSTM + bag-of-words model, and the bag branch alone as a model
    of its own (the same BagLogits layer, so the same weights), both compiled. The LSTM branch's
    Dense starts at zero: the model starts as exactly the bag's predictions."""
    import keras

    inp = keras.Input(shape=(max_len,), dtype="int32")
    emb = keras.layers.Embedding(n_tokens, cfg.lstm_embed_dim, mask_zero=False)(inp)
    emb = keras.layers.SpatialDropout1D(cfg.lstm_dropout)(emb)
    seq = bidirectional_lstm(cfg.lstm_units)(emb)
    pooled = keras.layers.Concatenate()([keras.layers.GlobalMaxPooling1D()(seq),
                                         keras.layers.GlobalAveragePooling1D()(seq),
                                         keras.layers.GlobalAveragePooling1D()(emb)])
    logits = keras.layers.Dense(n_classes, kernel_initializer="zeros", name="lstm_logits")(
        keras.layers.Dropout(cfg.lstm_dropout)(pooled))
    bag_layer = bag_logits_class()(n_tokens, n_classes, scale=cfg.lstm_bag_scale, l2=cfg.lstm_bag_l2, name="bag")
    bag = bag_layer(inp)
    if idf is not None:
        bag_layer.idf.assign(np.asarray(idf, dtype="float32"))
    model = keras.Model(inp, keras.layers.Activation("softmax")(keras.layers.Add()([logits, bag])))
    bag_model = keras.Model(inp, keras.layers.Activation("softmax")(bag))
    for m in (bag_model, model):
        _compile(m, cfg)
    return model, bag_model


def _compile(model, cfg) -> None:
    """Adam and the smoothed loss; again after a layer is frozen (Keras reads `trainable` at compile)."""
    import keras

    model.compile(optimizer=keras.optimizers.Adam(cfg.lstm_learning_rate), metrics=["accuracy"],
                  loss=custom_objects()["SmoothedSparseCrossentropy"](float(cfg.lstm_label_smoothing)))


def fit_in_two_phases(model, bag_model, x_tr, y_tr, x_va, y_va, cfg, class_weight, callbacks,
                      fixed_epochs: tuple[int, int] | None = None) -> dict[str, dict[str, list[float]]]:
    """Phase 1 trains the bag-of-words alone (fast, and on small catalogues the strongest part);
    phase 2 freezes it and trains the BiLSTM on what the bag misses. Each phase stops early on
    validation accuracy and restores its best epoch (phase 2 starts from the bag's predictions:
    the LSTM's Dense is zero). Trained jointly from the start, the LSTM memorises the training
    titles within a few epochs and leaves the bag under-trained (asaniczka per_category20,
    validation slice: joint 0.56-0.58, bag alone 0.58). With `fixed_epochs` (bag, LSTM) there is
    no validation: each phase trains for exactly that many epochs (`refit`)."""
    import keras

    def phase(m, epochs, patience, fixed):
        stop, val = [], {}
        if fixed is None:
            stop = [keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max", patience=patience,
                                                  restore_best_weights=True)]
            val = {"validation_data": (x_va, y_va)}
        hist = m.fit(x_tr, y_tr, epochs=int(epochs if fixed is None else fixed), batch_size=cfg.lstm_batch_size,
                     class_weight=class_weight, callbacks=[*stop, *callbacks], verbose=2, **val)
        return {k: [float(v) for v in vals] for k, vals in hist.history.items()}

    bag_fixed, lstm_fixed = fixed_epochs if fixed_epochs is not None else (None, None)
    bag_history = phase(bag_model, int(cfg.lstm_bag_epochs), int(cfg.lstm_bag_patience), bag_fixed)
    model.get_layer("bag").trainable = False
    _compile(model, cfg)
    return {"bag_history": bag_history,
            "history": phase(model, int(cfg.lstm_epochs), int(cfg.lstm_patience), lstm_fixed)}


def plot_curve(history: dict[str, list[float]], path, title: str) -> None:
    from evaluate import plot_training_curves

    plot_training_curves(np.arange(1, len(history["loss"]) + 1),
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


def save(model, vocab: list[str], max_len: int, paths, training: dict) -> dict[str, str]:
    """models/lstm.h5 + lstm_vocab.json (what LstmPredictor loads; `training`: histories and
    epochs, kept for the record); returns the id -> label map written there."""
    from atomic import atomic_path, atomic_write_json
    from splits import load_label_map

    with atomic_path(paths.models / "lstm.h5", suffix=".h5") as tmp:
        model.save(tmp)
    id2label = {str(i): c for i, c in load_label_map(paths)[0].items()}
    atomic_write_json(paths.models / "lstm_vocab.json",
                      {"vocab": vocab, "max_len": max_len, "pad_id": PAD, "unk_id": UNK, "padding": "pre",
                       "input": "text_clean (preprocess.TextCleaner output)", "id2label": id2label, **training})
    return id2label


def train(train_df: pd.DataFrame, val_df: pd.DataFrame, test_df: pd.DataFrame, cfg, paths,
          n_classes: int) -> dict[str, Any]:
    """Fit on (capped) train rows with early stopping on val; save lstm.h5 + vocab + curve; score val/test."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    from evaluate import scores
    from sampling import stratified_cap

    import budget

    keras.utils.set_random_seed(cfg.seed)
    t0 = time.perf_counter()
    tr = stratified_cap(train_df, row_cap(cfg), cfg.seed)
    va = stratified_cap(val_df, cfg.lstm_val_rows, cfg.seed)

    def inputs(tr, va):
        vocab, max_len = vocabulary(tr, cfg)
        return vocab, max_len, encode(tr["text_clean"], vocab, max_len), encode(va["text_clean"], vocab, max_len)

    vocab, max_len, x_tr, x_va = inputs(tr, va)
    run_budget = budget.current(cfg, paths)
    with run_budget.step("lstm") as st:
        # Time budget: a throwaway model of the same shape trains on four batches (the first, which
        # pays for setting up, is not counted) and predicts once; that sizes the rows (the epochs
        # stay: early stopping decides them).
        bs = int(cfg.lstm_batch_size)
        n_fit, n_pred = min(len(tr), 4 * bs), min(len(va), 1024)
        probe, _ = build_model(len(vocab) + 2, n_classes, max_len, cfg)
        stamps: list[float] = []
        timer = keras.callbacks.LambdaCallback(on_train_batch_end=lambda *a, **kw: stamps.append(time.perf_counter()))
        t1 = time.perf_counter()
        probe.fit(x_tr[:n_fit], tr["label"].to_numpy(np.int32)[:n_fit], epochs=1, batch_size=bs, verbose=0,
                  callbacks=[timer])
        t2 = time.perf_counter()
        probe.predict(x_va[:n_pred], batch_size=1024, verbose=0)
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
            tr, va = stratified_cap(tr, sizing.rows, cfg.seed), stratified_cap(va, sizing.eval_rows, cfg.seed)
            vocab, max_len, x_tr, x_va = inputs(tr, va)
        y_tr, y_va = tr["label"].to_numpy(np.int32), va["label"].to_numpy(np.int32)
        model, bag_model = build_model(len(vocab) + 2, n_classes, max_len, cfg, idf_weights(x_tr, len(vocab) + 2))
        fitted = fit_in_two_phases(model, bag_model, x_tr, y_tr, x_va, y_va, cfg, class_weights(y_tr, n_classes),
                                   [budget.keras_epoch_guard(st, "LSTM")])
    seconds = time.perf_counter() - t0
    history, bag_history = fitted["history"], fitted["bag_history"]
    best_epoch = int(np.argmax(history["val_accuracy"])) + 1
    bag_best_epoch = int(np.argmax(bag_history["val_accuracy"])) + 1
    id2label = save(model, vocab, max_len, paths, {"history": history, "best_epoch": best_epoch,
                                                   "bag_history": bag_history, "bag_best_epoch": bag_best_epoch})
    curve = paths.plots / "lstm_training_curve.png"
    n_bag = len(bag_history["loss"])
    plot_curve({k: bag_history[k] + history[k] for k in ("loss", "val_loss", "accuracy", "val_accuracy")},
               curve, f"Keras: bag-of-words epochs 1-{n_bag}, then the BiLSTM on top (best {n_bag + best_epoch}, "
                      f"weights restored); {len(tr):,} train rows")
    classes = [id2label[str(i)] for i in range(len(id2label))]

    def score(df):
        probs = model.predict(encode(df["text_clean"], vocab, max_len), batch_size=1024, verbose=0)
        return scores(df["category"].astype(str).tolist(), [classes[i] for i in probs.argmax(1)], probs, classes)

    val_m, test_m = score(va), score(test_df)
    return {"model": "lstm", **test_m, "val_accuracy": val_m["accuracy"], "val_macro_f1": val_m["macro_f1"],
            "train_seconds": round(seconds, 2), "train_rows": len(tr), "n_test": len(test_df),
            "curve": str(curve), "history": history, "best_epoch": best_epoch, "bag_best_epoch": bag_best_epoch,
            "notes": f"Keras {keras.__version__} ({keras.backend.backend()}): TF-IDF bag-of-words logits trained first "
                     f"({n_bag} epochs, val accuracy {max(bag_history['val_accuracy']):.4f}), then "
                     f"a BiLSTM ({cfg.lstm_units} units) on top ({len(history['loss'])} epochs, best {best_epoch}, val "
                     f"accuracy {max(history['val_accuracy']):.4f}); label "
                     f"smoothing {cfg.lstm_label_smoothing:g}, vocab {len(vocab):,}, max_len {max_len}, early stopping "
                     f"on val accuracy, sqrt class weights, on {len(tr):,} rows; curve: results/plots/{curve.name}"}


def refit(train_df: pd.DataFrame, cfg, paths, n_classes: int, bag_epochs: int, epochs: int) -> dict[str, Any]:
    """The model `train` builds, trained again on train_df for the epochs early stopping chose
    there (`bag_epochs` for the bag, then `epochs` for the BiLSTM), with no validation rows; saved
    over models/lstm.h5 + lstm_vocab.json in `paths`. For a comparison in which every other model
    trains on all the training rows (bench/adapters.run_lstm refits on train + its validation
    slice): the notebook keeps the early-stopped model, whose validation figures Step 8 compares."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    from sampling import stratified_cap

    keras.utils.set_random_seed(cfg.seed)
    t0 = time.perf_counter()
    tr = stratified_cap(train_df, row_cap(cfg), cfg.seed)
    vocab, max_len = vocabulary(tr, cfg)
    x_tr, y_tr = encode(tr["text_clean"], vocab, max_len), tr["label"].to_numpy(np.int32)
    model, bag_model = build_model(len(vocab) + 2, n_classes, max_len, cfg, idf_weights(x_tr, len(vocab) + 2))
    fitted = fit_in_two_phases(model, bag_model, x_tr, y_tr, None, None, cfg, class_weights(y_tr, n_classes), [],
                               fixed_epochs=(int(bag_epochs), int(epochs)))
    save(model, vocab, max_len, paths, {**fitted, "best_epoch": int(epochs), "bag_best_epoch": int(bag_epochs),
                                        "refit": True})
    return {"train_rows": len(tr), "train_seconds": round(time.perf_counter() - t0, 2),
            "notes": f"refit on {len(tr):,} rows for the chosen epochs ({bag_epochs} bag, {epochs} BiLSTM)"}


class LstmPredictor:
    """The saved Keras model (models/lstm.h5 + lstm_vocab.json); it reads the cleaned text column."""

    kind = "lstm"

    def __init__(self, model_path: Path, vocab_path: Path):
        os.environ.setdefault("KERAS_BACKEND", "torch")
        import keras

        meta = json.loads(Path(vocab_path).read_text(encoding="utf-8"))
        self.model = keras.models.load_model(str(model_path), compile=False, custom_objects=custom_objects())
        self.vocab = list(meta["vocab"])
        self.max_len = int(meta["max_len"])
        self.classes = [str(meta["id2label"][str(i)]) for i in range(len(meta["id2label"]))]

    def predict_proba_clean(self, texts) -> np.ndarray:
        x = encode(texts, self.vocab, self.max_len)
        return np.asarray(self.model.predict(x, batch_size=1024, verbose=0), dtype=float)
