// Package prcomment keeps exactly one comment per pull request up to date with the
// Colab link, the validation result and the Quick Start metrics, and renders the
// same Markdown for the job summary.
package prcomment

import (
	"fmt"
	"math"
	"strings"
)

// Marker is the hidden line that identifies the sticky comment.
const Marker = "<!-- colab-notebook-action:sticky-comment -->"

// MaxBody is GitHub's limit on a comment body, in characters; we count bytes,
// which is never less, so the limit holds for any text.
const MaxBody = 65536

// Problem is one validation finding, located in a cell file.
type Problem struct {
	File    string
	Line    int
	Message string
}

// QuickStart holds results/quickstart_metrics.json.
type QuickStart struct {
	Accuracy     float64 `json:"accuracy"`
	MacroF1      float64 `json:"macro_f1"`
	TrainSeconds float64 `json:"train_seconds"`
	Device       string  `json:"device"`
	NTrain       int     `json:"n_train"`
	NTest        int     `json:"n_test"`
	NClasses     int     `json:"n_classes"`
	Dataset      string  `json:"dataset"`
	DataSource   string  `json:"data_source"` // the path, URL or Kaggle handle as given, or "demo"
	NRows        int     `json:"n_rows"`      // rows loaded, before sampling
}

// ModelRow is one row of results/metrics.csv (the full pipeline's comparison).
type ModelRow struct {
	Model                                  string
	Accuracy, MacroF1, WeightedF1, Top3Acc float64
}

// Report is everything one run has to say.
type Report struct {
	Mode       string // build, quickstart, full
	Commit     string
	RunURL     string
	RunLabel   string // e.g. "CI #42"
	ColabURL   string
	FolderURL  string
	Notebook   string // local path when not published to Drive
	PublishMsg string // why it was not published, or a warning; Markdown written by the action itself
	Runner     string // the machine the run used, e.g. "GitHub-hosted, Linux X64, GPU: none"

	Validated bool
	Problems  []Problem
	ValidErr  string // validate could not run at all

	QuickStart *QuickStart
	Models     []ModelRow
	ExecErr    string   // one line: why the execution did not finish
	Failure    *Failure // the cell it stopped at, with its traceback

	Published *Publication // where the notebook went on Drive (preview folder, kept revisions)
	Compare   *Comparison  // the default branch's last Quick Start; nil: not compared
	Closed    *Closed      // the pull request was closed: the whole comment says so
}

// Comment renders the sticky comment body, at most limit bytes (MaxBody if 0).
func Comment(r Report, limit int) string {
	if limit <= 0 {
		limit = MaxBody
	}
	return render(r, Marker+"\n", limit)
}

// Summary renders the job summary (GitHub caps it at 1 MiB).
func Summary(r Report) string { return render(r, "", 1<<20) }

// render shrinks the long parts (problem list, model table) until the body fits;
// the marker and the Colab link come first so even a hard cut keeps them.
func render(r Report, head string, limit int) string {
	keepProblems, keepModels := len(r.Problems), len(r.Models)
	keepTraceback := limit / 2
	for {
		s := head + body(r, keepProblems, keepModels, keepTraceback)
		if len(s) <= limit {
			return s
		}
		switch {
		case r.Failure != nil && keepTraceback > 4000:
			// The traceback's end (the error) is what matters; keep as much as fits.
			keepTraceback = max(4000, keepTraceback-(len(s)-limit)-200)
		case keepProblems > 20:
			keepProblems = 20
		case keepModels > 20:
			keepModels = 20
		case keepProblems > 0:
			keepProblems = 0
		case keepModels > 0:
			keepModels = 0
		case r.Failure != nil && keepTraceback > 0:
			keepTraceback = 0
		default:
			const cut = "\n\n… (truncated to fit GitHub's comment size limit)\n"
			return truncateUTF8(s, limit-len(cut)) + cut
		}
	}
}

