package notebook

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/prodcat/colab-notebook-action/internal/cellsrc"
)

var update = flag.Bool("update", false, "rewrite testdata/build/golden.ipynb")

const fixture = "../../testdata/build/cells"

// mustAssemble assembles dir's cell files, failing the test on any problem.
func mustAssemble(t *testing.T, dir string) *Notebook {
	t.Helper()
	nb, probs := Assemble(dir)
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	return nb
}

func TestBuildGolden(t *testing.T) {
	out := t.TempDir()
	res, err := Build(fixture, out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(res.NotebookPath)
	if err != nil {
		t.Fatal(err)
	}
	golden := "../../testdata/build/golden.ipynb"
	if *update {
		os.WriteFile(golden, got, 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("built notebook differs from %s (run go test ./internal/notebook -update after checking the diff)", golden)
	}
	// Same input, same bytes.
	res2, err := Build(fixture, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	again, _ := os.ReadFile(res2.NotebookPath)
	if !bytes.Equal(got, again) {
		t.Error("two builds of the same cells differ")
	}
	// OUT/src holds byte copies of cells/src.
	if want := []string{"api/app.py", "helper.py"}; !reflect.DeepEqual(res.Modules, want) {
		t.Errorf("modules = %v, want %v", res.Modules, want)
	}
	for _, m := range res.Modules {
		a, _ := os.ReadFile(filepath.Join(fixture, "src", m))
		b, err := os.ReadFile(filepath.Join(out, "src", m))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("OUT/src/%s is not a byte copy (%v)", m, err)
		}
	}
}

func TestBuildShape(t *testing.T) {
	nb := mustAssemble(t, fixture)
	data, err := nb.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cells []map[string]any `json:"cells"`
		Meta  map[string]any   `json:"metadata"`
		Major int              `json:"nbformat"`
		Minor int              `json:"nbformat_minor"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Major != 4 || doc.Minor != 5 {
		t.Errorf("nbformat %d.%d, want 4.5", doc.Major, doc.Minor)
	}
	colab := doc.Meta["colab"].(map[string]any)
	if colab["gpuType"] != "T4" || colab["name"] != FileName || colab["toc_visible"] != true || doc.Meta["accelerator"] != "GPU" {
		t.Errorf("colab metadata = %v", doc.Meta)
	}
	ids := map[string]bool{}
	for i, c := range doc.Cells {
		id := c["id"].(string)
		if ids[id] || len(id) == 0 || len(id) > 64 {
			t.Errorf("cell %d: bad or duplicate id %q", i, id)
		}
		ids[id] = true
		_, hasOut := c["outputs"]
		ec, hasEC := c["execution_count"]
		switch c["cell_type"] {
		case "code":
			if !hasOut || !hasEC || ec != nil {
				t.Errorf("cell %d: code cell needs outputs [] and execution_count null: %v", i, c)
			}
		case "markdown":
			if hasOut || hasEC {
				t.Errorf("cell %d: markdown cell with outputs/execution_count", i)
			}
		}
	}
	// The src= cell is a %%writefile of the module's exact bytes.
	app, _ := os.ReadFile(filepath.Join(fixture, "src", "api", "app.py"))
	var found bool
	for _, c := range nb.Cells {
		if c.Origin.Module != "" && strings.HasSuffix(c.Origin.Module, "app.py") {
			found = true
			if want := "%%writefile \"{SRC_DIR}/api/app.py\"\n" + string(app); c.Source != want {
				t.Errorf("src cell source = %q, want %q", c.Source, want)
			}
			if f, l := c.Origin.Pos(2); !strings.HasSuffix(f, "src/api/app.py") || l != 1 {
				t.Errorf("Pos(2) = %s:%d, want the module's line 1", f, l)
			}
		}
	}
	if !found {
		t.Error("no src cell for api/app.py")
	}
}

// Ids must not move when an unrelated file changes, or every PR would
// rewrite the whole notebook diff.
func TestIDsStable(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "01_a.py"), []byte("# %%\na = 1\n\n# %%\nb = 2\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "03_c.py"), []byte("# %% [markdown]\n# c\n\n# %%\nc = 3\n"), 0o644)
	before := mustAssemble(t, dir)
	os.WriteFile(filepath.Join(dir, "01_a.py"), []byte("# %%\na = 1\n\n# %%\nnew = 0\n\n# %%\nb = 2\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "02_b.py"), []byte("# %%\nb = 1\n"), 0o644)
	after := mustAssemble(t, dir)
	idOf := func(nb *Notebook, file string) []string {
		var ids []string
		for _, c := range nb.Cells {
			if filepath.Base(c.Origin.File) == file {
				ids = append(ids, c.ID)
			}
		}
		return ids
	}
	if a, b := idOf(before, "03_c.py"), idOf(after, "03_c.py"); !reflect.DeepEqual(a, b) || len(a) != 2 {
		t.Errorf("ids of the untouched file changed: %v -> %v", a, b)
	}
	if got := idOf(after, "01_a.py"); !reflect.DeepEqual(got, []string{"a-0", "a-1", "a-2"}) {
		t.Errorf("ids = %v", got)
	}
	if got := CellID(strings.Repeat("n", 80), 12); len(got) != 64 || !strings.HasSuffix(got, "-12") {
		t.Errorf("long id = %q (%d chars)", got, len(got))
	}
}

func TestSections(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "01_a.py"), []byte("# %%\nx = 1\n\n# %% [markdown]\n# ### Detail\n\n# %%\ny = 1\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "02_b.py"), []byte("# %% [markdown]\n# ## Step 3 — Cleaning\n#\n# ### Toggles\n\n# %%\nz = 1\n\n# %% [markdown]\n# ```\n# ## not a heading\n# ```\n\n# %%\nw = 1\n"), 0o644)
	nb := mustAssemble(t, dir)
	var got []string
	for _, c := range nb.Cells {
		if c.Kind == cellsrc.Code {
			got = append(got, c.Origin.Section)
		}
	}
	if want := []string{"", "Detail", "Step 3 — Cleaning", "Step 3 — Cleaning"}; !reflect.DeepEqual(got, want) {
		t.Errorf("sections = %q, want %q", got, want)
	}
}

func TestBuildProblems(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "01_a.py"), []byte("# %% src=\"missing.py\"\n"), 0o644)
	_, err := Build(dir, t.TempDir())
	var probs cellsrc.Problems
	if !errors.As(err, &probs) || len(probs) != 1 || probs[0].Line != 1 || !strings.Contains(probs[0].Message, "does not exist") {
		t.Fatalf("got %v", err)
	}
}

