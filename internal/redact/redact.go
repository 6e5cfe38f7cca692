// Package redact replaces the credentials a run holds with "***" in every text
// that leaves it: log lines, the job summary, step outputs, the PR comment and
// the files it publishes or leaves for artifact upload.
//
// The runner masks registered secrets in its own log, but nothing else: a PR
// comment goes through the API and an executed notebook is a file. Notebook
// code is pull request code, and it can find a credential the action holds
// (for instance in /proc/<parent>/environ), so everything it produced is
// redacted here before it goes anywhere.
package redact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// Mask is what a secret becomes; the runner's own mask looks the same.
const Mask = "***"

// MinLen is the shortest value treated as a secret: replacing every "abc" in a
// notebook would ruin it and protect nothing (such a value is guessable anyway).
const MinLen = 8

// Redactor knows the secrets of one run. The zero value redacts nothing;
// methods are safe for concurrent use.
type Redactor struct {
	mu      sync.RWMutex
	secrets []string // longest first, so a secret containing another is replaced whole
	rep     *strings.Replacer
}

// New returns a redactor for secrets (values shorter than MinLen are ignored).
func New(secrets ...string) *Redactor {
	r := &Redactor{}
	r.Add(secrets...)
	return r
}

// Add registers more secrets, e.g. an access token obtained during the run.
// Each is also registered in the form JSON gives it, for files such as the
// executed notebook where a secret with a quote or backslash is escaped.
func (r *Redactor) Add(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[string]bool{}
	for _, s := range r.secrets {
		seen[s] = true
	}
	for _, s := range secrets {
		for _, v := range variants(s) {
			if len(v) >= MinLen && !seen[v] {
				seen[v] = true
				r.secrets = append(r.secrets, v)
			}
		}
	}
	sort.Slice(r.secrets, func(i, j int) bool { return len(r.secrets[i]) > len(r.secrets[j]) })
	pairs := make([]string, 0, 2*len(r.secrets))
	for _, s := range r.secrets {
		pairs = append(pairs, s, Mask)
	}
	r.rep = strings.NewReplacer(pairs...)
}

func variants(s string) []string {
	s = strings.TrimSpace(s)
	out := []string{s}
	if b, err := json.Marshal(s); err == nil {
		if q := string(b[1 : len(b)-1]); q != s {
			out = append(out, q)
		}
	}
	return out
}

// Len is the number of values redacted (with their JSON forms).
func (r *Redactor) Len() int {
	if r == nil {
		return 0
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.secrets)
}

func (r *Redactor) state() ([]string, *strings.Replacer) {
	if r == nil {
		return nil, nil
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.secrets, r.rep
}

// String returns s with every secret replaced by Mask.
func (r *Redactor) String(s string) string {
	_, rep := r.state()
	if rep == nil {
		return s
	}
	return rep.Replace(s)
}

// Contains reports whether s holds a secret.
func (r *Redactor) Contains(s string) bool {
	secrets, _ := r.state()
	for _, sec := range secrets {
		if strings.Contains(s, sec) {
			return true
		}
	}
	return false
}

func (r *Redactor) maxLen() int {
	secrets, _ := r.state()
	if len(secrets) == 0 {
		return 0
	}
	return len(secrets[0])
}

// Writer returns a writer that redacts what passes through it to w. It holds
// back an incomplete line (a secret may be split across writes) until the next
// newline or Flush; call Flush when done.
func (r *Redactor) Writer(w io.Writer) *Writer { return &Writer{r: r, w: w} }

// Writer is the redacting writer returned by Redactor.Writer.
type Writer struct {
	mu  sync.Mutex
	r   *Redactor
	w   io.Writer
	buf []byte
}

// holdMax bounds the held-back partial line: a progress bar that never prints
// a newline must still reach the log.
const holdMax = 64 << 10

func (x *Writer) Write(p []byte) (int, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.buf = append(x.buf, p...)
	if i := bytes.LastIndexByte(x.buf, '\n'); i >= 0 {
		if err := x.emit(i + 1); err != nil {
			return 0, err
		}
	}
	if len(x.buf) > holdMax {
		// Redact what is held, then keep back only a tail shorter than the
		// longest secret: a secret that is still incomplete starts in that tail.
		red := []byte(x.r.String(string(x.buf)))
		keep := max(x.r.maxLen()-1, 0)
		if keep > len(red) {
			keep = len(red)
		}
		if _, err := x.w.Write(red[:len(red)-keep]); err != nil {
			return 0, err
		}
		x.buf = append(x.buf[:0], red[len(red)-keep:]...)
	}
	return len(p), nil
}

func (x *Writer) emit(n int) error {
	out := x.r.String(string(x.buf[:n]))
	x.buf = append(x.buf[:0], x.buf[n:]...)
	_, err := io.WriteString(x.w, out)
	return err
}

// Flush writes out the held-back partial line.
func (x *Writer) Flush() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if len(x.buf) == 0 {
		return nil
	}
	return x.emit(len(x.buf))
}

// File rewrites path with its secrets replaced, atomically and keeping its
// mode, and reports whether it held any. Files without a secret are only read.
func (r *Redactor) File(path string) (bool, error) {
	if r.Len() == 0 {
		return false, nil
	}
	found, err := r.fileHas(path)
	if err != nil || !found {
		return false, err
	}
	info, err := os.Stat(path)
	if err != nil {
		return false, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return false, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".redact-*")
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(r.String(string(data))); err != nil {
		tmp.Close()
		return false, err
	}
	if err := tmp.Chmod(info.Mode().Perm()); err != nil {
		tmp.Close()
		return false, err
	}
	if err := tmp.Close(); err != nil {
		return false, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return false, err
	}
	return true, nil
}

// fileHas streams path looking for a secret, so a large data file is read once
// in chunks and never held in memory.
func (r *Redactor) fileHas(path string) (bool, error) {
	secrets, _ := r.state()
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	overlap := r.maxLen() - 1
	buf := make([]byte, 0, 1<<20+overlap)
	chunk := make([]byte, 1<<20)
	for {
		n, err := f.Read(chunk)
		buf = append(buf, chunk[:n]...)
		for _, s := range secrets {
			if bytes.Contains(buf, []byte(s)) {
				return true, nil
			}
		}
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if len(buf) > overlap {
			buf = append(buf[:0], buf[len(buf)-overlap:]...)
		}
	}
}

// Tree redacts every regular file under root (symbolic links are not
// followed) and returns the paths it changed. A missing root is no error.
func (r *Redactor) Tree(root string) ([]string, error) {
	if r.Len() == 0 || root == "" {
		return nil, nil
	}
	if _, err := os.Lstat(root); os.IsNotExist(err) {
		return nil, nil
	}
	var changed []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		ok, err := r.File(p)
		if err != nil {
			return fmt.Errorf("redact %s: %w", p, err)
		}
		if ok {
			changed = append(changed, p)
		}
		return nil
	})
	return changed, err
}
