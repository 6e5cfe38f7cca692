# %% [markdown]
# ## Step 12 — Reproducibility checklist & delivery
# Goal: everything needed to re-run and to trust the results:
#
# - `run_all_colab.sh`: the high-level commands to re-run the pipeline;
# - `config_colab.yaml`: seeds, dataset paths and the hyperparameters actually used (after fallbacks);
# - a final section in `summary.txt` with baseline and BERT metrics and the artifact paths;
# - the notebook itself saved to `PROJECT_ROOT/product_categorization_colab.ipynb`.
#
# Checklist: fixed seed (`cfg.seed`), stratified splits saved as CSV, every model saved whole, metrics
# written as files, all fallbacks noted in `NOTES.md`.

# %%
import delivery
DELIVERY = delivery.run(cfg, paths)
print(f"notebook: {DELIVERY['notebook']} ({DELIVERY['notebook_how']})")
print(f"config:   {DELIVERY['config_yaml']}\nre-run:   {DELIVERY['run_all']}")
