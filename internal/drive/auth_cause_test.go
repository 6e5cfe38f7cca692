package drive

import (
	"errors"
	"io/fs"
	"testing"
)

// A credentials error says what went wrong in its own words and still carries
// the error that caused it, for callers that test with errors.Is / errors.As.
func TestCredErrorKeepsItsCause(t *testing.T) {
	err := credErrorf("%s: %v", "key.json", fs.ErrPermission)
	if !errors.Is(err, ErrCredentials) {
		t.Errorf("errors.Is(%v, ErrCredentials) = false", err)
	}
	if !errors.Is(err, fs.ErrPermission) {
		t.Errorf("errors.Is(%v, fs.ErrPermission) = false: the cause was dropped", err)
	}
	if got, want := err.Error(), "key.json: permission denied"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
	if errors.Unwrap(credErrorf("no key")) != nil {
		t.Error("a credentials error without an error argument has no cause")
	}
}
