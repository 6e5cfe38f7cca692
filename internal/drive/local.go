package drive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/prodcat/colab-notebook-action/internal/notebook"
)

// DefaultLocalRoot stands in for Google Drive when there are no credentials.
const DefaultLocalRoot = "_drive"

// LocalProjectRoot is where a local publish puts the project folder under root, the
// same place it sits on Drive (MyDrive/product_categorization_project).
func LocalProjectRoot(root string) string {
	return filepath.Join(root, "MyDrive", ProjectFolder)
}

// Beside MyDrive/ in the local root, like the parts of Drive that are not folders:
const (
	localTrash     = "Trash"                       // what ClosePreview moved away, restorable
	localRevisions = ".revisions"                  // replaced content kept before an update
	localManifest  = ".colab-notebook-action.json" // what the action created: local files carry no app properties
)

// manifest is the local stand-in for the app properties: which files and folders
// the action created, and the MD5 of what it last wrote to each file.
type manifest struct {
	Files   map[string]string `json:"files"`
	Folders map[string]bool   `json:"folders"`
}

// localStore is the project folder on disk, laid out exactly as on Drive.
type localStore struct {
	root string // the stand-in for Google Drive: MyDrive/, Trash/, .revisions/
	base string // root/MyDrive/product_categorization_project, absolute
	now  func() time.Time
}

func openLocal(root string) (*localStore, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	s := &localStore{root: abs, base: LocalProjectRoot(abs), now: time.Now}
	if _, err := s.load(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(s.base, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", s.base, err)
	}
	return s, nil
}

// load reads the manifest afresh for every operation, so two runs publishing to
// one local root (two pull requests) never write back each other's stale copy.
func (s *localStore) load() (manifest, error) {
	m := manifest{Files: map[string]string{}, Folders: map[string]bool{}}
	p := filepath.Join(s.root, localManifest)
	b, err := os.ReadFile(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return m, nil
	case err != nil:
		return m, fmt.Errorf("read the local publish manifest: %w", err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%s is not the manifest this action writes (%w): move it away to start over; files it listed are then treated as someone's own", p, err)
	}
	if m.Files == nil {
		m.Files = map[string]string{}
	}
	if m.Folders == nil {
		m.Folders = map[string]bool{}
	}
	return m, nil
}

// update applies change to the current manifest and writes it at once, so an
// interrupted publish never leaves a file of the action's that the next run would
// take for someone's own.
func (s *localStore) update(change func(*manifest)) error {
	m, err := s.load()
	if err != nil {
		return err
	}
	change(&m)
	b, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return err
	}
	if err := notebook.WriteFileAtomic(filepath.Join(s.root, localManifest), append(b, '\n')); err != nil {
		return fmt.Errorf("write the local publish manifest: %w", err)
	}
	return nil
}

func (s *localStore) abs(rel string) string { return filepath.Join(s.base, filepath.FromSlash(rel)) }

func (s *localStore) folder(_ context.Context, rel string, create bool) (*entry, error) {
	m, err := s.load()
	if err != nil {
		return nil, err
	}
	e := &entry{ID: s.abs(rel), Rel: rel, Name: path.Base(rel), Folder: true, Ours: rel != "" && m.Folders[rel]}
	fi, err := os.Stat(e.ID)
	switch {
	case err == nil && fi.IsDir():
		return e, nil
	case err == nil:
		return nil, fmt.Errorf("%s is a file where the folder %s/ goes: move it away", e.ID, rel)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	case !create:
		return nil, nil
	}
	if _, err := s.folder(context.Background(), parentDir(rel), true); err != nil {
		return nil, err
	}
	if err := os.Mkdir(e.ID, 0o755); err != nil {
		return nil, fmt.Errorf("create folder %s: %w", rel, err)
	}
	e.Ours = true
	return e, s.update(func(m *manifest) { m.Folders[rel] = true })
}

func (s *localStore) file(_ context.Context, rel string) (*entry, error) {
	p := s.abs(rel)
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("%s is a folder where the file %s goes: move it away", p, rel)
	}
	sum, err := Item{Local: p}.md5()
	if err != nil {
		return nil, err
	}
	m, err := s.load()
	if err != nil {
		return nil, err
	}
	written, ours := m.Files[rel]
	return &entry{ID: p, Rel: rel, Name: path.Base(rel), Ours: ours, MD5: sum, Written: written,
		Modified: fi.ModTime().UTC().Format(time.RFC3339)}, nil
}

