# %% [markdown]
# ## Step 8 — Model evaluation on the test set
# Goal: load every saved model from disk (the best baseline `models/baseline.joblib`, the other Step 5 models, the
# hybrid, Step 7's tuned pipeline, the logistic regression on the BERT embeddings, and the fine-tuned BERT
# `models/bert_final/`) and score them on the held-out test split, then pick the best model **by validation**:
# each model is also scored on a `cfg.ensemble_val_rows`-row sample of the validation split, an ensemble averages
# their probabilities with weights chosen on those validation rows (`src/ensemble.py`), and
# `results/best_model.json` names the model (or the ensemble) with the best validation `cfg.selection_metric`.
# The test split is reported, never used to choose.
#
# Saved: `results/metrics.csv` (accuracy, macro/weighted precision/recall/F1, top-2/top-3 accuracy, validation
# accuracy and macro-F1), `models/ensemble.json`, `results/best_model.json`,
# `results/classification_report_<model>.txt`, raw and normalised confusion matrices of the most-confused
# classes and one-vs-rest ROC curves in `results/plots/`. Test rows whose category never occurs in
# training are counted and excluded (see `NOTES.md`).

# %%
import evaluate
EVALUATION = evaluate.run(cfg, paths)
EVALUATION["metrics"]

# %%
from IPython.display import Image, display
print("best by validation:", EVALUATION.get("best"), "| ensemble weights:", (EVALUATION.get("ensemble") or {}).get("weights"))
for name in ("ensemble", "bert", "baseline"):
    for kind in ("confusion_{}_normalized.png", "roc_{}.png"):
        p = paths.plots / kind.format(name)
        if p.is_file():
            display(Image(filename=str(p)))
