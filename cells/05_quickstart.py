# %% [markdown] tags=["quickstart"]
# ### Quick Start: train and evaluate a tiny baseline
# A complete tiny run: loads your data (`DATA_PATH`, else `data/raw/`, else the built-in **demo** catalogue,
# announced when used), takes a stratified sample of at most `SAMPLE_SIZE` rows, trains TF-IDF + Logistic
# Regression, and prints accuracy and macro-F1. Saves `results/quickstart_metrics.json` and
# `models/quickstart_pipeline.joblib`. The full pipeline starts at *Step 1* below.

# %% tags=["quickstart"]
import quickstart

quickstart_metrics = quickstart.run(cfg, paths)
print(f"Quick Start: accuracy {quickstart_metrics['accuracy']:.3f}, macro-F1 {quickstart_metrics['macro_f1']:.3f} "
      f"on {quickstart_metrics['n_test']:,} held-out rows, {quickstart_metrics['n_classes']} classes "
      f"({quickstart_metrics['train_seconds']:.1f}s training, {quickstart_metrics['device']}, data: {quickstart_metrics['dataset']})")
