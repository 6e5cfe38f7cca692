"""Step 3: text cleaning, tokenization (two routes), rare-class rule, stratified split.

Cleaning is vectorised with pandas string methods (one regex pass per toggle over the whole
column), so 1.4M titles clean in tens of seconds, not the minutes a per-row Python loop takes.
`TextCleaner` is the same cleaning as a stateless sklearn transformer: it is the first step of
every saved baseline Pipeline, so serving cleans text exactly as training did.

    import preprocess
    out = preprocess.run(cfg, paths)     # writes data/processed/{train,val,test}.csv + models/label_map.json
    preprocess.clean_texts(["<b>USB-C</b> Cable 2 Pack, 8kg"])   # -> ['usb-c cable pack 8kg']
"""
from __future__ import annotations

import re
import time
from typing import Iterable, Optional

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

_HTML_TAG = r"<[^>]*>"
_HTML_ENTITY = r"&(?:[a-zA-Z]+|#\d+|#x[0-9a-fA-F]+);"
# remove_numbers drops numbers, not model numbers: a whitespace-delimited token made only of
# digits, separators and enclosing punctuation ("2", "19.99", "1,000", "(2)", "50%") goes;
# one with a letter ("8kg", "4k", "1080p", "gvs148dc3b", "2-pack") is a size, unit or model and stays.
_NUMBERS = r"(?<!\S)[^\w\s]*\d+(?:[.,/:-]\d+)*[^\w\s]*(?!\S)"
# punctuation goes, except a hyphen, dot or slash inside a token ("usb-c", "3.5mm", "1/2-inch")
_CONNECTOR = r"[-./]"
_NON_WORD = rf"(?<![a-z0-9]){_CONNECTOR}|{_CONNECTOR}(?![a-z0-9])|[^a-z0-9\s\-./]"
_NON_WORD_CASED = rf"(?<![^\W_]){_CONNECTOR}|{_CONNECTOR}(?![^\W_])|[^\w\s\-./]|_"
# the word-token pattern of every TF-IDF and the LSTM: "usb-c" is one token, as cleaning left it
WORD_TOKEN = r"(?u)\b\w+(?:[-./]\w+)*\b"
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


_STOP_SET = frozenset(ENGLISH_STOP_WORDS | {"s", "t"})


def _lemma_map(tokens: Iterable[str]) -> tuple[dict, str]:
    """Lemmas for the distinct tokens only (cheap even for 1.4M rows); WordNet, else a suffix rule."""
    try:
        from nltk.stem import WordNetLemmatizer

        lem = WordNetLemmatizer()
        lem.lemmatize("tests")  # raises LookupError when the wordnet corpus is absent
        return {t: lem.lemmatize(t) for t in tokens}, "nltk WordNet"
    except Exception:  # noqa: BLE001 - LookupError, or nltk missing entirely
        def rule(t: str) -> str:
            if len(t) > 4 and t.endswith("ies"):
                return t[:-3] + "y"
            if len(t) > 4 and t.endswith(("xes", "ches", "shes", "sses")):
                return t[:-2]
            if len(t) > 3 and t.endswith("s") and not t.endswith(("ss", "us", "is")):
                return t[:-1]
            return t
        return {t: rule(t) for t in tokens}, "suffix rule (WordNet data unavailable)"


def clean_series(s: pd.Series, lowercase: bool = True, strip_html: bool = True,
                 remove_numbers: bool = True, remove_punctuation: bool = True,
                 remove_stopwords: bool = True, apply_lemmatization: bool = False) -> pd.Series:
    """Clean a whole column at once; missing values become ""."""
    s = s.fillna("").astype(str)
    if strip_html:
        s = s.str.replace(_HTML_TAG, " ", regex=True).str.replace(_HTML_ENTITY, " ", regex=True)
    if lowercase:
        s = s.str.lower()
    if remove_numbers:
        s = s.str.replace(_NUMBERS, " ", regex=True)
    if remove_punctuation:
        s = s.str.replace(_NON_WORD if lowercase else _NON_WORD_CASED, " ", regex=True)
    if remove_stopwords:
        # a set lookup per token is ~5x faster than one big alternation regex on 1.4M rows
        stop = _STOP_SET
        s = pd.Series([" ".join(w for w in x.split() if w.lower() not in stop) for x in s],
                      index=s.index, dtype=object)
    else:
        s = s.str.replace(r"\s+", " ", regex=True).str.strip()
    if apply_lemmatization:
        vocab = set(w for text in s.unique() for w in text.split())
        mapping, _ = _lemma_map(vocab)
        s = s.map(lambda x: " ".join(mapping.get(w, w) for w in x.split()))
    return s


