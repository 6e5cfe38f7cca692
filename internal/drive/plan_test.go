package drive

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBuildPlan(t *testing.T) {
	fx := newFixture(t)
	write(t, filepath.Join(fx.project, "data", "raw", "dump.csv"), strings.Repeat("x", 2048))
	write(t, filepath.Join(fx.project, "src", "__pycache__", "config.cpython-311.pyc"), "bytecode")
	tests := []struct {
		name    string
		max     int64
		present []string
		absent  []string
		skipped map[string]string // rel -> words in the reason
	}{
		{"default cap", 0,
			[]string{"product_categorization_colab.ipynb", "src/config.py", "src/api/app.py", "data/raw/dump.csv", "results/plots/confusion.png"},
			[]string{"models/checkpoint-500/optimizer.pt", "models/.label_map.json.tmp123"},
			map[string]string{"models/checkpoint-500/": "checkpoint", "models/.label_map.json.tmp123": "temporary", "src/__pycache__/": "cache"}},
		{"1 KiB cap", 1024,
			[]string{"product_categorization_colab.ipynb", "src/config.py"},
			[]string{"data/raw/dump.csv"},
			map[string]string{"data/raw/dump.csv": "2.0 KiB is over the 1.0 KiB size cap"}},
		{"cap smaller than the notebook", 4,
			[]string{"product_categorization_colab.ipynb"},
			[]string{"src/config.py"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := fx.sources()
			src.MaxFileBytes = tc.max
			plan, err := BuildPlan(src)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]Item{}
			for _, it := range plan.Items {
				got[it.Rel] = it
			}
			for _, p := range tc.present {
				if _, ok := got[p]; !ok {
					t.Errorf("%s missing from plan", p)
				}
			}
			for _, p := range tc.absent {
				if _, ok := got[p]; ok {
					t.Errorf("%s should be skipped", p)
				}
			}
			for rel, why := range tc.skipped {
				found := false
				for _, s := range plan.Skipped {
					found = found || (s.Rel == rel && strings.Contains(s.Reason, why))
				}
				if !found {
					t.Errorf("no skip %s (%s) in %+v", rel, why, plan.Skipped)
				}
			}
			if !plan.Items[0].Notebook || plan.Items[0].MimeType != ColabMIME {
				t.Errorf("first item %+v, want the notebook", plan.Items[0])
			}
			if got["src/config.py"].Local != "" && got["src/config.py"].Local != filepath.Join(fx.src, "config.py") {
				t.Errorf("src/config.py from %s, want the built src", got["src/config.py"].Local)
			}
			seen := map[string]bool{}
			for _, d := range plan.Dirs {
				if p := filepath.Dir(d); p != "." && !seen[p] {
					t.Errorf("folder %s listed before its parent %s", d, p)
				}
				seen[d] = true
			}
		})
	}
}

func TestBuildPlanErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		src  Sources
		want string
	}{
		{"no notebook", Sources{Notebook: filepath.Join(dir, "missing.ipynb")}, "go run . build"},
		{"no project root", Sources{ProjectRoot: filepath.Join(dir, "nope")}, "project root"},
		{"src is a file", Sources{SrcDir: writeFile(t, dir, "f.txt")}, "not a folder"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := BuildPlan(tc.src); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func writeFile(t *testing.T, dir, name string) string {
	p := filepath.Join(dir, name)
	write(t, p, "x")
	return p
}

func TestPublishLocal(t *testing.T) {
	fx := newFixture(t)
	root := filepath.Join(t.TempDir(), "_drive")
	plan, err := BuildPlan(fx.sources())
	if err != nil {
		t.Fatal(err)
	}
	rep, err := PublishLocal(root, plan, nil)
	if err != nil {
		t.Fatal(err)
	}
	base := filepath.Join(root, "MyDrive", "product_categorization_project")
	if rep.Notebook != filepath.Join(base, "product_categorization_colab.ipynb") {
		t.Errorf("notebook at %s", rep.Notebook)
	}
	for _, d := range Tree {
		if fi, err := os.Stat(filepath.Join(base, d)); err != nil || !fi.IsDir() {
			t.Errorf("folder %s missing", d)
		}
	}
	b, _ := os.ReadFile(filepath.Join(base, "src", "config.py"))
	if string(b) != "SEED = 42\n" {
		t.Errorf("src/config.py = %q", b)
	}
	write(t, fx.notebook, "{}")
	rep, err = PublishLocal(root, plan, nil)
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]string{}
	for _, f := range rep.Files {
		actions[f.Rel] = f.Action
	}
	if actions["product_categorization_colab.ipynb"] != "updated" || actions["src/config.py"] != "unchanged" {
		t.Errorf("second local publish: %v", actions)
	}
	entries, _ := os.ReadDir(base)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temp file left at the folder root: %s", e.Name())
		}
	}
}
