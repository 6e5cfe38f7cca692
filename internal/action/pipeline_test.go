package action

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseProblems(t *testing.T) {
	stderr := "cells/03_clean.py:12: markdown line must start with \"# \"\n" +
		"    # bad line\n" +
		"cells/src/api/app.py: has no src cell\n" +
		"two cells tagged parameters\n" +
		"validate: 3 problem(s) in cells\n\n"
	want := []Problem{
		{File: "cells/03_clean.py", Line: 12, Message: "markdown line must start with \"# \" # bad line"},
		{File: "cells/src/api/app.py", Message: "has no src cell"},
		{Message: "two cells tagged parameters"},
	}
	if got := ParseProblems(stderr); !reflect.DeepEqual(got, want) {
		t.Errorf("ParseProblems =\n%+v\nwant\n%+v", got, want)
	}
}

// fakeExe writes a shell script that answers like the real subcommands and logs
// its arguments and whether GITHUB_ACTIONS was cleared.
func fakeExe(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	argsLog := filepath.Join(dir, "args.log")
	script := `#!/bin/sh
echo "$* gha=$GITHUB_ACTIONS" >> "` + argsLog + `"
case "$1" in
build)
  mkdir -p "$5" && echo '{}' > "$5/product_categorization_colab.ipynb"
  echo "built $5/product_categorization_colab.ipynb" ;;
validate)
  if [ "$VALIDATE_EXIT" = 1 ]; then
    echo "cells/05_x.py:3: undefined name 'foo'" >&2
    echo "validate: 1 problem(s) in cells" >&2
    exit 1
  fi
  if [ "$VALIDATE_EXIT" = 2 ]; then echo "validate: python3 not found" >&2; exit 2; fi ;;
run)
  echo "Traceback: KeyError: 'category'" >&2; exit 3 ;;
esac
`
	exe := filepath.Join(dir, "fake-action")
	if err := os.WriteFile(exe, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return exe, argsLog
}

func TestBinaryPipeline(t *testing.T) {
	tests := []struct {
		name         string
		validateExit string
		wantProblems int
		wantErr      string
	}{
		{"valid", "0", 0, ""},
		{"problems", "1", 1, ""},
		{"checker broken", "2", 0, "python3 not found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			exe, argsLog := fakeExe(t)
			var log bytes.Buffer
			b := &Binary{Exe: exe, Log: &log, Env: []string{"GITHUB_ACTIONS=true", "VALIDATE_EXIT=" + tc.validateExit, "PATH=" + os.Getenv("PATH")}}
			out := filepath.Join(t.TempDir(), "build")
			nb, err := b.Build(context.Background(), "cells", out)
			if err != nil || nb != filepath.Join(out, NotebookFile) {
				t.Fatalf("Build = %q, %v", nb, err)
			}
			probs, err := b.Validate(context.Background(), "cells")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Validate err = %v, want %q", err, tc.wantErr)
				}
			} else if err != nil || len(probs) != tc.wantProblems {
				t.Fatalf("Validate = %+v, %v", probs, err)
			}
			if tc.wantProblems == 1 && (probs[0].File != "cells/05_x.py" || probs[0].Line != 3) {
				t.Errorf("problem = %+v", probs[0])
			}
			err = b.Execute(context.Background(), ExecOptions{Mode: "quickstart", CellsDir: "cells", OutDir: out, ProjectRoot: "pr", DataPath: "d.csv", SampleSize: "500"})
			if err == nil || !strings.Contains(err.Error(), "KeyError: 'category'") {
				t.Errorf("Execute err = %v, want the stderr tail", err)
			}
			args, _ := os.ReadFile(argsLog)
			wantArgs := "build --cells cells --out " + out + " gha=\n" +
				"validate --cells cells gha=\n" +
				"run --mode quickstart --cells cells --out " + out + " --project-root pr --data d.csv --sample-size 500 gha=true\n"
			if string(args) != wantArgs {
				t.Errorf("subcommands:\n%s\nwant\n%s", args, wantArgs)
			}
			if !strings.Contains(log.String(), "built ") {
				t.Errorf("subcommand output not streamed to the log: %q", log.String())
			}
		})
	}
}