def combine_text(title, description=None):
    """Title + " " + description; works on scalars or Series (missing description -> title only)."""
    if isinstance(title, pd.Series):
        t = title.fillna("").astype(str)
        if description is None:
            return t.str.strip()
        d = pd.Series(description, index=t.index).fillna("").astype(str)
        return (t + " " + d).str.strip()
    t = "" if title is None or (isinstance(title, float) and np.isnan(title)) else str(title)
    d = "" if description is None or (isinstance(description, float) and np.isnan(description)) else str(description)
    return f"{t} {d}".strip()


class TextCleaner(BaseEstimator, TransformerMixin):
    """Stateless sklearn transformer: raw text (list/array/Series) -> cleaned strings."""

    def __init__(self, lowercase: bool = True, strip_html: bool = True, remove_numbers: bool = True,
                 remove_punctuation: bool = True, remove_stopwords: bool = True,
                 apply_lemmatization: bool = False):
        self.lowercase = lowercase
        self.strip_html = strip_html
        self.remove_numbers = remove_numbers
        self.remove_punctuation = remove_punctuation
        self.remove_stopwords = remove_stopwords
        self.apply_lemmatization = apply_lemmatization

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        if isinstance(X, str):
            X = [X]
        s = X if isinstance(X, pd.Series) else pd.Series(list(np.asarray(X, dtype=object).ravel()))
        return clean_series(s, **self.get_params()).to_numpy(dtype=object)

    @classmethod
    def light(cls) -> "TextCleaner":
        """Lowercase and strip HTML only: numbers, punctuation and stop words stay (char n-grams read this)."""
        return cls(remove_numbers=False, remove_punctuation=False, remove_stopwords=False)

    @classmethod
    def from_config(cls, cfg) -> "TextCleaner":
        return cls(lowercase=cfg.lowercase, strip_html=cfg.strip_html, remove_numbers=cfg.remove_numbers,
                   remove_stopwords=cfg.remove_stopwords, apply_lemmatization=cfg.apply_lemmatization)


def clean_texts(texts, cfg=None) -> list[str]:
    cleaner = TextCleaner.from_config(cfg) if cfg is not None else TextCleaner()
    return list(cleaner.transform(texts))


# --- tokenization: two routes, each with an offline fallback -------------------------

def nltk_route(texts: list[str]) -> tuple[list[list[str]], str]:
    """nltk word_tokenize + nltk stop words; regex tokens + sklearn stop words when data can't download."""
    try:
        import nltk

        for res, pkg in (("tokenizers/punkt_tab", "punkt_tab"), ("corpora/stopwords", "stopwords")):
            try:
                nltk.data.find(res)
            except LookupError:
                if not nltk.download(pkg, quiet=True):
                    raise LookupError(f"nltk data '{pkg}' could not be downloaded")
        from nltk.corpus import stopwords

        stop = set(stopwords.words("english"))
        toks = [[w for w in nltk.word_tokenize(t.lower()) if w.isalnum() and w not in stop] for t in texts]
        return toks, "nltk word_tokenize + nltk stopwords"
    except Exception as exc:  # noqa: BLE001 - no internet, or nltk missing
        toks = [[w for w in _TOKEN.findall(t.lower()) if w not in ENGLISH_STOP_WORDS] for t in texts]
        return toks, f"regex tokenizer + sklearn ENGLISH_STOP_WORDS (nltk data unavailable: {exc})"


def hf_route(texts: list[str], model_name: str, train_texts: Optional[list[str]] = None,
             save_dir: Optional[str] = None) -> tuple[list[list[str]], str, object]:
    """HF AutoTokenizer for model_name; else a WordPiece tokenizer trained here on the data."""
    try:
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(model_name)
        return [tok.tokenize(t) for t in texts], f"Hugging Face AutoTokenizer '{model_name}'", tok
    except Exception as exc:  # noqa: BLE001 - offline, gated, or unknown name
        tok = train_local_wordpiece(train_texts or texts, save_dir=save_dir)
        return ([tok.encode(t).tokens for t in texts],
                f"WordPiece tokenizer trained locally with `tokenizers` ({model_name} unavailable: "
                f"{type(exc).__name__})", tok)


