package notebook

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSetParameters(t *testing.T) {
	out := t.TempDir()
	res, err := Build(filepath.Join("..", "..", "testdata", "build", "cells"), out)
	if err != nil {
		t.Fatal(err)
	}
	built, err := os.ReadFile(res.NotebookPath)
	if err != nil {
		t.Fatal(err)
	}
	same, missing, err := SetParameters(built, nil)
	if err != nil || !bytes.Equal(same, built) || len(missing) != 0 {
		t.Fatalf("rewriting nothing changed the bytes (%v, missing %v)", err, missing)
	}
	nb, _ := Assemble(filepath.Join("..", "..", "testdata", "build", "cells"))
	var params Cell
	for _, c := range nb.Cells {
		if c.HasTag(TagParameters) {
			params = c
		}
	}
	var name string
	for _, line := range strings.Split(params.Source, "\n") {
		if n, _, ok := strings.Cut(line, " = "); ok && ValidParamName(n) {
			name = n
			break
		}
	}
	if name == "" {
		t.Fatalf("the fixture's parameters cell assigns nothing:\n%s", params.Source)
	}
	got, missing, err := SetParameters(built, []Param{{Name: name, Value: `/content/drive/My "quoted" Drive`}, {Name: "NOT_THERE", Value: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) != 1 || missing[0] != "NOT_THERE" {
		t.Errorf("missing = %v", missing)
	}
	want := name + ` = "/content/drive/My \"quoted\" Drive"`
	if !strings.Contains(string(got), strings.ReplaceAll(strings.ReplaceAll(want, `\`, `\\`), `"`, `\"`)) {
		t.Errorf("rewritten notebook lacks %s:\n%s", want, got)
	}
	if bytes.Count(got, []byte("\n")) != bytes.Count(built, []byte("\n")) {
		t.Error("rewriting a value changed the notebook's layout")
	}
	if _, _, err := SetParameters([]byte(`{"cells": []}`), nil); err == nil {
		t.Error("a notebook without a parameters cell was accepted")
	}
}

func TestSetParametersKeepsComments(t *testing.T) {
	nb := []byte(`{"cells": [{"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": ["A = 'x'  # why\n", "B = 3\n", "AB = \"\"\n", "C = None # c"]}]}`)
	got, _, err := SetParameters(nb, []Param{{"A", "y"}, {"B", 4.5}, {"C", true}})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`"A = \"y\"  # why\n"`, `"B = 4.5\n"`, `"AB = \"\"\n"`, `"C = True # c"`} {
		if !strings.Contains(string(got), w) {
			t.Errorf("missing %s in\n%s", w, got)
		}
	}
}
