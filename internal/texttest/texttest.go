// Package texttest holds the checks the Go tests make on text the tool writes: the log, the
// job summary, the PR comment.
package texttest

import (
	"strings"
	"testing"
)

// Contains fails the test (without stopping it) for each of wants that s lacks; what names s.
func Contains(t testing.TB, what, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, s)
		}
	}
}

// Unescaped reports an occurrence of bad not preceded by a backslash: Markdown that GitHub
// would render, where the comment must show it as text.
func Unescaped(s, bad string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], bad)
		if j < 0 {
			return false
		}
		if at := i + j; at == 0 || s[at-1] != '\\' {
			return true
		}
		i += j + 1
	}
}
