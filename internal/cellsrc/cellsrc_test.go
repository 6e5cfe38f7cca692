package cellsrc

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseFile(t *testing.T) {
	src := `

# %% [markdown]
# ## Step 3 — Cleaning
#
# Text with #hash.

# %% tags=["parameters", "quickstart"] collapsed=true
RUN_MODE = "smoke"

x = 1


# %% src="api/app.py"

# %%
%%bash
echo hi
`
	f, probs := ParseFile("cells/05_x.py", []byte(src))
	if len(probs) > 0 {
		t.Fatalf("unexpected problems: %v", probs)
	}
	want := []Cell{
		{Kind: Markdown, Source: "## Step 3 — Cleaning\n\nText with #hash.", Line: 3, BodyLine: 4, Index: 0},
		{Kind: Code, Source: "RUN_MODE = \"smoke\"\n\nx = 1", Tags: []string{"parameters", "quickstart"},
			Metadata: map[string]any{"collapsed": true}, Line: 8, BodyLine: 9, Index: 1},
		{Kind: Code, Src: "api/app.py", Line: 14, BodyLine: 14, Index: 2},
		{Kind: Code, Source: "%%bash\necho hi", Line: 16, BodyLine: 17, Index: 3},
	}
	if len(f.Cells) != len(want) {
		t.Fatalf("got %d cells, want %d: %+v", len(f.Cells), len(want), f.Cells)
	}
	for i, w := range want {
		w.File = "cells/05_x.py"
		if !reflect.DeepEqual(f.Cells[i], w) {
			t.Errorf("cell %d:\n got %+v\nwant %+v", i, f.Cells[i], w)
		}
	}
}

func TestParseFileProblems(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		line      int
		want      string
	}{
		{"text before marker", "import os\n# %%\nx=1\n", 1, "text before the first \"# %%\""},
		{"bad markdown line", "# %% [markdown]\n# ok\nnot a comment\n", 3, "markdown cell line must start with \"# \""},
		{"blank line inside markdown", "# %% [markdown]\n# a\n\n# b\n", 3, "markdown cell line must start"},
		{"unknown cell type", "# %% [raw]\nx\n", 1, "unknown cell type [raw]"},
		{"bad json", "# %% tags=[\"a\"\nx\n", 1, "not valid JSON"},
		{"tags not list", "# %% tags=\"a\"\nx\n", 1, "tags must be a JSON list"},
		{"garbage metadata", "# %% hello\nx\n", 1, "expected key=JSON"},
		{"src with body", "# %% src=\"a.py\"\nx = 1\n", 2, "must have an empty body"},
		{"src escapes", "# %% src=\"../a.py\"\n", 1, "clean path inside cells/src"},
		{"src not py", "# %% src=\"a.txt\"\n", 1, "must name a .py module"},
		{"src on markdown", "# %% [markdown] src=\"a.py\"\n", 1, "only allowed on code cells"},
		{"marker without space", "# %%tags=[]\nx\n", 1, "followed by a space"},
		{"empty markdown", "# %% [markdown]\n\n# %%\nx\n", 1, "empty markdown cell"},
		{"no cells", "\n\n", 0, "no cells"},
		{"crlf", "# %%\r\nx\r\n", 0, "carriage return"},
		{"duplicate key", "# %% tags=[\"a\"] tags=[\"b\"]\nx\n", 1, "given twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, probs := ParseFile("cells/01_a.py", []byte(tc.src))
			if len(probs) == 0 {
				t.Fatalf("no problem reported, want %q", tc.want)
			}
			p := probs[0]
			if p.File != "cells/01_a.py" || p.Line != tc.line || !strings.Contains(p.Message, tc.want) {
				t.Errorf("got %s, want line %d containing %q", p, tc.line, tc.want)
			}
		})
	}
}

func TestParseDir(t *testing.T) {
	write := func(dir, name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("order and names", func(t *testing.T) {
		dir := t.TempDir()
		write(dir, "10_b.py", "# %%\nb = 1\n")
		write(dir, "02_a.py", "# %%\na = 1\n")
		write(dir, "README.md", "not a cell file")
		files, probs := ParseDir(dir)
		if len(probs) > 0 {
			t.Fatal(probs)
		}
		if len(files) != 2 || files[0].Name != "a" || files[1].Name != "b" || files[1].Order != 10 {
			t.Errorf("got %+v", files)
		}
	})
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"empty dir", nil, "no cell files"},
		{"unknown order", map[string]string{"01_a.py": "# %%\n", "extra.py": "# %%\n"}, "extra.py: unknown section order"},
		{"duplicate order", map[string]string{"01_a.py": "# %%\n", "01_b.py": "# %%\n"}, "section order 01 is already used"},
		{"duplicate name", map[string]string{"01_a.py": "# %%\n", "02_a.py": "# %%\n"}, "name \"a\" is already used"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for n, b := range tc.files {
				write(dir, n, b)
			}
			_, probs := ParseDir(dir)
			if len(probs) != 1 || !strings.Contains(probs[0].String(), tc.want) {
				t.Errorf("got %v, want one problem containing %q", probs, tc.want)
			}
		})
	}
	t.Run("missing dir", func(t *testing.T) {
		_, probs := ParseDir(filepath.Join(t.TempDir(), "nope"))
		if len(probs) != 1 || !strings.Contains(probs[0].Message, "not found") {
			t.Errorf("got %v", probs)
		}
	})
}

func TestListModules(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"b.py", "api/app.py", "api/__pycache__/app.cpython-311.py", "notes.txt"} {
		full := filepath.Join(dir, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		os.WriteFile(full, []byte("x = 1\n"), 0o644)
	}
	got, err := ListModules(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"api/app.py", "b.py"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	got, err = ListModules(filepath.Join(dir, "missing"))
	if err != nil || len(got) != 0 {
		t.Errorf("missing dir: got %v, %v; want no modules", got, err)
	}
}

func TestProblemString(t *testing.T) {
	for _, tc := range []struct {
		p    Problem
		want string
	}{
		{Problem{"cells/01_a.py", 3, "bad"}, "cells/01_a.py:3: bad"},
		{Problem{"cells", 0, "empty"}, "cells: empty"},
		{Problem{"", 0, "x"}, "x"},
	} {
		if got := tc.p.String(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}
