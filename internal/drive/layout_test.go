package drive

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestRefSlug(t *testing.T) {
	long := strings.Repeat("very-long-branch-name-", 5)
	for branch, want := range map[string]string{
		"main":           "main",
		"release-1.2":    "release-1.2",
		"feature/tune":   "feature-tune-",
		"pr-12":          "branch-pr-12-",
		"../../escape":   "escape-",
		"Ünïcode branch": "n-code-branch-",
		long:             "very-long-branch-name-very-long-branch-",
	} {
		got := RefSlug(branch)
		if got != want && !(strings.HasSuffix(want, "-") && strings.HasPrefix(got, want) && len(got) == len(want)+8) {
			t.Errorf("RefSlug(%q) = %q, want %q (+ 8 hex digits where it ends in -)", branch, got, want)
		}
		if err := (Target{Ref: got}).Validate(); err != nil {
			t.Errorf("RefSlug(%q) = %q is not a valid folder: %v", branch, got, err)
		}
	}
	if RefSlug("feature/x") == RefSlug("feature-x") || RefSlug("a/b") == RefSlug("a_b") {
		t.Error("two branches share a folder")
	}
}

func TestTargets(t *testing.T) {
	for _, tc := range []struct {
		target                 Target
		dir, notebookRoot, run string
		def                    bool
	}{
		{BranchTarget("main", "main"), "ci/main", "", "ci/main/run", true},
		{BranchTarget("main", "master"), "ci/main", "ci/main", "ci/main/run", false},
		{BranchTarget("main", ""), "ci/main", "ci/main", "ci/main/run", false},
		{PRTarget(42), "ci/pr-42", "ci/pr-42", "ci/pr-42/run", false},
	} {
		tg := tc.target
		if tg.Dir() != tc.dir || tg.NotebookRoot() != tc.notebookRoot || tg.RunDir() != tc.run || tg.Default != tc.def {
			t.Errorf("%+v: dir %s root %q run %s", tg, tg.Dir(), tg.NotebookRoot(), tg.RunDir())
		}
	}
	if !generated(mainTarget, "src/api/app.py") || generated(mainTarget, "ci/main/run/src/x.py") || generated(PRTarget(1), "src/x.py") ||
		!generated(PRTarget(1), "ci/pr-1/src/x.py") || !generated(PRTarget(1), "ci/pr-1/"+NotebookFile) || generated(mainTarget, "NOTES.md") {
		t.Error("generated() disagrees with the layout")
	}
}

// TestTreeMatchesProjectPy keeps Tree equal to TREE in cells/src/project.py, the
// notebook's own list of PROJECT_ROOT folders (it runs in Colab, so it cannot
// read a file of this repository).
func TestTreeMatchesProjectPy(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "cells", "src", "project.py"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?ms)^TREE\s*=\s*\((.*?)^\)`).FindSubmatch(b)
	if m == nil {
		t.Fatal("cells/src/project.py has no TREE = ( ... ) tuple")
	}
	var py []string
	for _, line := range strings.Split(string(m[1]), "\n") {
		line = strings.TrimSpace(line)
		if i := strings.Index(line, "#"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line == "" {
			continue
		}
		s := regexp.MustCompile(`^["']([^"']*)["'],?$`).FindStringSubmatch(line)
		if s == nil {
			t.Fatalf("TREE entry %q is not a plain string literal: keep TREE a tuple of strings, one per line", line)
		}
		py = append(py, s[1])
	}
	if strings.Join(py, "\n") != strings.Join(Tree, "\n") {
		t.Errorf("drive.Tree and project.TREE differ:\n Go:     %v\n Python: %v", Tree, py)
	}
}
