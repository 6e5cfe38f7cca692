"""Step 11: the final report, assembled from the metrics files (never typed by hand).

- REPORT/final_report.md: tables from results/metrics.csv, results/metrics_baselines.csv,
  results/quickstart_metrics.json, experiments/optuna_results.json and
  models/bert_final/training_info.json, the fallbacks from NOTES.md, and the key plots.
- REPORT/final_report.pdf through the first route that works:
  1. `jupyter nbconvert --to pdf` (needs xelatex: `apt-get install texlive-xetex
     texlive-fonts-recommended texlive-plain-generic` in Colab),
  2. `jupyter nbconvert --to webpdf` (needs playwright + Chromium),
  3. fpdf2 (pure Python): headings, paragraphs, the tables and the plot images. Colab lacks it;
     the install cell adds it (environment.EXTRA_PACKAGES), so this route always exists there.
  The route used is recorded in NOTES.md; the result is checked to be a real PDF.
- notebooks/summary.ipynb: the executed notebook trimmed to the evaluation and delivery
  cells (Step 8 onwards). Source: the running notebook in Colab, else
  PROJECT_ROOT/notebooks/executed_*.ipynb, else PROJECT_ROOT/product_categorization_colab.ipynb;
  with none available it is built from the report and says so.

    import report
    res = report.run(cfg, paths)
"""
from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

KEY_PLOTS = ("confusion_bert_normalized.png", "confusion_baseline_normalized.png", "roc_bert.png", "roc_baseline.png")


def _read_csv(path: Path):
    import pandas as pd

    return pd.read_csv(path) if path.is_file() and path.stat().st_size else None


def _read_json(path: Path) -> Optional[dict]:
    try:
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
    except ValueError:
        return None


# A table cell longer than this is cut (with "…"): a model's notes run to several hundred
# characters, and one row taller than a PDF page cannot be rendered at all. The CSV keeps the text.
MAX_CELL_CHARS = 240


def md_table(df, floatfmt: str = "{:.4f}") -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    cut = lambda c: c if len(c) <= MAX_CELL_CHARS else c[:MAX_CELL_CHARS - 1].rstrip() + "…"  # noqa: E731
    for _, r in df.iterrows():
        cells = [cut(floatfmt.format(v) if isinstance(v, float) else str(v)) for v in r.tolist()]
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return "\n".join(lines)


def build_markdown(cfg, paths) -> str:
    """The report text; every number is read from an artifact written by an earlier step."""
    from runlog import read_notes

    rel = lambda p: "../" + str(Path(p).relative_to(paths.root)).replace("\\", "/")  # noqa: E731
    out = ["# Amazon product categorization: final report", "",
           f"Generated {datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC} from the files in `{paths.root}` "
           f"(run mode `{cfg.run_mode}`).", ""]
    out += ["## Task", "", "Predict an Amazon product's category from its title and description. Models: TF-IDF "
            "baselines (logistic regression, random forest, naive Bayes, LSTM) and a fine-tuned BERT.", ""]
    qs = _read_json(paths.results / "quickstart_metrics.json")
    if qs:
        out += ["## Data", "", f"Dataset: {qs.get('dataset', 'n/a')}; {qs.get('n_train', '?')} training rows, "
                f"{qs.get('n_test', '?')} test rows, {qs.get('n_classes', '?')} categories.", ""]
    metrics = _read_csv(paths.results / "metrics.csv")
    out += ["## Test-set metrics", ""]
    if metrics is not None:
        best = metrics.sort_values("macro_f1", ascending=False).iloc[0]
        out += [f"Source: `results/metrics.csv`. Best model by macro-F1: **{best['model']}** "
                f"(accuracy {best['accuracy']:.4f}, macro-F1 {best['macro_f1']:.4f}).", "",
                md_table(metrics), ""]
    else:
        out += ["`results/metrics.csv` does not exist yet: run Step 8 (evaluation).", ""]
    base = _read_csv(paths.results / "metrics_baselines.csv")
    if base is not None:
        out += ["## Baselines (Step 5)", "", "Source: `results/metrics_baselines.csv`.", "", md_table(base), ""]
    info = _read_json(paths.bert_final / "training_info.json")
    if info:
        keys = ["model_name", "num_train_epochs", "learning_rate", "per_device_train_batch_size",
                "gradient_accumulation_steps", "max_length", "fp16", "bf16", "device", "n_train", "global_step",
                "train_seconds", "val_accuracy", "val_macro_f1"]
        out += ["## BERT fine-tuning (Step 6)", "", "Source: `models/bert_final/training_info.json`.", "",
                "| setting | value |", "|---|---|"] + [f"| {k} | {info.get(k)} |" for k in keys] + [""]
    opt = _read_json(paths.experiments / "optuna_results.json")
    if opt:
        out += ["## Hyperparameter search (Step 7)", "",
                f"Optuna on **{opt['target']}**, {opt['n_trials']} trials, best validation macro-F1 "
                f"{opt['best_value']:.4f} with `{json.dumps(opt['best_params'])}`.", ""]
        if (paths.experiments / "optuna_history.png").is_file():
            out += [f"![Optuna history]({rel(paths.experiments / 'optuna_history.png')})", ""]
    plots = [paths.plots / p for p in KEY_PLOTS if (paths.plots / p).is_file()]
    if plots:
        out += ["## Key plots", ""] + [f"![{p.stem}]({rel(p)})\n" for p in plots]
    hard = _read_csv(paths.interpretability / "hard_examples.csv")
    if hard is not None:
        cols = [c for c in ("product_title", "true", "predicted", "confidence", "lime_top_words") if c in hard.columns]
        out += ["## Interpretability (Step 9)", "", f"{len(hard)} hard test examples were explained with LIME and "
                "SHAP (`results/interpretability/`). The five hardest:", "",
                md_table(hard[cols].head(5).assign(product_title=lambda d: d["product_title"].str.slice(0, 60))), ""]
    notes = {k: v for k, v in read_notes(paths).items() if k.startswith(("fallbacks", "resume", "evaluation"))}
    if notes:
        out += ["## Fallbacks and notes", ""]
        for k, v in notes.items():
            out += [f"**{k}**", "", v, ""]
    out += ["## Artifacts", "", "- Models: `models/baseline.joblib`, `models/bert_final/`",
            "- Metrics: `results/metrics.csv`, `results/metrics_baselines.csv`",
            "- Serving: `src/inference.py`, `src/api/app.py`", ""]
    return "\n".join(out)


