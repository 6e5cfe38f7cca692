package action

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prodcat/colab-notebook-action/internal/drive/drivetest"
	"github.com/prodcat/colab-notebook-action/internal/prcomment/githubtest"
	"github.com/prodcat/colab-notebook-action/internal/testenv"
	"github.com/prodcat/colab-notebook-action/internal/texttest"
)

// The planted credentials, as a same-repository pull request's run holds them.
var planted = map[string]string{
	"INPUT_GITHUB_TOKEN":             "ghs_PlantedGitHubToken0123456789",
	"INPUT_OAUTH_CLIENT_ID":          "client-1.apps.googleusercontent.com",
	"INPUT_OAUTH_CLIENT_SECRET":      "GOCSPX-PlantedClientSecret0123",
	"INPUT_OAUTH_REFRESH_TOKEN":      "1//PlantedRefreshToken0123456789",
	"ACTIONS_RUNTIME_TOKEN":          "PlantedActionsRuntimeToken0123",
	"ACTIONS_ID_TOKEN_REQUEST_TOKEN": "PlantedOIDCRequestToken012345",
}

func plantedSecrets() []string {
	var out []string
	for k, v := range planted {
		if k != "INPUT_OAUTH_CLIENT_ID" {
			out = append(out, v)
		}
	}
	return out
}

// leakCell tries every way out: it prints the kernel's environment, reads the
// environment of every process above it (the action's holds the inputs), and
// puts what it found in its output, a results file, the metrics and, with
// raise_it, an exception. raw is where it records what it found for the test.
func leakCell(raw string, raiseIt bool) string {
	q, _ := json.Marshal(raw)
	last := "print('done')"
	if raiseIt {
		last = `raise RuntimeError("exfiltrated: " + " ".join(found.values()))`
	}
	return `# %% [markdown]
# ## Quick Start exfiltration

# %% tags=["quickstart"]
import json, os
print("KERNEL ENV", json.dumps(dict(os.environ)))
found, pid = {}, os.getppid()
while pid > 1:
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            for kv in f.read().decode(errors="replace").split("\0"):
                k, _, v = kv.partition("=")
                if (k.startswith("INPUT_") or k.startswith("ACTIONS_")) and len(v) >= 8:
                    found[k] = v
        with open(f"/proc/{pid}/stat") as f:
            pid = int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError):
        break
with open(` + string(q) + `, "w") as f:
    json.dump({"env": dict(os.environ), "found": found}, f)
print("FOUND", found)
with open(os.path.join(PROJECT_ROOT, "results", "leak.txt"), "w") as f:
    f.write(json.dumps(found))
with open(os.path.join(PROJECT_ROOT, "results", "quickstart_metrics.json"), "w") as f:
    json.dump({"accuracy": 0.5, "macro_f1": 0.5, "device": "cpu", "n_train": 1, "n_test": 1, "n_classes": 2,
               "dataset": " ".join(found.values())}, f)
` + last + "\n"
}

// fixturePipeline is the real build and execute on the executor's fixture
// cells; validation is skipped (the fixture is not the spec's whole notebook).
type fixturePipeline struct{ InProcess }

func (fixturePipeline) Validate(context.Context, string) ([]Problem, error) { return nil, nil }

// TestHelperAction is the action process of TestSecretsNeverLeave, started as
// a child with the secrets in its real environment, as on a runner.
func TestHelperAction(t *testing.T) {
	if os.Getenv("ACTION_TEST_HELPER") != "1" {
		t.Skip("the action process of TestSecretsNeverLeave")
	}
	code := Run(context.Background(), Deps{
		Getenv: os.Getenv, Environ: os.Environ, Out: os.Stdout,
		Pipeline:      fixturePipeline{InProcess{Python: os.Getenv("INPUT_PYTHON")}},
		HTTPClient:    &http.Client{Timeout: 30 * time.Second},
		DriveBackoff:  func(int) time.Duration { return time.Millisecond },
		DriveEndpoint: os.Getenv("TEST_DRIVE_ENDPOINT"), TokenURL: os.Getenv("TEST_TOKEN_URL"),
		GPU: func(context.Context) string { return "" },
	})
	os.Exit(code)
}