func truncateUTF8(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

func body(r Report, keepProblems, keepModels, keepTraceback int) string {
	if r.Closed != nil {
		return closedBody(r.Closed)
	}
	var b strings.Builder
	b.WriteString("### Product categorization notebook\n\n")
	switch {
	case r.ColabURL != "":
		fmt.Fprintf(&b, "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](%s) **[Open the notebook in Colab](%s)**\n\n", r.ColabURL, r.ColabURL)
	case r.Notebook != "":
		fmt.Fprintf(&b, "Notebook built at `%s` (not published to Google Drive).\n\n", r.Notebook)
	}
	if r.PublishMsg != "" {
		// Written by the action itself (never cut): what happened and what to do.
		fmt.Fprintf(&b, "> %s\n\n", strings.Join(strings.Fields(r.PublishMsg), " "))
	}
	previewHeadline(&b, r)

	b.WriteString("| | |\n|---|---|\n")
	if r.Commit != "" {
		fmt.Fprintf(&b, "| Commit | `%s` |\n", short(r.Commit))
	}
	if r.Mode != "" {
		fmt.Fprintf(&b, "| Mode | %s |\n", r.Mode)
	}
	fmt.Fprintf(&b, "| Validation | %s |\n", validationCell(r))
	if r.Mode != "build" {
		fmt.Fprintf(&b, "| Execution | %s |\n", execCell(r))
	}
	if q := r.QuickStart; q != nil && (q.DataSource != "" || q.NRows > 0) {
		fmt.Fprintf(&b, "| Data | %s |\n", dataCell(*q))
	}
	if r.Runner != "" {
		fmt.Fprintf(&b, "| Runner | %s |\n", inline(r.Runner))
	}
	if r.FolderURL != "" {
		fmt.Fprintf(&b, "| Drive folder | [product_categorization_project](%s) |\n", r.FolderURL)
	}
	if r.RunURL != "" {
		label := r.RunLabel
		if label == "" {
			label = "workflow run"
		}
		fmt.Fprintf(&b, "| Run | [%s](%s) |\n", inline(label), r.RunURL)
	}
	b.WriteString("\n")

	if len(r.Problems) > 0 {
		b.WriteString("#### Validation problems\n\n")
		for _, p := range r.Problems[:keepProblems] {
			loc := p.File
			if p.Line > 0 {
				loc = fmt.Sprintf("%s:%d", p.File, p.Line)
			}
			fmt.Fprintf(&b, "- %s %s\n", codeSpan(loc), inline(p.Message))
		}
		if n := len(r.Problems) - keepProblems; n > 0 {
			fmt.Fprintf(&b, "- … and %d more (see the run's annotations)\n", n)
		}
		b.WriteString("\n")
	}

	if r.Failure != nil {
		b.WriteString(failureSection(r.Failure, keepTraceback))
	}
	if q := r.QuickStart; q != nil {
		b.WriteString("#### Quick Start metrics\n\n")
		b.WriteString(QuickStartTable(*q))
		b.WriteString("\n")
		b.WriteString(comparisonSection(r.Compare, q, r.Commit))
	}
	if len(r.Models) > 0 {
		b.WriteString("#### Full pipeline: model comparison\n\n")
		b.WriteString("| Model | Accuracy | Macro-F1 | Weighted-F1 | Top-3 accuracy |\n|---|---:|---:|---:|---:|\n")
		for _, m := range r.Models[:keepModels] {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", inline(m.Model), num(m.Accuracy), num(m.MacroF1), num(m.WeightedF1), num(m.Top3Acc))
		}
		if n := len(r.Models) - keepModels; n > 0 {
			fmt.Fprintf(&b, "\n… and %d more models in results/metrics.csv\n", n)
		}
		b.WriteString("\n")
		b.WriteString(accuracyChart(r.Models[:keepModels]))
	}
	return b.String()
}

// QuickStartTable is the metrics table shared by the comment and the job summary.
func QuickStartTable(q QuickStart) string {
	var b strings.Builder
	b.WriteString("| Accuracy | Macro-F1 | Train time | Device | Train / test rows | Classes | Dataset |\n|---:|---:|---:|---|---:|---:|---|\n")
	fmt.Fprintf(&b, "| %s | %s | %s | %s | %d / %d | %d | %s |\n",
		num(q.Accuracy), num(q.MacroF1), seconds(q.TrainSeconds), inline(orDash(q.Device)), q.NTrain, q.NTest, q.NClasses, inline(orDash(q.Dataset)))
	return b.String()
}

func validationCell(r Report) string {
	switch {
	case r.ValidErr != "":
		return "could not run: " + inline(r.ValidErr)
	case !r.Validated:
		return "not run"
	case len(r.Problems) == 0:
		return "✅ passed"
	case len(r.Problems) == 1:
		return "❌ 1 problem"
	}
	return fmt.Sprintf("❌ %d problems", len(r.Problems))
}

func execCell(r Report) string {
	switch {
	case r.ExecErr != "":
		return "❌ " + inline(r.ExecErr)
	case r.QuickStart != nil || len(r.Models) > 0:
		return "✅ " + r.Mode + " finished"
	}
	return "not run"
}

func num(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.4f", v)
}

func seconds(s float64) string {
	if s >= 120 {
		return fmt.Sprintf("%.1f min", s/60)
	}
	return fmt.Sprintf("%.1f s", s)
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// oneLine keeps a message inside one list item or table cell.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = truncateUTF8(s, 300) + "…"
	}
	return s
}

// dataCell names the data a run used: its source, the rows loaded, the classes.
func dataCell(q QuickStart) string {
	var parts []string
	if q.DataSource != "" {
		parts = append(parts, codeCell(q.DataSource))
	}
	if q.NRows > 0 {
		parts = append(parts, fmt.Sprintf("%d rows", q.NRows))
	}
	if q.NClasses > 0 {
		parts = append(parts, fmt.Sprintf("%d classes", q.NClasses))
	}
	return strings.Join(parts, ", ")
}