def train_local_wordpiece(texts: list[str], vocab_size: int = 8000, save_dir: Optional[str] = None):
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"],
                                        show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    if save_dir:
        from pathlib import Path

        from atomic import atomic_path

        Path(save_dir).mkdir(parents=True, exist_ok=True)
        with atomic_path(Path(save_dir) / "tokenizer.json") as tmp:
            tok.save(tmp)
    return tok


def tokenization_demo(df: pd.DataFrame, cfg, paths, n: int = 3) -> pd.DataFrame:
    texts = combine_text(df["product_title"].iloc[:n], df["product_description"].iloc[:n]).tolist()
    ntoks, nroute = nltk_route(texts)
    sample = combine_text(df["product_title"].iloc[:20000], df["product_description"].iloc[:20000]).tolist()
    import tiny_model

    # "tiny-bert" (smoke runs) names a model built locally, not a Hub id: never look it up online.
    htoks, hroute, _ = hf_route(texts, tiny_model.resolve_one(cfg.model_name, paths), train_texts=sample,
                                save_dir=str(paths.models / "local_wordpiece"))
    from runlog import record_note

    record_note(paths, "tokenization", f"- nltk/spaCy route: {nroute}\n- Hugging Face route: {hroute}\n"
                "- spaCy is not used: en_core_web_sm needs a download; nltk (or its regex fallback) covers the classic route.")
    return pd.DataFrame({"text": texts, "nltk_route": [" ".join(t[:20]) for t in ntoks],
                         "hf_route": [" ".join(t[:20]) for t in htoks]}).assign(
        nltk_backend=nroute.split(" (")[0], hf_backend=hroute.split(" (")[0])


# --- rare classes, labels, split ------------------------------------------------------

def apply_rare_class_rule(df: pd.DataFrame, min_rows: int, strategy: str) -> tuple[pd.DataFrame, list[str]]:
    """Classes with < min_rows rows are dropped, or merged into "Other" (then Other itself must pass)."""
    counts = df["category"].value_counts()
    rare = sorted(map(str, counts[counts < min_rows].index))
    if not rare:
        return df, []
    if strategy == "other":
        cat = df["category"].astype(str)
        cat = cat.where(~cat.isin(rare), "Other")
        df = df.assign(category=cat.astype("category"))
        if (df["category"] == "Other").sum() < min_rows:  # merged class still too small to stratify
            df = df.loc[df["category"] != "Other"]
    else:
        df = df.loc[~df["category"].isin(rare)]
    df = df.assign(category=df["category"].astype(str).astype("category"))
    return df, rare


def _strata(y: np.ndarray) -> np.ndarray:
    """Labels train_test_split can stratify on: classes with one row share a stratum."""
    s = pd.Series(y, dtype=object)
    counts = s.value_counts()
    few = counts.index[counts < 2]
    if len(few) == 0:
        return np.asarray(y)
    strat = s.where(~s.isin(few), "\0few").to_numpy()
    if (strat == "\0few").sum() < 2:  # a single such row joins the largest class
        strat[strat == "\0few"] = counts.index[0]
    return strat


