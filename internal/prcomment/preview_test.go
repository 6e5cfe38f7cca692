package prcomment

import (
	"math"
	"strings"
	"testing"

	"github.com/prodcat/colab-notebook-action/internal/texttest"
)

func TestComparisonWithBaseline(t *testing.T) {
	r := sampleReport() // accuracy 0.91234, macro-F1 0.8765, commit 0123456…
	base := *r.QuickStart
	base.Accuracy, base.MacroF1 = 0.9, 0.8801
	r.Compare = &Comparison{BaseRef: "main", BaseCommit: "1b2c3d4e5f6a", Base: &base}
	body := Comment(r, 0)
	texttest.Contains(t, "comment", body,
		"#### Compared with `main`",
		"| | This run | `main` | Difference |",
		"| Accuracy | 0.9123 | 0.9000 | +1.23 points |",
		"| Macro-F1 | 0.8765 | 0.8801 | -0.36 points |",
		"| Commit | `0123456` | `1b2c3d4` | |")
	if strings.Contains(body, "No baseline yet") || strings.Contains(body, "different data") {
		t.Errorf("baseline present, same data:\n%s", body)
	}
	// The comparison follows this run's own table.
	if strings.Index(body, "Quick Start metrics") > strings.Index(body, "Compared with") {
		t.Error("comparison before the run's own metrics")
	}

	base.Dataset, base.DataSource = "asaniczka", "owner/amazon-products"
	texttest.Contains(t, "comment on other data", Comment(r, 0), "The two ran on different data (fixture vs owner/amazon-products)")
}

func TestComparisonWithoutBaseline(t *testing.T) {
	r := sampleReport()
	r.Compare = &Comparison{BaseRef: "main", Record: "ci/main/run/ci_run.json"}
	body := Comment(r, 0)
	texttest.Contains(t, "comment", body, "#### Compared with `main`", "No baseline yet: `main` has no published Quick Start (`ci/main/run/ci_run.json`); its next push publishes one.")
	if strings.Contains(body, "| Accuracy | 0.9123 | ") && strings.Contains(body, "Difference") {
		t.Error("a difference without a baseline")
	}
	// Not compared at all (a default-branch run): no section.
	r.Compare = nil
	if strings.Contains(Comment(r, 0), "Compared with") {
		t.Error("comparison section without a comparison")
	}
}

func TestAccuracyChart(t *testing.T) {
	r := sampleReport()
	r.Mode = "full"
	r.Models = []ModelRow{
		{Model: "tfidf_linearsvc", Accuracy: 0.91, MacroF1: 0.9},
		{Model: "bert", Accuracy: 0.95, MacroF1: 0.94},
		{Model: "lstm", Accuracy: math.NaN()},
		{Model: "evil\"]\n```\n<img src=x>", Accuracy: 0.5},
	}
	body := Comment(r, 0)
	chart := body[strings.Index(body, "```mermaid"):]
	chart = chart[:strings.Index(chart[3:], "```")+6]
	want := "```mermaid\nxychart-beta\n    title \"Accuracy per model\"\n    x-axis [\"tfidf_linearsvc\", \"bert\", \"evil img src x\"]\n    y-axis \"Accuracy\" 0 --> 1\n    bar [0.9100, 0.9500, 0.5000]\n```"
	if chart != want {
		t.Errorf("chart:\n%s\nwant:\n%s", chart, want)
	}
	if strings.Index(body, "| Model | Accuracy") > strings.Index(body, "```mermaid") {
		t.Error("chart before the table")
	}
	r.Models = nil
	if strings.Contains(Comment(r, 0), "mermaid") {
		t.Error("a chart without a full run")
	}
}

func TestPreviewHeadline(t *testing.T) {
	r := sampleReport()
	r.Published = &Publication{
		Dir: "ci/pr-42", PR: true, TopURL: "https://colab.research.google.com/drive/top1",
		Kept:    []KeptCopy{{File: "ci/pr-42/product_categorization_colab.ipynb", Saved: "2026-11-30T10:00:00Z", Where: "Drive revision r9, kept forever: open the notebook in Colab, File → Revision history"}},
		NotOurs: []string{"ci/pr-42/run/summary.txt"},
	}
	body := Comment(r, 0)
	texttest.Contains(t, "comment", body, r.ColabURL,
		"This pull request's own notebook, in `ci/pr-42/` on Drive: the same link for every push",
		"The default branch's notebook: [open in Colab](https://colab.research.google.com/drive/top1).",
		"> Changes saved into `ci/pr-42/product_categorization_colab.ipynb` since the action last wrote it (saved 2026-11-30T10:00:00Z) were kept before this update: Drive revision r9, kept forever: open the notebook in Colab, File → Revision history.",
		"> Left untouched: `ci/pr-42/run/summary.txt` already existed and was not created by this action.")
	r.Published.PR, r.Published.Dir = false, "ci/feature-x-1a2b3c4d"
	texttest.Contains(t, "branch summary", Summary(r), "This branch's own notebook, in `ci/feature-x-1a2b3c4d/`")
	// The job summary of a default-branch push says where the user's version went too.
	r.Published.Dir = ""
	sum := Summary(r)
	texttest.Contains(t, "summary", sum, "File → Revision history")
	if strings.Contains(sum, "own notebook") {
		t.Error("the top notebook described as a preview")
	}
}

func TestClosedComment(t *testing.T) {
	q := sampleReport().QuickStart
	body := Comment(Report{Closed: &Closed{Dir: "ci/pr-42", Trashed: true, Where: "the Drive trash (restore it from Trash within 30 days)",
		TopURL: "https://colab.research.google.com/drive/top1", LastCommit: "4f1c2a9d8e7b", Last: q}}, 0)
	texttest.Contains(t, "closed comment", body, Marker,
		"This pull request is closed: its preview folder `ci/pr-42/` was moved to the Drive trash (restore it from Trash within 30 days).",
		"(https://colab.research.google.com/drive/top1)", "#### Last Quick Start of this pull request (`4f1c2a9`)", "| 0.9123 | 0.8765 |")
	if strings.Contains(body, "Validation") {
		t.Errorf("a closed pull request's comment reports a run:\n%s", body)
	}
	body = Comment(Report{Closed: &Closed{Dir: "ci/pr-43"}}, 0)
	texttest.Contains(t, "closed without preview", body, "it had no preview folder (`ci/pr-43/`) to remove")
}
