package action

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readEvent and ReadArtifact reword their causes on one line, and keep them.
func TestReadErrorsKeepTheirCause(t *testing.T) {
	dir := t.TempDir()
	_, err := readEvent(filepath.Join(dir, "missing.json"))
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "cannot read the event payload") {
		t.Errorf("missing payload: %v (errors.Is ErrNotExist: %t)", err, errors.Is(err, fs.ErrNotExist))
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("{\n  not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = readEvent(bad)
	var syn *json.SyntaxError
	if !errors.As(err, &syn) || strings.Contains(err.Error(), "\n") {
		t.Errorf("malformed payload: %q (errors.As *json.SyntaxError: %t)", err, errors.As(err, &syn))
	}
	if err := os.WriteFile(filepath.Join(dir, ArtifactFile), []byte("{\n  not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = ReadArtifact(dir)
	if !errors.As(err, &syn) || strings.Contains(err.Error(), "\n") {
		t.Errorf("malformed report: %q (errors.As *json.SyntaxError: %t)", err, errors.As(err, &syn))
	}
}
