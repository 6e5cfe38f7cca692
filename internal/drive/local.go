package drive

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// DefaultLocalRoot stands in for Google Drive when there are no credentials.
const DefaultLocalRoot = "_drive"

// LocalProjectRoot is where a local publish puts PROJECT_ROOT under root, the same
// place it sits on Drive (MyDrive/product_categorization_project).
func LocalProjectRoot(root string) string {
	return filepath.Join(root, "MyDrive", ProjectFolder)
}

// PublishLocal writes plan under LocalProjectRoot(root). Files are replaced
// atomically, and a file whose bytes already match is left alone, like on Drive.
func PublishLocal(root string, plan Plan, logf func(string, ...any)) (*Report, error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	base := LocalProjectRoot(root)
	abs, err := filepath.Abs(base)
	if err != nil {
		return nil, err
	}
	rep := &Report{Target: "local", Root: abs, Skipped: plan.Skipped}
	for _, d := range plan.Dirs {
		if err := os.MkdirAll(filepath.Join(abs, filepath.FromSlash(d)), 0o755); err != nil {
			return rep, fmt.Errorf("create folder %s: %w", d, err)
		}
	}
	for _, it := range plan.Items {
		dst := filepath.Join(abs, filepath.FromSlash(it.Rel))
		action, err := copyIfChanged(it.Local, dst)
		if err != nil {
			return rep, fmt.Errorf("publish %s: %w", it.Rel, err)
		}
		rep.Files = append(rep.Files, FileResult{Rel: it.Rel, ID: dst, Action: action})
		logf("%-9s %s", action, dst)
		if it.Notebook {
			rep.Notebook = dst
		}
	}
	return rep, nil
}

func copyIfChanged(src, dst string) (string, error) {
	in, err := os.ReadFile(src)
	if err != nil {
		return "", err
	}
	action := "created"
	if old, err := os.ReadFile(dst); err == nil {
		if bytes.Equal(old, in) {
			return "unchanged", nil
		}
		action = "updated"
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, bytes.NewReader(in)); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	return action, os.Rename(tmp.Name(), dst)
}
