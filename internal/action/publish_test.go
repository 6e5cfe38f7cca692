package action

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/prodcat/colab-notebook-action/internal/drive"
	"github.com/prodcat/colab-notebook-action/internal/drive/drivetest"
	"github.com/prodcat/colab-notebook-action/internal/texttest"
)

// as makes the next run serve another event: its name, payload and ref.
func (h *harness) as(eventName, payload, ref string) *harness {
	h.t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "testdata", "events", payload+".json"))
	if err != nil {
		h.t.Fatal(err)
	}
	h.env["GITHUB_EVENT_NAME"], h.env["GITHUB_EVENT_PATH"], h.env["GITHUB_REF"] = eventName, p, ref
	return h
}

func (h *harness) mustRun(step string) {
	h.t.Helper()
	if code := h.run(); code != 0 {
		h.t.Fatalf("%s: exit %d\n%s", step, code, h.out.String())
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestLocalModeScenario is the check of the issue: the action in local mode (no
// credentials) through a default-branch push, two pull requests and a close, with
// the user's own files in results/ and NOTES.md.
func TestLocalModeScenario(t *testing.T) {
	h := newHarness(t, "push")
	base := filepath.Join(h.dir, "_drive", "MyDrive", drive.ProjectFolder)
	user := map[string]string{
		"results/quickstart_metrics.json":    `{"accuracy": 0.42, "from": "the user's own Colab run"}`,
		"results/plots/confusion_matrix.png": "the user's plot",
		"NOTES.md":                           "# My notes\n\nDo not lose these.\n",
		"summary.txt":                        "the user's summary\n",
	}
	for rel, content := range user {
		p := filepath.Join(base, filepath.FromSlash(rel))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	topNB := filepath.Join(base, NotebookFile)

	h.pipe.accuracy = 0.90
	h.as("push", "push", "refs/heads/main").mustRun("push to main")
	top := readFile(t, topNB)
	if out := h.outputs(); out["published"] != "local" {
		t.Errorf("outputs %v", out)
	}
	for _, rel := range []string{"src/config.py", "ci/main/run/results/quickstart_metrics.json", "ci/main/run/ci_run.json"} {
		if _, err := os.Stat(filepath.Join(base, rel)); err != nil {
			t.Errorf("after the push to main: %v", err)
		}
	}

	steps := []struct {
		name, payload string
		pr            int
		accuracy      float64
	}{
		{"PR #42 opened", "pull_request_opened", 42, 0.91},
		{"PR #7 opened", "pull_request_7_opened", 7, 0.88},
		{"PR #42 pushed again", "pull_request", 42, 0.93},
	}
	for _, s := range steps {
		h.pipe.accuracy = s.accuracy
		h.as("pull_request", s.payload, "refs/pull/x/merge").mustRun(s.name)
		if readFile(t, topNB) != top {
			t.Fatalf("%s changed the top notebook", s.name)
		}
		dir := filepath.Join(base, "ci", "pr-"+strconv.Itoa(s.pr))
		texttest.Contains(t, s.name+" preview", readFile(t, filepath.Join(dir, NotebookFile)),
			`PROJECT_ROOT_OVERRIDE = \"`+dir+`\"`, `PARENT_PROJECT_ROOT = \"`+base+`\"`)
		texttest.Contains(t, s.name+" record", readFile(t, filepath.Join(dir, "run", "ci_run.json")), `"accuracy": `+strconv.FormatFloat(s.accuracy, 'f', -1, 64))
	}
	c42 := h.gh.Comments(42)
	if len(c42) != 1 {
		t.Fatalf("%d comments on #42", len(c42))
	}
	texttest.Contains(t, "#42 comment", c42[0].Body, "`ci/pr-42/`", "#### Compared with `main`",
		"| Accuracy | 0.9300 | 0.9000 | +3.00 points |", "| Commit | `4f1c2a9` | `deadbee` | |")

	executed := len(h.pipe.executed)
	h.as("pull_request", "pull_request_closed", "refs/pull/42/merge").mustRun("PR #42 closed")
	if len(h.pipe.executed) != executed {
		t.Error("closing a pull request ran the notebook")
	}
	if _, err := os.Stat(filepath.Join(base, "ci", "pr-42")); !os.IsNotExist(err) {
		t.Errorf("ci/pr-42 is still in the tree (%v)", err)
	}
	trashed := filepath.Join(h.dir, "_drive", "Trash", "pr-42", NotebookFile)
	if _, err := os.Stat(trashed); err != nil {
		t.Errorf("the closed PR's notebook is not in Trash/: %v", err)
	}
	if _, err := os.Stat(filepath.Join(base, "ci", "pr-7", NotebookFile)); err != nil {
		t.Errorf("PR #7's preview went with #42's: %v", err)
	}
	if readFile(t, topNB) != top {
		t.Error("closing changed the top notebook")
	}
	for rel, content := range user {
		if got := readFile(t, filepath.Join(base, filepath.FromSlash(rel))); got != content {
			t.Errorf("the user's %s changed: %q", rel, got)
		}
	}
	c42 = h.gh.Comments(42)
	if len(c42) != 1 {
		t.Fatalf("%d comments on #42 after closing", len(c42))
	}
	texttest.Contains(t, "#42 comment after closing", c42[0].Body, "This pull request is closed: its preview folder `ci/pr-42/` was moved to ", "/Trash/pr-42.",
		"#### Last Quick Start of this pull request (`4f1c2a9`)", "| 0.9300 |")
}

func TestDriveEvents(t *testing.T) {
	h := newHarness(t, "push").withDrive()
	h.env["INPUT_SHARE-WITH"] = "reviewer@example.com"
	h.env["INPUT_SHARE-ROLE"] = "commenter"
	lookup := func(rel string) drivetest.File {
		t.Helper()
		f, ok := h.drive.Lookup("proj-folder", rel)
		if !ok {
			t.Fatalf("%s not on Drive", rel)
		}
		return f
	}

	// A pull request before the default branch ever published: no baseline.
	h.as("pull_request", "pull_request_opened", "refs/pull/42/merge").mustRun("PR #42 opened")
	texttest.Contains(t, "first comment", h.comments()[0].Body, "No baseline yet: `main` has no published Quick Start (`ci/main/run/ci_run.json`)")
	if _, ok := h.drive.Lookup("proj-folder", NotebookFile); ok {
		t.Error("a pull request wrote the top notebook")
	}
	preview := lookup("ci/pr-42/" + NotebookFile)
	if out := h.outputs(); out["drive-file-id"] != preview.ID || out["colab-url"] != drive.ColabURL(preview.ID) {
		t.Errorf("outputs %v, preview %s", out, preview.ID)
	}

	h.pipe.accuracy = 0.9
	h.as("push", "push", "refs/heads/main").mustRun("push to main")
	top := lookup(NotebookFile)
	if out := h.outputs(); out["drive-file-id"] != top.ID {
		t.Errorf("push to main: drive-file-id %s, top notebook %s", out["drive-file-id"], top.ID)
	}
	if strings.Contains(h.summary(), "Compared with") {
		t.Error("the default branch compared with itself")
	}

	h.pipe.accuracy = 0.8
	h.as("push", "push_feature", "refs/heads/feature/tune-tfidf").mustRun("push to a feature branch")
	branch := "ci/" + drive.RefSlug("feature/tune-tfidf")
	lookup(branch + "/" + NotebookFile)
	if f := lookup(NotebookFile); f.Version != top.Version {
		t.Error("a feature branch's push changed the top notebook")
	}
	texttest.Contains(t, "feature branch summary", h.summary(), "| Accuracy | 0.8000 | 0.9000 | -10.00 points |")

	h.pipe.accuracy = 0.95
	h.as("pull_request", "pull_request", "refs/pull/42/merge").mustRun("PR #42 synchronize")
	if again := lookup("ci/pr-42/" + NotebookFile); again.ID != preview.ID {
		t.Errorf("the second push moved the preview %s -> %s", preview.ID, again.ID)
	}
	if f := lookup(NotebookFile); f.Version != top.Version {
		t.Error("the pull request changed the top notebook")
	}
	cs := h.comments()
	if len(cs) != 1 {
		t.Fatalf("%d comments", len(cs))
	}
	texttest.Contains(t, "comment", cs[0].Body, drive.ColabURL(preview.ID), "This pull request's own notebook, in `ci/pr-42/`",
		"[open in Colab]("+drive.ColabURL(top.ID)+")", "| Accuracy | 0.9500 | 0.9000 | +5.00 points |", "| Commit | `4f1c2a9` | `deadbee` | |")
	for _, rel := range []string{NotebookFile, "ci/pr-42/" + NotebookFile} {
		n := 0
		for _, p := range lookup(rel).Permissions {
			if p.EmailAddress == "reviewer@example.com" && p.Role == "commenter" {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s: the reviewer holds %d commenter grants, want 1", rel, n)
		}
	}

	executed := len(h.pipe.executed)
	h.as("pull_request", "pull_request_closed", "refs/pull/42/merge").mustRun("PR #42 closed")
	if len(h.pipe.executed) != executed {
		t.Error("closing ran the notebook")
	}
	if f, _ := h.drive.File(lookupTrashed(t, h.drive, preview.ID)); !f.Trashed {
		t.Error("the preview is not in the Drive trash")
	}
	if f := lookup(NotebookFile); f.Trashed || f.Version != top.Version {
		t.Error("closing touched the top notebook")
	}
	lookup(branch + "/" + NotebookFile)
	cs = h.comments()
	if len(cs) != 1 {
		t.Fatalf("%d comments after closing", len(cs))
	}
	texttest.Contains(t, "closed comment", cs[0].Body, "its preview folder `ci/pr-42/` was moved to the Drive trash (restore it from Trash within 30 days)",
		drive.ColabURL(top.ID), "Last Quick Start of this pull request (`4f1c2a9`)", "| 0.9500 |")
	texttest.Contains(t, "log", h.out.String(), "ci/pr-42/ moved to the Drive trash")

	// A fork's closed pull request never had a preview: nothing on Drive changes.
	before := h.drive.Count("files.update", "")
	h.env["INPUT_GITHUB-TOKEN"] = "ghs_readonly"
	h.as("pull_request", "pull_request_fork_closed", "refs/pull/43/merge").mustRun("fork PR closed")
	if h.drive.Count("files.update", "") != before {
		t.Error("a fork's close changed Drive")
	}
	texttest.Contains(t, "fork close log", h.out.String(), "no preview was published, nothing to trash")
}

// lookupTrashed returns id, checking it still exists (trashed files are kept).
func lookupTrashed(t *testing.T, srv *drivetest.Server, id string) string {
	t.Helper()
	if _, ok := srv.File(id); !ok {
		t.Fatalf("%s was deleted, not trashed", id)
	}
	return id
}

func TestDefaultBranchKeepsTheUsersNotebookRevision(t *testing.T) {
	h := newHarness(t, "push").withDrive()
	h.as("push", "push", "refs/heads/main").mustRun("first push")
	nb, _ := h.drive.Lookup("proj-folder", NotebookFile)
	// The user ran it in Colab, which saved the outputs into the file.
	h.drive.SetContent(nb.ID, []byte(`{"cells": [{"outputs": ["mine"]}]}`))
	h.pipe.accuracy = 0.97 // the next build differs
	h.mustRun("second push")
	nb, _ = h.drive.Lookup("proj-folder", NotebookFile)
	kept := 0
	for _, r := range nb.Revisions {
		if r.KeepForever && strings.Contains(string(r.Content), "mine") {
			kept++
		}
	}
	if kept != 1 {
		t.Errorf("the user's version kept %d times: %+v", kept, nb.Revisions)
	}
	texttest.Contains(t, "log", h.out.String(), NotebookFile+" had changes saved since the action last wrote it", "File → Revision history")
	texttest.Contains(t, "summary", h.summary(), "were kept before this update", "File → Revision history")
}

func TestShareInputs(t *testing.T) {
	for v, want := range map[[2]string]string{
		{"alice", ""}:            "input share-with: \"alice\" is not an email address",
		{"a@example.com", "own"}: "input share-role must be reader, commenter or writer",
	} {
		env := map[string]string{"INPUT_SHARE-WITH": v[0], "INPUT_SHARE-ROLE": v[1]}
		_, err := readConfig(func(k string) string { return env[k] })
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: err %v, want %q", v, err, want)
		}
	}
	env := map[string]string{"INPUT_SHARE_WITH": "a@example.com, group:team@example.com", "INPUT_SHARE_ROLE": "writer"}
	c, err := readConfig(func(k string) string { return env[k] })
	if err != nil || len(c.ShareWith) != 2 || c.ShareWith[1].Type != "group" || c.ShareWith[0].Role != "writer" {
		t.Errorf("share-with %+v, %v", c.ShareWith, err)
	}
}
