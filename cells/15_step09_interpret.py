# %% [markdown]
# ## Step 9 — Interpretability & error analysis
# Goal: understand the mistakes. The `cfg.n_hard_examples` hardest test rows (lowest probability for
# the true class) are explained with LIME (word weights) and SHAP (exact linear explainer on the TF-IDF
# features) for the best baseline; 10 correct and 10 incorrect predictions are saved with all their
# columns plus predicted/true category, confidence and top-3.
#
# Saved in `results/interpretability/`: `lime_*.html/png`, `shap_*.png`, `shap_hard_examples.html`,
# `hard_examples.csv`, `correct_predictions.csv`, `incorrect_predictions.csv`.

# %%
import interpret
INTERPRET = interpret.run(cfg, paths)
INTERPRET["hard_examples"][["product_title", "true", "predicted", "confidence"]].head(10)

# %%
from IPython.display import Image, display
for p in sorted(paths.interpretability.glob("lime_*.png"))[:2] + sorted(paths.interpretability.glob("shap_*.png"))[:2]:
    display(Image(filename=str(p)))