func (s *localStore) put(_ context.Context, it Item, sum string, old *entry) (*entry, error) {
	p := s.abs(it.Rel)
	if old == nil || old.MD5 != sum {
		r, err := it.open()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", it.Local, err)
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", it.Local, err)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		if err := notebook.WriteFileAtomic(p, b); err != nil {
			return nil, fmt.Errorf("publish %s: %w", it.Rel, err)
		}
	}
	if err := s.update(func(m *manifest) { m.Files[it.Rel] = sum }); err != nil {
		return nil, err
	}
	return &entry{ID: p, Rel: it.Rel, Name: path.Base(it.Rel), Ours: true, MD5: sum, Written: sum}, nil
}

func (s *localStore) read(_ context.Context, e *entry) ([]byte, error) { return os.ReadFile(e.ID) }

// keepRevision copies the file to .revisions/<its folder>/<name>.<UTC time><ext>.
func (s *localStore) keepRevision(_ context.Context, e *entry) (string, error) {
	b, err := os.ReadFile(e.ID)
	if err != nil {
		return "", err
	}
	ext := path.Ext(e.Rel)
	stem := strings.TrimSuffix(e.Rel, ext)
	stamp := s.now().UTC().Format("20060102T150405Z")
	dst := filepath.Join(s.root, localRevisions, filepath.FromSlash(stem+"."+stamp+ext))
	for n := 2; exists(dst); n++ {
		dst = filepath.Join(s.root, localRevisions, filepath.FromSlash(fmt.Sprintf("%s.%s-%d%s", stem, stamp, n, ext)))
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", err
	}
	if err := notebook.WriteFileAtomic(dst, b); err != nil {
		return "", err
	}
	return "a copy at " + dst, nil
}

// trash moves the folder or file to Trash/ beside MyDrive/, as Drive's trash keeps
// a trashed item's name: a second one of that name gets " (2)".
func (s *localStore) trash(_ context.Context, e *entry) (string, error) {
	dst := filepath.Join(s.root, localTrash, e.Name)
	for n := 2; exists(dst); n++ {
		dst = filepath.Join(s.root, localTrash, fmt.Sprintf("%s (%d)", e.Name, n))
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", err
	}
	if err := os.Rename(e.ID, dst); err != nil {
		return "", fmt.Errorf("move %s to the trash: %w", e.Rel, err)
	}
	return dst, s.update(func(m *manifest) {
		for rel := range m.Files {
			if rel == e.Rel || strings.HasPrefix(rel, e.Rel+"/") {
				delete(m.Files, rel)
			}
		}
		for rel := range m.Folders {
			if rel == e.Rel || strings.HasPrefix(rel, e.Rel+"/") {
				delete(m.Folders, rel)
			}
		}
	})
}

func (s *localStore) children(_ context.Context, dir *entry) ([]*entry, error) {
	des, err := os.ReadDir(dir.ID)
	if err != nil {
		return nil, err
	}
	m, err := s.load()
	if err != nil {
		return nil, err
	}
	var out []*entry
	for _, d := range des {
		rel := path.Join(dir.Rel, d.Name())
		if d.IsDir() {
			out = append(out, &entry{ID: s.abs(rel), Rel: rel, Name: d.Name(), Folder: true, Ours: m.Folders[rel]})
			continue
		}
		_, ours := m.Files[rel]
		out = append(out, &entry{ID: s.abs(rel), Rel: rel, Name: d.Name(), Ours: ours})
	}
	return out, nil
}

func (s *localStore) grant(context.Context, *entry, Grant) (string, error) {
	return "", errors.New("the local folder cannot be shared")
}

// mountPath is the folder on disk: a notebook opened from the local stand-in runs
// in Jupyter on this machine, where that is its Drive.
func (s *localStore) mountPath(_ context.Context, rel string) (string, error) { return s.abs(rel), nil }
func (s *localStore) mountWarning() string                                    { return "" }
func (s *localStore) link(e *entry) string                                    { return e.ID }
func (s *localStore) folderLink(e *entry) string                              { return e.ID }

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}