# --- PDF routes ------------------------------------------------------------------------

def _report_notebook(md: str, path: Path) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(md)]
    nbformat.write(nb, str(path))


def _nbconvert(to: str, md: str, report_dir: Path, timeout: int = 300) -> Path:
    src = report_dir / "final_report_render.ipynb"
    _report_notebook(md, src)
    try:
        proc = subprocess.run([sys.executable, "-m", "nbconvert", "--to", to, "--output", "final_report",
                               "--output-dir", str(report_dir), str(src)], capture_output=True, text=True,
                              timeout=timeout)
    finally:
        src.unlink(missing_ok=True)
    pdf = report_dir / "final_report.pdf"
    if proc.returncode != 0 or not pdf.is_file():
        raise RuntimeError(f"nbconvert --to {to} failed: {proc.stderr.strip()[-400:]}")
    return pdf


def _font_paths() -> tuple[str, str]:
    import matplotlib

    ttf = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return str(ttf / "DejaVuSans.ttf"), str(ttf / "DejaVuSans-Bold.ttf")


def render_pdf_fpdf(md: str, out: Path, base_dir: Path) -> Path:
    """Minimal markdown -> PDF: headings, paragraphs, pipe tables, images, bold/code markers stripped."""
    from fpdf import FPDF

    from atomic import atomic_path

    regular, bold = _font_paths()
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_font("DejaVu", "", regular)
    pdf.add_font("DejaVu", "B", bold)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    plain = lambda s: re.sub(r"\*\*|`", "", s)  # noqa: E731
    lines = md.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("|"):
            block = []
            while i < len(lines) and lines[i].startswith("|"):
                block.append(lines[i])
                i += 1
            rows = [[plain(c.strip()) for c in r.strip().strip("|").split("|")] for r in block
                    if not re.fullmatch(r"\|[-:| ]+\|?", r.strip())]
            ncol = max(len(r) for r in rows)
            pdf.set_font("DejaVu", "", 7 if ncol > 6 else 8)
            with pdf.table(width=width, text_align="LEFT", first_row_as_headings=True) as table:
                for r in rows:
                    row = table.row()
                    for c in r + [""] * (ncol - len(r)):
                        row.cell(c)
            pdf.ln(2)
            continue
        m = re.match(r"!\[([^\]]*)\]\(([^)]+)\)", line.strip())
        if m:
            img = (base_dir / m.group(2)).resolve()
            if img.is_file():
                pdf.image(str(img), w=min(width, 160))
                pdf.ln(2)
        elif line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            pdf.set_font("DejaVu", "B", {1: 16, 2: 13}.get(level, 11))
            pdf.multi_cell(width, 7, plain(line.lstrip("#").strip()))
            pdf.ln(1)
        elif line.strip():
            pdf.set_font("DejaVu", "", 9)
            pdf.multi_cell(width, 5, plain(line.lstrip("- ").strip() if line.startswith("- ") else line))
        else:
            pdf.ln(2)
        i += 1
    with atomic_path(out) as tmp:
        pdf.output(tmp)
    return out


def is_pdf(path: Path) -> bool:
    return path.is_file() and path.stat().st_size > 500 and path.read_bytes()[:5] == b"%PDF-"


