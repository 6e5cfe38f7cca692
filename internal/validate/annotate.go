package validate

import (
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sethvargo/go-githubactions"

	"github.com/prodcat/colab-notebook-action/internal/cellsrc"
)

// Annotate writes each problem as a GitHub Actions ::error command to w
// (GitHub reads them from stdout) so it shows on the PR's diff. workspace is
// $GITHUB_WORKSPACE: absolute paths inside it are made repository-relative,
// which is what annotations need.
func Annotate(w io.Writer, workspace string, probs []cellsrc.Problem) {
	gh := githubactions.New(githubactions.WithWriter(w))
	for _, p := range probs {
		fields := map[string]string{}
		if f := p.File; f != "" {
			if filepath.IsAbs(f) && workspace != "" {
				if rel, err := filepath.Rel(workspace, f); err == nil && !strings.HasPrefix(rel, "..") {
					f = rel
				}
			}
			fields["file"] = filepath.ToSlash(f)
		}
		if p.Line > 0 {
			fields["line"] = strconv.Itoa(p.Line)
		}
		gh.WithFieldsMap(fields).Errorf("%s", p.Message)
	}
}
