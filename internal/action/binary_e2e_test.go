package action

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// TestRealBinary runs the action through the real program: its build and validate
// subcommands, on the builder's fixture cells. It pins the subprocess contract
// (flags, exit codes, "file:line: message" lines) between the action and them.
func TestRealBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the program")
	}
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	exe := filepath.Join(work, "colab-notebook-action")
	build := exec.Command("go", "build", "-o", exe, ".")
	build.Dir = repo
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if err := os.CopyFS(filepath.Join(work, "cells"), os.DirFS(filepath.Join(repo, "testdata", "build", "cells"))); err != nil {
		t.Fatal(err)
	}
	// What validate says on its own is the reference for what the action reports.
	v := exec.Command(exe, "validate", "--cells", "cells")
	v.Dir = work
	v.Env = append(os.Environ(), "GITHUB_ACTIONS=")
	var vErr bytes.Buffer
	v.Stderr = &vErr
	if err := v.Run(); err != nil && v.ProcessState.ExitCode() != 1 {
		t.Skipf("validate cannot run on this machine (%v): %s", err, vErr.String())
	}
	want := len(ParseProblems(vErr.String()))

	var log bytes.Buffer
	env := map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": work, "GITHUB_EVENT_NAME": "push",
		"GITHUB_OUTPUT": filepath.Join(work, "output"), "GITHUB_STEP_SUMMARY": filepath.Join(work, "summary"),
		"INPUT_MODE": "build", "INPUT_CELLS": filepath.Join(work, "cells"), "INPUT_OUT-DIR": filepath.Join(work, "build"),
		"INPUT_LOCAL-DRIVE-ROOT": filepath.Join(work, "_drive"),
	}
	h := &harness{t: t, env: env}
	code := Run(context.Background(), Deps{
		Getenv: func(k string) string { return env[k] },
		Out:    &log,
		// The subcommands see what they would on a runner, GITHUB_ACTIONS included.
		Pipeline: &Binary{Exe: exe, Log: &log, Env: append(os.Environ(), "GITHUB_ACTIONS=true", "GITHUB_WORKSPACE="+work)},
	})
	out := h.outputs()
	if _, err := os.Stat(out["notebook-path"]); err != nil {
		t.Fatalf("notebook-path %q: %v\n%s", out["notebook-path"], err, log.String())
	}
	if out["validation-problems"] != strconv.Itoa(want) {
		t.Errorf("validation-problems = %s, validate itself reports %d\n%s", out["validation-problems"], want, log.String())
	}
	annotations := len(regexp.MustCompile(`(?m)^::error`).FindAllString(log.String(), -1))
	switch {
	case want == 0 && (code != 0 || out["published"] != "local"):
		t.Errorf("valid cells: exit %d, published %q\n%s", code, out["published"], log.String())
	// More annotations than this means a subcommand annotated too: each would show twice.
	case want > 0 && (code != 1 || annotations != min(want, maxAnnotations)+boolInt(want > maxAnnotations)):
		t.Errorf("%d problems: exit %d, %d annotations\n%s", want, code, annotations, log.String())
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
