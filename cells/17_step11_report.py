# %% [markdown]
# ## Step 11 — Documentation & final report
# Goal: `REPORT/final_report.md` assembled from the metrics files (no hand-typed numbers) with the key
# plots, exported to `REPORT/final_report.pdf` (nbconvert with xelatex when installed, else webpdf, else a
# pure-Python PDF; the route is noted in `NOTES.md`), and `notebooks/summary.ipynb`, the executed notebook
# trimmed to the evaluation cells.
#
# For the LaTeX-quality PDF in Colab, run once:
# `!apt-get -qq install texlive-xetex texlive-fonts-recommended texlive-plain-generic` (1-2 minutes).

# %%
import report
REPORT = report.run(cfg, paths)
print(f"PDF route: {REPORT['pdf_route']}\nsummary notebook: {REPORT['summary_notebook_source']}")

# %%
from IPython.display import Markdown, display
display(Markdown(REPORT["markdown_text"]))
