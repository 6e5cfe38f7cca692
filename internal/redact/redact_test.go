package redact

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	r := New("ghs_abcdefgh1234", "short", "ghs_abcdefgh1234-longer", `se"cret\value`)
	tests := []struct{ in, want string }{
		{"token ghs_abcdefgh1234 end", "token *** end"},
		// The longer secret that contains the shorter one is replaced whole.
		{"x ghs_abcdefgh1234-longer y", "x *** y"},
		// Shorter than MinLen: left alone.
		{"a short word", "a short word"},
		// The JSON-escaped form, as in an executed notebook.
		{`{"evalue": "se\"cret\\value"}`, `{"evalue": "***"}`},
		{`raw se"cret\value`, "raw ***"},
	}
	for _, tc := range tests {
		if got := r.String(tc.in); got != tc.want {
			t.Errorf("String(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if !r.Contains("..ghs_abcdefgh1234..") || r.Contains("nothing here") {
		t.Error("Contains is wrong")
	}
	var zero *Redactor
	if zero.String("ghs_abcdefgh1234") != "ghs_abcdefgh1234" || zero.Len() != 0 {
		t.Error("a nil redactor must pass text through")
	}
}

func TestWriterSplitsAcrossWrites(t *testing.T) {
	secret := "refresh-token-0123456789"
	r := New(secret)
	var out bytes.Buffer
	w := r.Writer(&out)
	text := "line one\nthe token is " + secret + " and more\nno newline at the end " + secret
	// One byte per write: every secret is split across writes.
	for i := 0; i < len(text); i++ {
		if _, err := w.Write([]byte{text[i]}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "line one\nthe token is *** and more\nno newline at the end ***"
	if out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}

func TestWriterLongLineWithoutNewline(t *testing.T) {
	secret := "planted-secret-abcdef"
	r := New(secret)
	var out bytes.Buffer
	w := r.Writer(&out)
	// A progress bar: a very long line, the secret straddling the hold limit.
	pad := strings.Repeat("#", holdMax-5)
	text := pad + secret + strings.Repeat("=", 100)
	for _, part := range []string{text[:holdMax-2], text[holdMax-2 : holdMax+3], text[holdMax+3:]} {
		w.Write([]byte(part))
	}
	if out.Len() == 0 {
		t.Error("a line longer than the hold limit was held back entirely")
	}
	w.Flush()
	if strings.Contains(out.String(), secret) || !strings.Contains(out.String(), Mask) {
		t.Errorf("secret leaked or not masked (len %d)", out.Len())
	}
	if got, want := out.String(), pad+Mask+strings.Repeat("=", 100); got != want {
		t.Errorf("output differs from the input with the secret masked (got %d bytes, want %d)", len(got), len(want))
	}
}

func TestTree(t *testing.T) {
	secret := "ya29.access-token-value"
	r := New(secret)
	dir := t.TempDir()
	write := func(rel, content string, mode os.FileMode) string {
		p := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	leaky := write("results/leak.txt", "found "+secret+"\n", 0o600)
	clean := write("results/clean.txt", "nothing\n", 0o644)
	// A secret across the 1 MiB read boundary is still found.
	big := write("data/big.csv", strings.Repeat("a", 1<<20-4)+secret+"\n", 0o644)
	outside := write("../outside.txt", secret, 0o644)
	if err := os.Symlink(outside, filepath.Join(dir, "link.txt")); err != nil {
		t.Fatal(err)
	}
	cleanInfo, _ := os.Stat(clean)

	changed, err := r.Tree(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(changed) != 2 {
		t.Errorf("changed %v, want leak.txt and big.csv", changed)
	}
	for _, p := range []string{leaky, big} {
		b, _ := os.ReadFile(p)
		if strings.Contains(string(b), secret) || !strings.Contains(string(b), Mask) {
			t.Errorf("%s not redacted", p)
		}
	}
	if fi, _ := os.Stat(leaky); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode changed to %v", fi.Mode())
	}
	if fi, _ := os.Stat(clean); !fi.ModTime().Equal(cleanInfo.ModTime()) {
		t.Error("a file without secrets was rewritten")
	}
	if b, _ := os.ReadFile(outside); string(b) != secret {
		t.Error("a symbolic link was followed out of the tree")
	}
	if _, err := r.Tree(filepath.Join(dir, "missing")); err != nil {
		t.Errorf("missing root: %v", err)
	}
}
