"""Step 12 and the final cell: reproducibility files, the saved notebook, the final message.

- run_all_colab.sh and config_colab.yaml (src/reproduce.py, which Step 1 uses too): every
  step's command, and the values actually used plus what the run really did (the BERT
  settings after any fallback, the fallbacks taken, tuned values).
- summary.txt: a final section with baseline and BERT metrics and the artifact paths.
- PROJECT_ROOT/product_categorization_colab.ipynb: in Colab the running notebook (via
  google.colab._message.blocking_request('get_ipynb')); elsewhere a copy of the built
  notebook when one is found (the executor writes the executed copy itself).

    import delivery
    res = delivery.run(cfg, paths)
    print(delivery.final_message(cfg, paths))
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, Optional

NOTEBOOK_NAME = "product_categorization_colab.ipynb"

HOW_TO_RUN = [
    "Open the notebook in Colab from Drive (double-click it, then 'Open with Google Colaboratory').",
    "Choose Runtime -> Change runtime type -> GPU (T4 is enough) and save.",
    "In the parameters cell set RUN_MODE ('quickstart', 'smoke' or 'full') and DATA_PATH if your CSV is elsewhere.",
    "Run the Quick Start cell for a 10k-row TF-IDF demo, or Runtime -> Run all for every step.",
    "Upload amazon_products.csv when asked, or put kaggle.json in Drive to download it with the Kaggle API.",
    "If the session disconnects, run all cells again: finished steps are skipped and fine-tuning resumes from its last checkpoint.",
    "Set FORCE = True in the parameters cell to recompute steps whose artifacts already exist.",
    "Read REPORT/final_report.md (or .pdf) and summary.txt in the project folder on Drive for the results.",
]

def _metrics_rows(paths) -> list[dict[str, Any]]:
    import pandas as pd

    f = paths.results / "metrics.csv"
    if not f.is_file():
        return []
    return pd.read_csv(f).to_dict("records")


def save_notebook(paths, built_notebook: Optional[str] = None) -> tuple[Optional[Path], str]:
    """Save the notebook to PROJECT_ROOT; returns (path or None, how)."""
    from atomic import atomic_write_text
    from project import in_colab

    target = paths.root / NOTEBOOK_NAME
    if in_colab():
        try:
            from google.colab import _message  # type: ignore

            nb = _message.blocking_request("get_ipynb", timeout_sec=60)["ipynb"]
            atomic_write_text(target, json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
            return target, "saved the running Colab notebook (with its outputs)"
        except Exception as exc:
            if target.is_file():
                return target, f"could not read the running notebook ({exc}); kept the existing copy"
            return None, f"could not read the running notebook ({exc}); use File -> Save a copy in Drive"
    candidates = [Path(built_notebook)] if built_notebook else []
    env = os.environ.get("BUILT_NOTEBOOK", "")
    candidates += [Path(env)] if env else []
    candidates += [Path.cwd() / "build" / NOTEBOOK_NAME, Path.cwd() / NOTEBOOK_NAME]
    for c in candidates:
        if c.is_file() and c.resolve() != target.resolve():
            shutil.copyfile(c, target)
            return target, (f"copied the built notebook {c}; outside Colab the executor writes the executed copy "
                            "(notebooks/executed_*.ipynb)")
    if target.is_file():
        return target, "already present"
    return None, "outside Colab: the executor (papermill/nbclient) writes the executed notebook"


def run(cfg, paths, built_notebook: Optional[str] = None) -> dict[str, Any]:
    """Write run_all_colab.sh, config_colab.yaml and the final summary; save the notebook."""
    import reproduce
    from runlog import log_summary

    sh = reproduce.write_run_script(cfg, paths, "run_all_colab.sh")
    yaml_path, used = reproduce.write_config(cfg, paths)
    nb_path, nb_how = save_notebook(paths, built_notebook)
    rows = _metrics_rows(paths)
    lines = ["Final metrics (results/metrics.csv, test set):"]
    if rows:
        lines += [f"- {r['model']}: accuracy {r['accuracy']:.4f}, macro-F1 {r['macro_f1']:.4f}, "
                  f"top-3 {r['top3_accuracy']:.4f}" for r in rows]
    else:
        lines.append("- no metrics.csv yet (Step 8 has not run)")
    lines += ["Artifacts:"] + [f"- {p}" for p in key_artifacts(paths, nb_path)]
    log_summary(paths, "Step 12 — Final summary", "\n".join(lines))
    return {"run_all": str(sh), "config_yaml": str(yaml_path), "notebook": str(nb_path) if nb_path else None,
            "notebook_how": nb_how, "used": used, "metrics": rows}


def key_artifacts(paths, nb_path: Optional[Path] = None) -> list[str]:
    cand = [nb_path or paths.root / NOTEBOOK_NAME, paths.models / "baseline.joblib", paths.bert_final,
            paths.results / "metrics.csv", paths.results / "metrics_baselines.csv", paths.report / "final_report.md",
            paths.report / "final_report.pdf", paths.notebooks / "summary.ipynb",
            paths.experiments / "optuna_results.json", paths.interpretability, paths.src / "inference.py",
            paths.src / "api" / "app.py", paths.root / "config_colab.yaml", paths.root / "run_all_colab.sh",
            paths.notes, paths.summary]
    return [str(p) + ("" if Path(p).exists() else "  (missing)") for p in cand]


def final_message(cfg, paths) -> str:
    """The closing message: exact paths, how to share the notebook, how to run it."""
    from runlog import log_summary

    nb = paths.root / NOTEBOOK_NAME
    drive_rel = str(nb).split("/content/drive/", 1)[-1] if str(nb).startswith("/content/drive/") else None
    lines = ["Done. The project lives in " + str(paths.root), "",
             f"Notebook: {nb}" + ("" if nb.is_file() else "  (not saved yet: File -> Save a copy in Drive)")]
    if drive_rel:
        lines.append(f"In Google Drive: {drive_rel}")
    lines += ["", "Shareable link: in Google Drive, right-click the notebook -> Get link -> under 'General access' "
              "choose 'Anyone with the link' (Viewer) -> Copy link. Opening that link shows the notebook in Colab.",
              "", "Key artifacts:"] + [f"  {p}" for p in key_artifacts(paths, nb)]
    lines += ["", "How to run:"] + [f"  {i}. {s}" for i, s in enumerate(HOW_TO_RUN, 1)]
    text = "\n".join(lines)
    log_summary(paths, "Final — Delivery and paths", text)
    return text
