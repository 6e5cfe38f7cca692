"""Step 1: the project's own documents in PROJECT_ROOT — README.md (the problem), NOTES.md
(assumptions; later steps add their fallbacks), requirements.txt/environment.yml (versions
present), run_in_colab.sh (every step's command, src/reproduce.py) and config_colab.yaml.

    import project_docs
    project_docs.run(cfg, paths)
"""
from __future__ import annotations

PROBLEM = (
    "Automatically assign each e-commerce product to its category from its text. The input is an "
    "Amazon product's title plus, when available, its description (the Kaggle asaniczka "
    "\"Amazon Products Dataset 2023\" has 1.4M products in 248 categories and titles only); the "
    "output is one category name such as \"Women's Handbags\". It is a single-label, many-class "
    "text classification problem with a long-tailed class distribution, multi-word category names "
    "and noisy marketplace text (HTML, sizes, model numbers). We build classic baselines (TF-IDF "
    "with Logistic Regression, linear SVM, Naive Bayes, Random Forest, and an LSTM) and then a "
    "fine-tuned BERT, compare them on a stratified held-out test set with accuracy and macro-F1 "
    "(every category counts equally), and export the best models with an inference script and API."
)

ASSUMPTIONS = (
    "- Categories are multi-word strings (\"Smart Home: Security Cameras and Systems\") and are used verbatim "
    "as labels; ids are assigned in sorted order (models/label_map.json).\n"
    "- One category per product (single-label). The asaniczka category_id is joined to amazon_categories.csv.\n"
    "- Missing descriptions are empty strings: the model text is the title alone (the asaniczka data has no "
    "description column at all).\n"
    "- Rare classes: below min_rows_per_class rows a class can't be stratified into train/val/test; "
    "rare_class_strategy decides drop or merge into \"Other\" (see the rare-classes entry).\n"
    "- Exact duplicate products (same ASIN, or same title+description+category) are dropped before splitting "
    "so test rows never repeat training rows.\n"
    "- Rows whose cleaned text is empty (titles of only numbers/HTML) are dropped and counted.\n"
    "- Splits are stratified 80/10/10 with random_state=42; all sizes and seeds are in config_colab.yaml."
)

def run(cfg, paths) -> dict:
    """Write README.md, NOTES.md assumptions, requirements.txt/environment.yml, run_in_colab.sh."""
    import environment
    import reproduce
    from atomic import atomic_write_text
    from runlog import log_summary, record_note

    readme = paths.readme
    # README.md may later be extended by the report step: only (re)write our section header block
    atomic_write_text(readme, "# Product categorization (Amazon titles -> category)\n\n## Problem\n\n"
                      f"{PROBLEM}\n\n## Layout\n\nAll artifacts live under this folder: data/ (raw, processed "
                      "splits), models/, results/ (metrics, plots), experiments/, src/ (the notebook's modules), "
                      "REPORT/. NOTES.md lists assumptions and fallbacks; summary.txt logs each step.\n")
    record_note(paths, "assumptions", ASSUMPTIONS)
    req = environment.write_requirements(paths)
    script = reproduce.write_run_script(cfg, paths, "run_in_colab.sh")
    config_yaml, _ = reproduce.write_config(cfg, paths)
    files = [str(readme), str(paths.notes), *req["files"], str(script), str(config_yaml)]
    log_summary(paths, "Step 1 — setup", "Wrote README.md (problem), NOTES.md (assumptions), requirements.txt, "
                f"environment.yml ({len(req['packages'])} packages, Python {req['python']}), run_in_colab.sh, "
                "config_colab.yaml.")
    return {"files": files, "problem": PROBLEM, "packages": req["packages"]}
