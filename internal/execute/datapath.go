package execute

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// kaggleHandle is a Kaggle dataset handle, owner/name[/versions/N], as
// cells/src/data.py reads it.
var kaggleHandle = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*/[A-Za-z0-9][A-Za-z0-9_-]*(/versions/[0-9]+)?$`)

// DataSourceHint lists what --data (DATA_PATH) accepts.
const DataSourceHint = "a CSV, a zip, a folder, PATH!MEMBER (one CSV inside a zip or folder), an http(s) URL or a Kaggle handle owner/name"

// CheckDataPath checks a --data value before anything is built or run, so a
// typo leaves PROJECT_ROOT untouched, and returns what to inject as DATA_PATH.
// It accepts what the notebook's loader reads (cells/src/data.py): a local file,
// zip or folder (made absolute, since the kernel runs elsewhere), PATH!MEMBER
// whose PATH exists, an http(s) URL, kaggle:owner/name, or owner/name when no
// such local path exists. URLs and handles are left to the loader, which says
// in one line (exit 2) when one cannot be fetched.
func CheckDataPath(p string) (string, error) {
	p = strings.TrimSpace(p)
	low := strings.ToLower(p)
	if strings.HasPrefix(low, "http://") || strings.HasPrefix(low, "https://") || strings.HasPrefix(low, "kaggle:") {
		return p, nil
	}
	path, member := p, ""
	if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
		if i := strings.LastIndex(p, "!"); i > 0 {
			if _, err := os.Stat(p[:i]); err == nil {
				path, member = p[:i], p[i:]
			}
		}
	}
	if _, err := os.Stat(path); err != nil {
		switch {
		case errors.Is(err, os.ErrNotExist) && member == "" && kaggleHandle.MatchString(strings.SplitN(p, "!", 2)[0]):
			return p, nil
		case errors.Is(err, os.ErrNotExist):
			return "", &InputError{Msg: fmt.Sprintf("data file not found: %s (give %s)", p, DataSourceHint)}
		default:
			return "", &InputError{Msg: fmt.Sprintf("data file %s: %v", p, err), Err: err}
		}
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return path + member, nil
}
