# %% [markdown]
# ## Step 8 — Model evaluation on the test set
# Goal: load the best baseline (`models/baseline.joblib`), every other saved sklearn baseline and the
# fine-tuned BERT (`models/bert_final/`) from disk and score them on the held-out test split.
#
# Saved: `results/metrics.csv` (accuracy, macro/weighted precision/recall/F1, top-2/top-3 accuracy),
# `results/classification_report_<model>.txt`, raw and normalised confusion matrices of the most-confused
# classes and one-vs-rest ROC curves in `results/plots/`. Test rows whose category never occurs in
# training are counted and excluded (see `NOTES.md`).

# %%
import evaluate
EVALUATION = evaluate.run(cfg, paths)
EVALUATION["metrics"]

# %%
from IPython.display import Image, display
for name in ("bert", "baseline"):
    for kind in ("confusion_{}_normalized.png", "roc_{}.png"):
        p = paths.plots / kind.format(name)
        if p.is_file():
            display(Image(filename=str(p)))