def grouped_split(y, groups, test_size, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified (train, test) positions; rows sharing a group id all land on the same side.

    The groups are data.title_groups: one title with several categories. Without shared
    groups this is exactly train_test_split(stratify=y), so the split is the plain one."""
    from sklearn.model_selection import train_test_split

    y = np.asarray(y)
    idx = np.arange(len(y))
    if groups is None:
        return tuple(train_test_split(idx, test_size=test_size, stratify=_strata(y), random_state=seed))
    groups = np.asarray(groups)
    _, first = np.unique(groups, return_index=True)
    if len(first) == len(y):
        return tuple(train_test_split(idx, test_size=test_size, stratify=_strata(y), random_state=seed))
    first = np.sort(first)  # one row stands for its group; the others follow it
    _, rep_test = train_test_split(first, test_size=test_size, stratify=_strata(y[first]), random_state=seed)
    in_test = np.isin(groups, groups[rep_test])
    return idx[~in_test], idx[in_test]


def stratified_split(df: pd.DataFrame, test_size: float, val_size: float, seed: int, groups=None):
    """Positions of train/val/test, stratified by category; `groups` (one id per row) never straddle."""
    y = df["category"].astype(str).to_numpy()
    g = None if groups is None else np.asarray(groups)
    rest, test = grouped_split(y, g, test_size, seed)
    tr, va = grouped_split(y[rest], None if g is None else g[rest], val_size / (1 - test_size), seed)
    return rest[tr], rest[va], test


def label_map(categories: Iterable[str]) -> dict:
    names = sorted(set(map(str, categories)))
    return {"id2label": {str(i): n for i, n in enumerate(names)}, "label2id": {n: i for i, n in enumerate(names)}}


def split_files(paths) -> list:
    """What Step 3 writes (read back with splits.load_split / splits.load_label_map)."""
    return [paths.processed / f"{s}.csv" for s in ("train", "val", "test")] + [paths.models / "label_map.json"]


def run(cfg, paths, df: Optional[pd.DataFrame] = None, info: Optional[dict] = None) -> dict:
    """Clean, drop empty/rare, split 80/10/10 stratified (seed), save splits + label map."""
    from atomic import atomic_to_csv, atomic_write_json
    from project import should_skip
    from runlog import log_summary, record_note

    if should_skip(cfg.force, "step3", *split_files(paths)):
        from splits import load_label_map

        return {"skipped": True, "n_classes": len(load_label_map(paths)[0]), "files": [str(p) for p in split_files(paths)]}
    import data

    if df is None:
        df, info = data.load_dataset(cfg, paths)
    if info is not None:
        data.note_duplicates(paths, info)
    t0 = time.perf_counter()
    cleaner = TextCleaner.from_config(cfg)
    title_clean = clean_series(df["product_title"], **cleaner.get_params())
    desc = df["product_description"]
    has_desc = desc != ""
    desc_clean = pd.Series("", index=df.index, dtype=object)
    if has_desc.any():
        desc_clean[has_desc] = clean_series(desc[has_desc], **cleaner.get_params())
    text_clean = combine_text(title_clean, desc_clean)
    clean_seconds = time.perf_counter() - t0
    empty = text_clean == ""
    n_empty = int(empty.sum())
    if n_empty:
        examples = df.loc[empty, "product_title"].head(3).tolist()
        record_note(paths, "empty-after-cleaning", f"{n_empty} rows whose title/description is only numbers, "
                    f"punctuation or HTML (cleaned text empty) were dropped, e.g. {examples}.")
    df = df.loc[~empty].assign(text_clean=text_clean[~empty])
    n_before = df["category"].nunique()
    df, rare = apply_rare_class_rule(df, cfg.min_rows_per_class, cfg.rare_class_strategy)
    action = "merged into 'Other'" if cfg.rare_class_strategy == "other" else "dropped"
    record_note(paths, "rare-classes",
                f"Rule: classes with fewer than min_rows_per_class={cfg.min_rows_per_class} rows are {action} "
                f"(rare_class_strategy='{cfg.rare_class_strategy}'), because a stratified train/val/test split "
                f"needs several rows per class. {len(rare)} of {n_before} classes affected"
                + (f": {', '.join(rare[:60])}{' …' if len(rare) > 60 else ''}." if rare else "."))
    if df["category"].nunique() < 2:
        raise data.DataError("Fewer than 2 categories left after the rare-class rule; lower min_rows_per_class.")
    lm = label_map(df["category"].cat.categories)
    df = df.assign(label=df["category"].astype(str).map(lm["label2id"]).astype(np.int32))
    # one title with several categories: all its rows on one side, so no title is in train and test
    tr, va, te = stratified_split(df, cfg.test_size, cfg.val_size, cfg.seed, groups=data.title_groups(df["product_title"]))
    for name, idx in (("train", tr), ("val", va), ("test", te)):
        atomic_to_csv(df.iloc[idx], paths.processed / f"{name}.csv")
    atomic_write_json(paths.models / "label_map.json", lm)
    demo = tokenization_demo(df, cfg, paths)
    result = {
        "skipped": False, "rows_in": int(len(df) + n_empty), "rows_out": int(len(df)),
        "dropped_empty_after_cleaning": n_empty, "rare_classes": rare, "n_classes": len(lm["id2label"]),
        "train": len(tr), "val": len(va), "test": len(te), "clean_seconds": round(clean_seconds, 2),
        "rows_per_second": int(len(text_clean) / max(clean_seconds, 1e-9)),
        "tokenization": demo, "examples": df[["product_title", "text_clean", "category"]].head(5),
    }
    log_summary(paths, "Step 3 — cleaning & split",
                f"Cleaned {result['rows_in']:,} rows in {clean_seconds:.1f}s ({result['rows_per_second']:,} rows/s); "
                f"dropped {n_empty} empty-after-cleaning rows and {len(rare)} rare classes ({action}); "
                f"{result['n_classes']} classes; split train/val/test = {len(tr):,}/{len(va):,}/{len(te):,} "
                f"(stratified, random_state={cfg.seed}).")
    return result