func TestSecretsNeverLeave(t *testing.T) {
	py := testenv.Python(t, "nbclient", "ipykernel")
	for _, raiseIt := range []bool{true, false} {
		name := map[bool]string{true: "the cell raises with them", false: "the cell writes them to artifacts"}[raiseIt]
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			raw := filepath.Join(dir, "kernel_saw.json")
			cells := filepath.Join(dir, "cells")
			if err := os.CopyFS(cells, os.DirFS(filepath.Join("..", "..", "testdata", "execute", "cells"))); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(cells, "05_leak.py"), []byte(leakCell(raw, raiseIt)), 0o644)

			drv := drivetest.New()
			defer drv.Close()
			drv.AddFolder("proj-folder", "product_categorization_project", drivetest.RootID, "", true)
			drv.RefreshTokens = []string{planted["INPUT_OAUTH_REFRESH_TOKEN"]}
			gh := githubtest.New("octo", "shop")
			defer gh.Close()
			gh.Tokens[planted["INPUT_GITHUB_TOKEN"]] = githubtest.Token{Login: "github-actions[bot]", App: true}

			event, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "events", "pull_request.json"))
			env := map[string]string{
				"ACTION_TEST_HELPER": "1", "PATH": os.Getenv("PATH"), "HOME": os.Getenv("HOME"),
				"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": event,
				"GITHUB_REPOSITORY": "octo/shop", "GITHUB_SHA": "deadbeef", "GITHUB_REF": "refs/pull/42/merge",
				"GITHUB_RUN_ID": "7", "GITHUB_RUN_NUMBER": "3", "GITHUB_WORKFLOW": "notebook", "GITHUB_API_URL": gh.URL,
				"GITHUB_WORKSPACE": dir, "GITHUB_OUTPUT": filepath.Join(dir, "output"), "GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary"),
				"RUNNER_ENVIRONMENT": "github-hosted", "RUNNER_OS": "Linux", "RUNNER_ARCH": "X64",
				"INPUT_MODE": "quickstart", "INPUT_CELLS": cells, "INPUT_OUT_DIR": filepath.Join(dir, "build"),
				"INPUT_PROJECT_ROOT": filepath.Join(dir, "project"), "INPUT_LOCAL_DRIVE_ROOT": filepath.Join(dir, "_drive"),
				"INPUT_FOLDER_ID": "proj-folder", "INPUT_PYTHON": py, "INPUT_TIMEOUT_PER_CELL": "2",
				"TEST_DRIVE_ENDPOINT": drv.Endpoint(), "TEST_TOKEN_URL": drv.TokenURL(),
			}
			for k, v := range planted {
				env[k] = v
			}
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperAction$", "-test.v=false")
			for k, v := range env {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			wantCode := map[bool]int{true: 1, false: 0}[raiseIt]
			if code := cmd.ProcessState.ExitCode(); code != wantCode {
				t.Fatalf("action exit %d (%v), want %d\n%s\n%s", code, err, wantCode, stdout.String(), stderr.String())
			}

			// The cell did find them, through /proc: what kept them in is the redaction.
			var saw struct {
				Env   map[string]string `json:"env"`
				Found map[string]string `json:"found"`
			}
			b, err := os.ReadFile(raw)
			if err != nil {
				t.Fatalf("the leak cell did not run: %v\n%s", err, stdout.String())
			}
			json.Unmarshal(b, &saw)
			if saw.Found["INPUT_OAUTH_REFRESH_TOKEN"] != planted["INPUT_OAUTH_REFRESH_TOKEN"] {
				t.Errorf("the cell could not read its parents' environment (found %d values): this test no longer exercises the redaction", len(saw.Found))
			}
			for k, v := range saw.Env {
				if strings.HasPrefix(k, "INPUT_") || strings.HasPrefix(k, "ACTIONS_") || k == "GITHUB_TOKEN" {
					t.Errorf("the kernel's environment has %s", k)
				}
				for _, s := range plantedSecrets() {
					if strings.Contains(v, s) {
						t.Errorf("the kernel's environment variable %s holds a planted secret", k)
					}
				}
			}

			texts := map[string]string{}
			for _, ln := range strings.Split(stdout.String()+stderr.String(), "\n") {
				if !strings.HasPrefix(ln, "::add-mask::") { // consumed by the runner, never shown
					texts["stdout/stderr"] += ln + "\n"
				}
			}
			for _, f := range []string{"summary", "output"} {
				b, _ := os.ReadFile(filepath.Join(dir, f))
				texts[f] = string(b)
			}
			for _, c := range gh.Comments(42) {
				texts["comment"] += c.Body
			}
			for _, root := range []string{"build", "project", "_drive"} {
				filepath.WalkDir(filepath.Join(dir, root), func(p string, d fs.DirEntry, err error) error {
					if err == nil && d.Type().IsRegular() {
						b, _ := os.ReadFile(p)
						texts[p] = string(b)
					}
					return nil
				})
			}
			var walk func(parent string)
			walk = func(parent string) {
				for _, f := range drv.Files(parent) {
					texts["drive:"+f.Name] = string(f.Content)
					walk(f.ID)
				}
			}
			walk("proj-folder")
			for where, text := range texts {
				for _, s := range plantedSecrets() {
					if strings.Contains(text, s) {
						t.Errorf("a planted secret (%.8s…) is in %s", s, where)
					}
				}
			}
			// The outputs that must exist did: the test looked at real files.
			for _, must := range []string{"comment", "summary", filepath.Join(dir, "build", "executed_quickstart.ipynb")} {
				if texts[must] == "" {
					t.Errorf("%s is empty: nothing was checked there", must)
				}
			}
			if !raiseIt {
				if _, ok := drv.Lookup("proj-folder", "ci/pr-42/run/results/leak.txt"); !ok {
					t.Error("results/leak.txt was not published: the published files were not checked")
				}
				texttest.Contains(t, "log", stdout.String(), "results/leak.txt contained a credential this run holds")
			} else {
				texttest.Contains(t, "comment", texts["comment"], "RuntimeError: exfiltrated: ", "***")
			}
		})
	}
}
