package drive

import (
	"path"
	"path/filepath"
	"strings"
	"testing"
)

func TestBuildPlan(t *testing.T) {
	fx := newFixture(t)
	write(t, filepath.Join(fx.project, "data", "raw", "dump.csv"), strings.Repeat("x", 2048))
	write(t, filepath.Join(fx.project, "results", "big.csv"), strings.Repeat("x", 2048))
	write(t, filepath.Join(fx.project, "src", "__pycache__", "config.cpython-311.pyc"), "bytecode")
	write(t, filepath.Join(fx.project, "NOTES.md"), "# notes of the CI run")
	tests := []struct {
		name    string
		target  Target
		max     int64
		present []string
		absent  []string
		skipped map[string]string // rel -> words in the reason
	}{
		{"default branch", mainTarget, 0,
			[]string{NotebookFile, "src/config.py", "src/api/app.py", "ci/main/run/results/plots/confusion.png", "ci/main/run/NOTES.md", "ci/main/run/ci_run.json"},
			[]string{"ci/main/run/models/checkpoint-500/optimizer.pt", "ci/main/run/models/.label_map.json.tmp123", "ci/main/run/src/config.py", "results/plots/confusion.png", "NOTES.md"},
			map[string]string{"ci/main/run/models/checkpoint-500/": "checkpoint", "ci/main/run/models/.label_map.json.tmp123": "temporary",
				"ci/main/run/src/": "beside the notebook", "ci/main/run/data/raw/": "input data"}},
		{"pull request", PRTarget(7), 0,
			[]string{"ci/pr-7/" + NotebookFile, "ci/pr-7/src/config.py", "ci/pr-7/run/results/quickstart_metrics.json", "ci/pr-7/run/ci_run.json"},
			[]string{NotebookFile, "src/config.py", "ci/main/run/NOTES.md"}, nil},
		{"other branch", BranchTarget("feature/tune", "main"), 0,
			[]string{"ci/" + RefSlug("feature/tune") + "/" + NotebookFile}, []string{NotebookFile}, nil},
		{"1 KiB cap", mainTarget, 1024,
			[]string{NotebookFile, "src/config.py"},
			[]string{"ci/main/run/results/big.csv"},
			map[string]string{"ci/main/run/results/big.csv": "2.0 KiB is over the 1.0 KiB size cap"}},
		{"cap smaller than the notebook", mainTarget, 4,
			[]string{NotebookFile},
			[]string{"src/config.py"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := fx.sources()
			src.MaxFileBytes = tc.max
			src.Record = []byte(`{"ref": "x"}`)
			plan, err := BuildPlan(src, tc.target)
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
					t.Errorf("%s should not be in the plan", p)
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
			if it := plan.Items[0]; it.Kind != KindNotebook || it.MimeType != ColabMIME {
				t.Errorf("first item %+v, want the notebook", it)
			}
			if last := plan.Items[len(plan.Items)-1]; tc.max == 0 && last.Kind != KindRecord {
				t.Errorf("last item %s, want the run record", last.Rel)
			}
			cfg := path.Join(tc.target.NotebookRoot(), "src/config.py")
			if got[cfg].Local != "" && got[cfg].Local != filepath.Join(fx.src, "config.py") {
				t.Errorf("%s from %s, want the built src", cfg, got[cfg].Local)
			}
			seen := map[string]bool{}
			for _, d := range plan.Dirs {
				if p := path.Dir(d); p != "." && !seen[p] {
					t.Errorf("folder %s listed before its parent %s", d, p)
				}
				seen[d] = true
			}
			if tc.target.Default != seen["data/raw"] {
				t.Errorf("top folders (data/raw) in the plan: %v, want only for the default branch", seen["data/raw"])
			}
		})
	}
}

func TestBuildPlanErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name   string
		src    Sources
		target Target
		want   string
	}{
		{"no notebook", Sources{Notebook: filepath.Join(dir, "missing.ipynb")}, mainTarget, "go run . build"},
		{"no project root", Sources{ProjectRoot: filepath.Join(dir, "nope")}, mainTarget, "project root"},
		{"src is a file", Sources{SrcDir: writeFile(t, dir, "f.txt")}, mainTarget, "not a folder"},
		{"a ref that escapes ci/", Sources{}, Target{Ref: ".."}, "cannot name a folder"},
		{"a branch posing as a pull request", Sources{}, Target{Ref: "pr-3"}, "reserved"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := BuildPlan(tc.src, tc.target); err == nil || !strings.Contains(err.Error(), tc.want) {
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