func TestBuildRefusesToWipeSources(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ cells, out string }{
		{filepath.Join(dir, "a", "cells"), filepath.Join(dir, "a", "cells")},
		// OUT/src would be an ancestor of cells/src.
		{filepath.Join(dir, "src", "cells"), dir},
	} {
		os.MkdirAll(filepath.Join(tc.cells, "src"), 0o755)
		os.WriteFile(filepath.Join(tc.cells, "01_a.py"), []byte("# %%\nx = 1\n"), 0o644)
		mod := filepath.Join(tc.cells, "src", "keep.py")
		os.WriteFile(mod, []byte("KEEP = 1\n"), 0o644)
		if _, err := Build(tc.cells, tc.out); err == nil || !strings.Contains(err.Error(), "overlaps") {
			t.Errorf("Build(%s, out=%s) = %v, want an overlap error", tc.cells, tc.out, err)
		}
		if _, err := os.Stat(mod); err != nil {
			t.Fatalf("source module lost: %v", err)
		}
	}
}

func TestJupyterJSON(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want string
	}{
		{map[string]any{"b": 1, "a": []any{}, "c": map[string]any{}}, "{\n \"a\": [],\n \"b\": 1,\n \"c\": {}\n}\n"},
		{"<a & b>", "\"<a & b>\"\n"},
		{"café — ü\u2028", "\"café — ü\u2028\"\n"},
		{"q\"\\\n\t\b\f\x01\x7f", "\"q\\\"\\\\\\n\\t\\b\\f\\u0001\x7f\"\n"},
		{[]any{nil, true, 2.0, 0.5}, "[\n null,\n true,\n 2.0,\n 0.5\n]\n"},
	} {
		got, err := marshalJupyter(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tc.want {
			t.Errorf("marshal(%#v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSplitLines(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []any
	}{
		{"", []any{}},
		{"a", []any{"a"}},
		{"a\nb", []any{"a\n", "b"}},
		{"a\n", []any{"a\n"}},
		{"a\r\nb\rc\u2028d", []any{"a\r\n", "b\r", "c\u2028", "d"}},
	} {
		if got := splitLines(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("splitLines(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestInjectAndQuickstart(t *testing.T) {
	nb := mustAssemble(t, fixture)
	err := InjectParameters(nb, []Param{{"RUN_MODE", "quickstart"}, {"DATA_PATH", "/d/\"x\".csv"}, {"SAMPLE_SIZE", 200}, {"FORCE", true}})
	if err != nil {
		t.Fatal(err)
	}
	var pi int
	for i, c := range nb.Cells {
		if c.HasTag(TagParameters) {
			pi = i
		}
	}
	inj := nb.Cells[pi+1]
	want := "# Parameters\nRUN_MODE = \"quickstart\"\nDATA_PATH = \"/d/\\\"x\\\".csv\"\nSAMPLE_SIZE = 200\nFORCE = True"
	if inj.ID != TagInjected || !inj.HasTag(TagInjected) || inj.Source != want {
		t.Errorf("injected cell = %+v", inj)
	}
	if err := InjectParameters(nb, []Param{{"bad name", 1}}); err == nil {
		t.Error("a parameter name that is not an identifier was accepted")
	}
	qs := Quickstart(nb)
	var ids []string
	for _, c := range qs.Cells {
		ids = append(ids, c.ID)
	}
	if w := []string{"parameters-0", TagInjected, "parameters-1", "modules-2"}; !reflect.DeepEqual(ids, w) {
		t.Errorf("quickstart cells = %v, want %v", ids, w)
	}
}
