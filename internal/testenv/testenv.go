// Package testenv is what the Go tests need from the machine: the repository's .venv Python,
// which `make setup` installs and the validate, execute and action tests start.
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Python returns the repository's .venv/bin/python once it imports modules. A missing or
// incomplete venv is a broken setup, so the test fails; NO_PYTHON=1 says it is expected and
// skips the test instead.
func Python(t testing.TB, modules ...string) string {
	t.Helper()
	if os.Getenv("NO_PYTHON") == "1" {
		t.Skip("NO_PYTHON=1: skipping tests that need Python")
	}
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(root, ".venv", "bin", "python")
	if out, err := exec.Command(p, "-c", "import "+strings.Join(modules, ", ")).CombinedOutput(); err != nil {
		t.Fatalf("%s cannot import %s (%v: %s): run `make setup` or set NO_PYTHON=1", p, strings.Join(modules, " and "), err, out)
	}
	return p
}

// repoRoot is the nearest folder above the test's working directory (its package) holding go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}