def write_pdf(md: str, paths) -> tuple[str, Path, list[str]]:
    """Try nbconvert pdf -> webpdf -> fpdf2; return (route, pdf path, reasons earlier routes failed)."""
    report_dir = paths.report
    pdf = report_dir / "final_report.pdf"
    failures: list[str] = []
    routes = (("pdf", "xelatex", shutil.which("xelatex") is not None, "xelatex not installed"),
              ("webpdf", "Chromium", importlib.util.find_spec("playwright") is not None,
               "playwright/Chromium not installed"))
    for to, engine, available, absent in routes:
        if not available:
            failures.append(f"nbconvert --to {to}: {absent}")
            continue
        try:
            if is_pdf(_nbconvert(to, md, report_dir)):
                return f"nbconvert --to {to} ({engine})", pdf, failures
        except Exception as exc:
            failures.append(f"nbconvert --to {to}: {exc}")
    render_pdf_fpdf(md, pdf, report_dir)
    return "fpdf2 (pure Python)", pdf, failures


# --- notebooks/summary.ipynb ----------------------------------------------------------

def find_source_notebook(paths) -> tuple[Optional[dict], str]:
    """(notebook JSON, where it came from): Colab's running notebook, an executed copy, the saved one."""
    from project import in_colab

    if in_colab():
        try:
            from google.colab import _message  # type: ignore

            nb = _message.blocking_request("get_ipynb", timeout_sec=60)["ipynb"]
            return nb, "the running Colab notebook"
        except Exception as exc:  # falls through to the files on Drive
            print(f"[report] could not read the running notebook: {exc}")
    executed = sorted(paths.notebooks.glob("executed_*.ipynb"), key=lambda p: p.stat().st_mtime, reverse=True)
    candidates = executed + [paths.root / "product_categorization_colab.ipynb"]
    for p in candidates:
        if p.is_file():
            try:
                return json.loads(p.read_text(encoding="utf-8")), str(p)
            except ValueError:
                continue
    return None, ""


def _source_text(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def trim_notebook(nb: dict, first_heading: str = "## Step 8") -> dict:
    """The title cell plus every cell from the `first_heading` markdown cell to the end."""
    cells = nb.get("cells", [])
    start = next((i for i, c in enumerate(cells) if c.get("cell_type") == "markdown"
                  and _source_text(c).lstrip().startswith(first_heading)), None)
    kept = ([cells[0]] if cells and start != 0 else []) + (cells[start:] if start is not None else [])
    out = dict(nb)
    out["cells"] = kept
    return out


def build_summary_notebook(paths, md: str) -> tuple[Path, str]:
    import nbformat

    from atomic import atomic_write_text

    nb, source = find_source_notebook(paths)
    target = paths.notebooks / "summary.ipynb"
    if nb is not None:
        trimmed = trim_notebook(nb)
        if len(trimmed["cells"]) > 1:
            atomic_write_text(target, json.dumps(trimmed, indent=1, ensure_ascii=False) + "\n")
            return target, f"trimmed from {source} (Step 8 onwards, {len(trimmed['cells'])} cells)"
    why = "no executed notebook is available yet" if nb is None else f"{source} has no '## Step 8' section"
    new = nbformat.v4.new_notebook()
    new.cells = [
        nbformat.v4.new_markdown_cell(f"> Built from the report files because {why}; re-run Step 11 after the "
                                      "notebook has been executed to get the trimmed executed cells.\n\n" + md),
        nbformat.v4.new_code_cell("import pandas as pd\npd.read_csv('../results/metrics.csv')"),
    ]
    atomic_write_text(target, nbformat.writes(new))
    return target, f"built from the report ({why})"


def run(cfg, paths) -> dict[str, Any]:
    """Write REPORT/final_report.md and .pdf and notebooks/summary.ipynb (always regenerated: cheap)."""
    from atomic import atomic_write_text
    from runlog import log_summary, record_note

    paths.report.mkdir(parents=True, exist_ok=True)
    md = build_markdown(cfg, paths)
    md_path = paths.report / "final_report.md"
    atomic_write_text(md_path, md)
    route, pdf, failures = write_pdf(md, paths)
    if not is_pdf(pdf):
        raise RuntimeError(f"{pdf} is not a valid PDF after route {route}")
    record_note(paths, "report: PDF route", f"REPORT/final_report.pdf written with {route}."
                + ("".join(f"\n- skipped {f}" for f in failures) if failures else ""))
    summary_nb, how = build_summary_notebook(paths, md)
    log_summary(paths, "Step 11 — Report", f"{md_path} and {pdf} ({route}); {summary_nb}: {how}.")
    return {"markdown": str(md_path), "pdf": str(pdf), "pdf_route": route, "summary_notebook": str(summary_nb),
            "summary_notebook_source": how, "markdown_text": md}
