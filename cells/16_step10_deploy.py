# %% [markdown]
# ## Step 10 — Model saving & deployment artifacts
# Goal: serve the saved models. `models/baseline.joblib` and `models/bert_final/` were saved by Steps 5
# and 6; this step writes `src/inference.py` (a `predict(title, description, top_k=3)` function and a
# CLI) and `src/api/app.py` (FastAPI: `GET /health`, `POST /predict`), and tries both.
#
# Run the API anywhere with the project folder: `uvicorn app:app --app-dir src/api --port 8000`.

# %%
import inference
inference.predict("Stainless steel chef knife", "8 inch kitchen knife with wooden handle", top_k=3,
                  model="baseline", project_root_dir=str(paths.root))

# %%
if (paths.bert_final / "config.json").is_file():
    print(inference.predict("Stainless steel chef knife", "8 inch kitchen knife", top_k=3, model="bert",
                            project_root_dir=str(paths.root)))

# %%
# The same through the command line, as a user would call the exported script.
import subprocess, sys
cli = subprocess.run([sys.executable, str(paths.src / "inference.py"), "--title", "Girls floral summer dress",
                      "--top-k", "3", "--project-root", str(paths.root)], capture_output=True, text=True)
print(cli.stdout or cli.stderr)

# %%
# The API in-process (FastAPI's TestClient runs the real app, startup included, without a server).
import os
os.environ["PROJECT_ROOT"] = str(paths.root)
sys.path.insert(0, str(paths.src / "api"))
from fastapi.testclient import TestClient
import app as api_app
with TestClient(api_app.app) as client:
    print(client.get("/health").json())
    print(client.post("/predict", json={"title": "Wireless gaming mouse", "top_k": 3}).json())
