package drive

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prodcat/colab-notebook-action/internal/texttest"
)

// treeOf reads every file under dir as slash path -> content.
func treeOf(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func publishLocal(t *testing.T, root string, src Sources, target Target) *Report {
	t.Helper()
	rep, err := publishTo(t, Credentials{}, Options{LocalRoot: root}, src, target)
	if err != nil {
		t.Fatalf("%s: %v", target.Ref, err)
	}
	return rep
}

func TestLocalPublishMirrorsDrive(t *testing.T) {
	fx := newFixture(t)
	root := filepath.Join(t.TempDir(), "_drive")
	base := LocalProjectRoot(root)
	users := map[string]string{
		"results/quickstart_metrics.json": `{"accuracy": 0.71}`,
		"NOTES.md":                        "my notes",
		"models/baseline.joblib":          "my model",
		"ci/main/run/summary.txt":         "planted where the CI run's copy goes",
	}
	for rel, content := range users {
		write(t, filepath.Join(base, rel), content)
	}
	write(t, filepath.Join(fx.project, "summary.txt"), "CI summary")

	main := publishLocal(t, root, fx.sources(), mainTarget)
	tree := treeOf(t, base)
	for rel, content := range users {
		if tree[rel] != content {
			t.Errorf("the user's %s = %q, want %q", rel, tree[rel], content)
		}
	}
	if len(main.NotOurs) != 1 || main.NotOurs[0] != "ci/main/run/summary.txt" {
		t.Errorf("NotOurs = %v", main.NotOurs)
	}
	for _, rel := range []string{NotebookFile, "src/config.py", "ci/main/run/results/quickstart_metrics.json", "ci/main/run/results/plots/confusion.png"} {
		if _, ok := tree[rel]; !ok {
			t.Errorf("%s missing from the local tree", rel)
		}
	}
	for _, d := range Tree {
		if fi, err := os.Stat(filepath.Join(base, d)); err != nil || !fi.IsDir() {
			t.Errorf("folder %s missing", d)
		}
	}
	if main.Notebook.URL != filepath.Join(base, NotebookFile) || main.FolderURL != base {
		t.Errorf("links %+v %s", main.Notebook, main.FolderURL)
	}
	if _, err := os.Stat(filepath.Join(root, localManifest)); err != nil {
		t.Errorf("no manifest beside MyDrive/: %v", err)
	}
	for rel := range tree {
		if strings.Contains(rel, "/.") || strings.HasPrefix(rel, ".") {
			t.Errorf("hidden file in the mirrored tree: %s", rel)
		}
	}

	// A later run that does not produce the CI summary: the action's copy goes, the user's stays.
	if err := os.Remove(filepath.Join(fx.project, "summary.txt")); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(fx.project, "NOTES.md"), "# CI notes")
	publishLocal(t, root, fx.sources(), mainTarget)
	write(t, filepath.Join(fx.project, "summary.txt"), "CI summary")
	if err := os.Remove(filepath.Join(fx.project, "NOTES.md")); err != nil {
		t.Fatal(err)
	}
	pruned := publishLocal(t, root, fx.sources(), mainTarget)
	if len(pruned.Stale) != 1 || pruned.Stale[0] != "ci/main/run/NOTES.md" || exists(filepath.Join(base, "ci", "main", "run", "NOTES.md")) {
		t.Errorf("stale %v", pruned.Stale)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "Trash", "NOTES.md")); string(b) != "# CI notes" {
		t.Errorf("the earlier run's NOTES.md is not in Trash/: %q", b)
	}
	tree = treeOf(t, base)

	// A pull request: its own folder, the top untouched.
	top := tree[NotebookFile]
	pr := publishLocal(t, root, fx.sources(), PRTarget(5))
	tree = treeOf(t, base)
	if tree[NotebookFile] != top {
		t.Error("the pull request changed the top notebook")
	}
	texttest.Contains(t, "preview notebook", tree["ci/pr-5/"+NotebookFile],
		`"PROJECT_ROOT_OVERRIDE = \"`+filepath.Join(base, "ci", "pr-5")+`\"`, `"PARENT_PROJECT_ROOT = \"`+base+`\"`)
	if pr.Notebook.MountPath != filepath.Join(base, "ci", "pr-5") || pr.Top.URL != main.Notebook.URL {
		t.Errorf("preview links %+v, top %+v", pr.Notebook, pr.Top)
	}

	// The user ran the top notebook (outputs saved into it): kept in .revisions/.
	write(t, filepath.Join(base, NotebookFile), "the user's run")
	write(t, fx.notebook, strings.Replace(builtNotebook, "FORCE = False", "FORCE = True", 1))
	again := publishLocal(t, root, fx.sources(), mainTarget)
	if len(again.Kept) != 1 || !strings.HasPrefix(again.Kept[0].Where, "a copy at "+filepath.Join(root, localRevisions)) {
		t.Fatalf("kept %+v", again.Kept)
	}
	kept, err := os.ReadFile(strings.TrimPrefix(again.Kept[0].Where, "a copy at "))
	if err != nil || string(kept) != "the user's run" {
		t.Errorf("kept copy %q %v", kept, err)
	}
	if b, _ := os.ReadFile(filepath.Join(base, NotebookFile)); !strings.Contains(string(b), "FORCE = True") {
		t.Error("top notebook not updated")
	}

	// Closing: the folder goes to Trash/ beside MyDrive/, a second one of the same name beside it.
	ctx := context.Background()
	p, err := Open(ctx, Credentials{}, Options{LocalRoot: root})
	if err != nil {
		t.Fatal(err)
	}
	cr, err := p.ClosePreview(ctx, PRTarget(5))
	if err != nil || !cr.Trashed || cr.Where != filepath.Join(root, "Trash", "pr-5") {
		t.Fatalf("close %+v %v", cr, err)
	}
	if _, err := os.Stat(filepath.Join(base, "ci", "pr-5")); !os.IsNotExist(err) {
		t.Error("ci/pr-5 still in the tree")
	}
	if _, err := os.Stat(filepath.Join(cr.Where, NotebookFile)); err != nil {
		t.Errorf("the trashed folder lost its notebook: %v", err)
	}
	publishLocal(t, root, fx.sources(), PRTarget(5)) // reopened
	if cr, err = p.ClosePreview(ctx, PRTarget(5)); err != nil || cr.Where != filepath.Join(root, "Trash", "pr-5 (2)") {
		t.Errorf("second close %+v %v", cr, err)
	}
	for rel, content := range users {
		if b, _ := os.ReadFile(filepath.Join(base, rel)); string(b) != content {
			t.Errorf("after everything, the user's %s = %q", rel, b)
		}
	}

	// A folder of that name the user made stays where it is.
	write(t, filepath.Join(base, "ci", "pr-8", "mine.txt"), "mine")
	if cr, err := p.ClosePreview(ctx, PRTarget(8)); err != nil || cr.Trashed || !cr.NotOurs {
		t.Errorf("close of the user's pr-8: %+v %v", cr, err)
	}
}

func TestLocalManifestMustBeOurs(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, localManifest), "not json")
	if _, err := Open(context.Background(), Credentials{}, Options{LocalRoot: root}); err == nil || !strings.Contains(err.Error(), "move it away") {
		t.Errorf("err = %v", err)
	}
}
