package prcomment

import (
	"fmt"
	"math"
	"strings"
)

// Where a run's notebook went, and what a pull request's comment compares it with.

// Publication is where the run's notebook was published on Drive.
type Publication struct {
	Dir    string // the ref's own folder (ci/pr-42) when the notebook is a preview; "" for the top notebook
	PR     bool   // Dir is a pull request's (else a branch's)
	TopURL string // the default branch's notebook (the link to bookmark), when known
	Kept   []KeptCopy
	// NotOurs are same-named files someone else made, which the publish left untouched.
	NotOurs []string
}

// KeptCopy is content someone saved over the action's (a Colab run's outputs), kept
// before the update.
type KeptCopy struct {
	File, Saved, Where string
}

// Comparison sets this run's Quick Start beside the default branch's last published one.
type Comparison struct {
	BaseRef    string      // the default branch, e.g. main
	BaseCommit string      // the commit the baseline came from
	Base       *QuickStart // nil: no baseline yet
	Record     string      // where a baseline is read from, for the "no baseline yet" line
}

// Closed is a pull request's end: its preview folder went to the trash.
type Closed struct {
	Dir        string // ci/pr-42
	Trashed    bool
	Where      string // where the folder went
	Note       string // why it was not trashed
	TopURL     string
	LastCommit string
	Last       *QuickStart // the preview's last Quick Start, read before trashing
}

func previewHeadline(b *strings.Builder, r Report) {
	p := r.Published
	if p == nil {
		return
	}
	if p.Dir != "" {
		whose := "This branch's"
		if p.PR {
			whose = "This pull request's"
		}
		fmt.Fprintf(b, "%s own notebook, in %s on Drive: the same link for every push, and opened in Colab it keeps its artifacts in that folder (the default branch's notebook is never changed by it).", whose, codeSpan(p.Dir+"/"))
		if p.TopURL != "" {
			fmt.Fprintf(b, " The default branch's notebook: [open in Colab](%s).", p.TopURL)
		}
		b.WriteString("\n\n")
	}
	for _, k := range p.Kept {
		saved := ""
		if k.Saved != "" {
			saved = " (saved " + inline(k.Saved) + ")"
		}
		fmt.Fprintf(b, "> Changes saved into %s since the action last wrote it%s were kept before this update: %s.\n\n", codeSpan(k.File), saved, inline(k.Where))
	}
	if len(p.NotOurs) > 0 {
		names := make([]string, len(p.NotOurs))
		for i, n := range p.NotOurs {
			names[i] = codeSpan(n)
		}
		fmt.Fprintf(b, "> Left untouched: %s already existed and %s not created by this action.\n\n", strings.Join(names, ", "), map[bool]string{true: "was", false: "were"}[len(names) == 1])
	}
}

// comparisonSection puts accuracy and macro-F1 beside the baseline's, with the
// difference in points (hundredths) and the commit each came from.
func comparisonSection(c *Comparison, q *QuickStart, commit string) string {
	if c == nil || q == nil {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "#### Compared with %s\n\n", codeSpan(c.BaseRef))
	if c.Base == nil {
		fmt.Fprintf(&b, "No baseline yet: %s has no published Quick Start", codeSpan(c.BaseRef))
		if c.Record != "" {
			fmt.Fprintf(&b, " (%s)", codeSpan(c.Record))
		}
		b.WriteString("; its next push publishes one.\n\n")
		return b.String()
	}
	fmt.Fprintf(&b, "| | This run | %s | Difference |\n|---|---:|---:|---:|\n", codeCell(c.BaseRef))
	fmt.Fprintf(&b, "| Accuracy | %s | %s | %s |\n", num(q.Accuracy), num(c.Base.Accuracy), points(q.Accuracy-c.Base.Accuracy))
	fmt.Fprintf(&b, "| Macro-F1 | %s | %s | %s |\n", num(q.MacroF1), num(c.Base.MacroF1), points(q.MacroF1-c.Base.MacroF1))
	fmt.Fprintf(&b, "| Commit | %s | %s | |\n\n", codeCell(short(orDash(commit))), codeCell(short(orDash(c.BaseCommit))))
	if q.Dataset != c.Base.Dataset || q.DataSource != c.Base.DataSource {
		fmt.Fprintf(&b, "The two ran on different data (%s vs %s): the difference is not only the code's.\n\n", inline(dataLabel(*q)), inline(dataLabel(*c.Base)))
	}
	return b.String()
}

func dataLabel(q QuickStart) string {
	if q.DataSource != "" {
		return q.DataSource
	}
	return orDash(q.Dataset)
}

// points is a difference of two fractions in percentage points.
func points(d float64) string {
	if math.IsNaN(d) {
		return "–"
	}
	p := d * 100
	if math.Abs(p) < 0.005 {
		return "±0.00 points"
	}
	return fmt.Sprintf("%+.2f points", p)
}

// accuracyChart is a Mermaid bar chart of accuracy per model, which GitHub renders
// in the comment with no image hosting.
func accuracyChart(models []ModelRow) string {
	var names, vals []string
	for _, m := range models {
		if math.IsNaN(m.Accuracy) {
			continue
		}
		names = append(names, `"`+chartLabel(m.Model)+`"`)
		vals = append(vals, fmt.Sprintf("%.4f", m.Accuracy))
	}
	if len(vals) == 0 {
		return ""
	}
	return "```mermaid\nxychart-beta\n    title \"Accuracy per model\"\n    x-axis [" + strings.Join(names, ", ") +
		"]\n    y-axis \"Accuracy\" 0 --> 1\n    bar [" + strings.Join(vals, ", ") + "]\n```\n\n"
}

// chartLabel keeps a model name to characters that cannot end the label's quotes,
// the chart's line or its code fence.
func chartLabel(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune(" _-.+/()", r):
			b.WriteRune(r)
		default:
			b.WriteByte(' ')
		}
	}
	out := strings.Join(strings.Fields(b.String()), " ")
	if len(out) > 40 {
		out = out[:40]
	}
	if out == "" {
		out = "model"
	}
	return out
}

func closedBody(c *Closed) string {
	var b strings.Builder
	b.WriteString("### Product categorization notebook\n\n")
	switch {
	case c.Trashed:
		fmt.Fprintf(&b, "This pull request is closed: its preview folder %s was moved to %s.\n\n", codeSpan(c.Dir+"/"), inline(c.Where))
	case c.Note != "":
		fmt.Fprintf(&b, "This pull request is closed. %s\n\n", inline(c.Note))
	default:
		fmt.Fprintf(&b, "This pull request is closed; it had no preview folder (%s) to remove.\n\n", codeSpan(c.Dir+"/"))
	}
	if c.TopURL != "" {
		fmt.Fprintf(&b, "The default branch's notebook: [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](%s)\n\n", c.TopURL)
	}
	if c.Last != nil {
		fmt.Fprintf(&b, "#### Last Quick Start of this pull request (%s)\n\n", codeSpan(short(orDash(c.LastCommit))))
		b.WriteString(QuickStartTable(*c.Last))
		b.WriteString("\n")
	}
	return b.String()
}
