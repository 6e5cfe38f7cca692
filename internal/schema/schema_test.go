package schema

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The same files are judged by nbformat itself in tests/test_schema_judges.py,
// so this table and Jupyter must agree on every verdict.
var brokenCases = map[string]struct {
	cell int // -1: notebook level
	want string
}{
	"missing_id":                   {2, "missing id"},
	"duplicate_id":                 {2, `duplicate id "setup-0" (cell 1 has it too)`},
	"markdown_outputs":             {0, "markdown cells cannot have outputs"},
	"markdown_execution_count":     {0, "markdown cells cannot have an execution_count"},
	"nbformat_minor_4":             {-1, "nbformat_minor must be >= 5"},
	"nbformat_5":                   {-1, "nbformat must be <= 4"},
	"code_missing_execution_count": {2, "code cell is missing execution_count"},
	"code_missing_outputs":         {2, "code cell is missing outputs"},
	"unknown_top_level_key":        {-1, `unknown top-level key "worksheets"`},
	"missing_cells":                {-1, `missing top-level key "cells"`},
	"bad_id_chars":                 {1, `id "setup 0!" may only use letters, digits`},
	"empty_id":                     {3, "id must not be empty"},
	"id_too_long":                  {2, "is longer than 64 characters"},
	"source_not_text":              {2, "source must be a string or a list of strings, not integer"},
	"execution_count_string":       {2, "execution_count must be an integer or null, not string"},
	"kernelspec_missing_name":      {-1, "metadata.kernelspec: missing name"},
	"bad_output_type":              {1, `outputs.0.output_type "printout" is not one of execute_result`},
	"missing_cell_type":            {2, "missing cell_type"},
}

// checkFile checks the notebook file f, failing the test when it cannot be read or checked.
func checkFile(t *testing.T, f string) []Issue {
	t.Helper()
	data, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	issues, err := Check(data)
	if err != nil {
		t.Fatal(err)
	}
	return issues
}

func TestBrokenNotebooks(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "broken", "*.ipynb"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/broken notebooks (%v)", err)
	}
	seen := map[string]bool{}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".ipynb")
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			tc, ok := brokenCases[name]
			if !ok {
				t.Fatalf("%s has no expected verdict in brokenCases", f)
			}
			issues := checkFile(t, f)
			if len(issues) != 1 {
				t.Fatalf("want exactly 1 issue, got %d: %v", len(issues), issues)
			}
			got := issues[0]
			if got.Cell != tc.cell || !strings.Contains(got.Message, tc.want) {
				t.Errorf("got %q (cell %d), want cell %d containing %q", got.Message, got.Cell, tc.cell, tc.want)
			}
			if strings.Contains(got.Message, "oneOf") || strings.Contains(got.Message, "Must validate") {
				t.Errorf("raw validator wording leaked: %q", got.Message)
			}
		})
	}
	for name := range brokenCases {
		if !seen[name] {
			t.Errorf("brokenCases has %q but testdata/broken/%s.ipynb does not exist", name, name)
		}
	}
}

func TestValidNotebooks(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "valid", "*.ipynb"))
	golden := filepath.Join("..", "..", "testdata", "build", "golden.ipynb")
	files = append(files, golden)
	for _, f := range files {
		issues := checkFile(t, f)
		if len(issues) > 0 {
			t.Errorf("%s: want valid, got %v", f, issues)
		}
	}
}

func TestNotJSON(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"cells": [`, "not valid JSON"},
		{`[1, 2]`, "must be a JSON object"},
	} {
		issues, err := Check([]byte(tc.in))
		if err != nil {
			t.Fatal(err)
		}
		if len(issues) != 1 || !strings.Contains(issues[0].Message, tc.want) {
			t.Errorf("Check(%q) = %v, want %q", tc.in, issues, tc.want)
		}
	}
}

func TestIssueFormat(t *testing.T) {
	i := Issue{Cell: 7, Message: "markdown cells cannot have outputs"}
	if got, want := i.Format("cells/08_step02_eda.py:12"), "cell 7 (cells/08_step02_eda.py:12): markdown cells cannot have outputs"; got != want {
		t.Errorf("Format = %q, want %q", got, want)
	}
	if got, want := (Issue{Cell: -1, Message: "nbformat_minor must be >= 5"}).String(), "nbformat_minor must be >= 5"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
}
