package prcomment

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/prodcat/colab-notebook-action/internal/texttest"
)

func TestUntrustedTextStaysText(t *testing.T) {
	r := sampleReport()
	evil := "x](https://evil.example) ![img](https://evil.example/p.png) <img src=x onerror=alert(1)> | broken | @octo/admins\n## heading"
	r.Problems = []Problem{{File: "cells/0`1.py", Line: 3, Message: evil}}
	r.ExecErr = evil
	r.QuickStart.Dataset = evil
	r.QuickStart.Device = "<b>gpu</b>"
	r.Models = []ModelRow{{Model: evil, Accuracy: 0.5}}
	r.Failure = &Failure{Kind: "cell_error", Cell: "3/8", Section: evil, File: "cells/05_x.py", Line: 4,
		Exception: "ValueError: " + evil, Traceback: "Traceback\n```\n</details><script>x</script>\n````\n" + evil}
	body := Comment(r, 0)
	for _, bad := range []string{"](https://evil", "![img]", "<img", "<b>", "<script>", "\n## heading", "@octo/admins", "| broken |"} {
		// Outside the traceback's code block nothing may render as Markdown or HTML.
		outside := body
		if i := strings.Index(body, "<details>"); i >= 0 {
			j := strings.Index(body, "</details>\n\n#### Quick Start")
			if j < 0 {
				t.Fatalf("traceback block not closed where expected:\n%s", body)
			}
			outside = body[:i] + body[j:]
		}
		if texttest.Unescaped(outside, bad) {
			t.Errorf("comment renders %q from untrusted text:\n%s", bad, outside)
		}
	}
	// The traceback's fence is longer than any backtick run inside it, so it
	// cannot be closed early, and the </details> inside it stays text.
	if !strings.Contains(body, "`````text\nTraceback") {
		t.Errorf("traceback fence not longer than its backtick runs:\n%s", body)
	}
	if !strings.Contains(body, "``cells/0`1.py:3``") {
		t.Errorf("a path with a backtick is not in a longer code span:\n%s", body)
	}
}

func TestFailureSection(t *testing.T) {
	r := sampleReport()
	r.QuickStart = nil
	tb := "Traceback (most recent call last):\n" + strings.Repeat("  File \"x.py\", line 1, in f\n", 10) + "ValueError: boom at the end"
	r.ExecErr = "cell 3/8 failed: ValueError: boom at the end"
	r.Failure = &Failure{Kind: "cell_error", Cell: "3/8", Section: "Step 3 — Data cleaning", File: "cells/09_step03_preprocess.py",
		Line: 12, Exception: "ValueError: boom at the end", Traceback: tb}
	body := Comment(r, 0)
	for _, want := range []string{"#### Failing cell", "| Section | Step 3 — Data cleaning |", "| Source | `cells/09_step03_preprocess.py:12` |",
		"| Exception | ValueError: boom at the end |", "<details><summary>Traceback</summary>\n\n```text\nTraceback (most recent call last):",
		strings.Repeat("  File \"x.py\", line 1, in f\n", 10) + "ValueError: boom at the end\n```\n\n</details>"} {
		if !strings.Contains(body, want) {
			t.Errorf("comment lacks %q:\n%s", want, body)
		}
	}
	// A traceback larger than the comment limit keeps its end and says so.
	r.Failure.Traceback = strings.Repeat("frame line ünïcode\n", 20000) + "KeyError: 'category'"
	body = Comment(r, 0)
	if len(body) > MaxBody || !utf8.ValidString(body) {
		t.Fatalf("body %d bytes, valid UTF-8 %v", len(body), utf8.ValidString(body))
	}
	if !strings.Contains(body, "KeyError: 'category'\n```\n\n</details>") || !strings.Contains(body, "of 20001 lines; the whole traceback is in the run log") {
		t.Errorf("long traceback not cut to its end with a note:\n%s", body[:min(len(body), 2000)])
	}
	// The summary has room for all of it.
	if s := Summary(r); !strings.Contains(s, fmt.Sprintf("<summary>Traceback</summary>")) {
		t.Error("the job summary cut a traceback that fits in 1 MiB")
	}
}

func TestDataAndRunnerRows(t *testing.T) {
	r := sampleReport()
	r.QuickStart.DataSource, r.QuickStart.NRows = "https://example.org/products.zip", 12345
	r.Runner = "GitHub-hosted, Linux X64, GPU: NVIDIA T4"
	body := Comment(r, 0)
	for _, want := range []string{"| Data | `https://example.org/products.zip`, 12345 rows, 5 classes |", "| Runner | GitHub-hosted, Linux X64, GPU: NVIDIA T4 |"} {
		if !strings.Contains(body, want) {
			t.Errorf("comment lacks %q:\n%s", want, body)
		}
	}
}
