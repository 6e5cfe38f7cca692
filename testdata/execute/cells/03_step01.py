# %% [markdown]
# ## Step 1 — Write and use a module

# %% src="helper.py" tags=["quickstart"]

# %% tags=["quickstart"]
sys.path.insert(0, SRC_DIR)
import helper

metrics = {"accuracy": helper.double(0.25), "mode": RUN_MODE, "sample_size": SAMPLE_SIZE, "model": MODEL_NAME}
with open(os.path.join(PROJECT_ROOT, "results", "quickstart_metrics.json"), "w") as f:
    json.dump(metrics, f)
print("metrics", metrics)
