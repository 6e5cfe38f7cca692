package drive

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"regexp"
	"strings"
)

// The folder layout one publish writes into the project folder:
//
//	product_categorization_colab.ipynb, src/   the default branch's notebook (the link to bookmark)
//	ci/<ref>/product_categorization_colab.ipynb, ci/<ref>/src/
//	                                            a pull request's (or branch's) own notebook, its
//	                                            PROJECT_ROOT when opened in Colab
//	ci/<ref>/run/                               what the CI run of <ref> produced: executed notebook,
//	                                            results/, models/, NOTES.md, summary.txt, ci_run.json
//
// The run's artifacts sit one level below the preview's own PROJECT_ROOT so that a
// reviewer's Colab run of the preview starts from nothing instead of finding the CI's
// demo-data splits and models and skipping its steps.
const (
	NotebookFile = "product_categorization_colab.ipynb"
	CIDir        = "ci"
	RunDir       = "run"
	// RunRecord is the action's record of one run (commit, metrics) in ci/<ref>/run/;
	// the pull request comment reads the default branch's as its baseline.
	RunRecord = "ci_run.json"
)

// Target says which ref a publish is for, and so where its files go.
type Target struct {
	Ref     string // folder name under ci/: the default branch's name, pr-<N>, or a branch slug
	Default bool   // a run of the default branch: it also writes the top notebook and src/
	PR      int    // the pull request number, 0 for a branch
}

// BranchTarget is the target of a push (or workflow_dispatch) on branch. Only the
// repository's default branch writes the top notebook; an unknown default branch
// (defaultBranch "") never does.
func BranchTarget(branch, defaultBranch string) Target {
	return Target{Ref: RefSlug(branch), Default: branch != "" && branch == defaultBranch}
}

// PRTarget is the target of pull request n.
func PRTarget(n int) Target { return Target{Ref: fmt.Sprintf("pr-%d", n), PR: n} }

// Dir is the target's folder, ci/<ref>.
func (t Target) Dir() string { return path.Join(CIDir, t.Ref) }

// NotebookRoot is where the target's notebook and src/ go: the top of the project
// folder for the default branch, ci/<ref> for anything else.
func (t Target) NotebookRoot() string {
	if t.Default {
		return ""
	}
	return t.Dir()
}

// RunDir is where the target's run artifacts go, ci/<ref>/run.
func (t Target) RunDir() string { return path.Join(t.Dir(), RunDir) }

// Validate rejects a target whose folder would escape ci/ or clash with another ref's.
func (t Target) Validate() error {
	if t.Ref == "" || t.Ref == "." || t.Ref == ".." || strings.ContainsAny(t.Ref, `/\`) {
		return fmt.Errorf("ref %q cannot name a folder under %s/", t.Ref, CIDir)
	}
	if t.PR == 0 && prRef.MatchString(t.Ref) {
		return fmt.Errorf("ref %q is reserved for pull request folders", t.Ref)
	}
	return nil
}

var (
	prRef      = regexp.MustCompile(`^pr-\d+$`)
	slugUnsafe = regexp.MustCompile(`[^A-Za-z0-9._-]+`)
)

// maxSlug keeps ci/<ref>/run/... paths short enough for most of them to carry
// their path as an app property (124 bytes of key and value).
const maxSlug = 48

// RefSlug turns a branch name into a folder name. A name that is already a safe
// folder name stays as it is (main); any other (feature/x, a name like a pull
// request's folder pr-12, one over 48 bytes) is cleaned, cut and given a short hash
// of the full name, so two branches never share a folder: feature/x -> feature-x-1b2c3d4e.
func RefSlug(branch string) string {
	s := strings.Trim(slugUnsafe.ReplaceAllString(branch, "-"), "-.")
	for strings.Contains(s, "--") {
		s = strings.ReplaceAll(s, "--", "-")
	}
	if s == "" {
		s = "branch"
	}
	if prRef.MatchString(s) {
		s = "branch-" + s
	}
	if s == branch && len(s) <= maxSlug {
		return s
	}
	sum := sha256.Sum256([]byte(branch))
	return strings.TrimRight(s[:min(len(s), maxSlug-9)], "-.") + "-" + hex.EncodeToString(sum[:4])
}

// generated reports whether rel is one of the two things the action builds from
// cells/ for a target (its notebook and src/): those it may replace even where a
// person or Colab wrote them, after keeping the replaced content as a revision.
func generated(t Target, rel string) bool {
	root := t.NotebookRoot()
	return rel == path.Join(root, NotebookFile) || strings.HasPrefix(rel, path.Join(root, "src")+"/")
}
