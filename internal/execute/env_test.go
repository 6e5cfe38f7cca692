package execute

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prodcat/colab-notebook-action/internal/testenv"
)

func TestKernelEnvAllowlist(t *testing.T) {
	environ := []string{
		"PATH=/usr/bin", "HOME=/home/runner", "LANG=C.UTF-8", "LC_ALL=C.UTF-8", "OMP_NUM_THREADS=2",
		"PC_N_TRIALS=4", "HF_HUB_OFFLINE=1", "CUDA_VISIBLE_DEVICES=0", "PYTHONPATH=/src",
		"INPUT_GITHUB-TOKEN=ghs_planted", "INPUT_OAUTH_CLIENT_SECRET=shh", "INPUT_CELLS=cells",
		"GITHUB_TOKEN=ghs_env", "ACTIONS_RUNTIME_TOKEN=rt", "ACTIONS_ID_TOKEN_REQUEST_TOKEN=oidc",
		"ACTIONS_ID_TOKEN_REQUEST_URL=https://x", "ACTIONS_CACHE_URL=https://cache", "GITHUB_ENV=/tmp/env",
		"GOOGLE_APPLICATION_CREDENTIALS=/tmp/key.json", "GOOGLE_OAUTH_REFRESH_TOKEN=r", "DRIVE_SERVICE_ACCOUNT_JSON={}",
		"HF_TOKEN=hf_x", "KAGGLE_KEY=k", "KAGGLE_API_TOKEN=k", "AWS_SECRET_ACCESS_KEY=a", "PC_API_KEY=x",
		"RUNNER_TEMP=/tmp", "PROJECT_ROOT=/elsewhere", "SSH_AUTH_SOCK=/tmp/agent",
	}
	got := map[string]string{}
	for _, kv := range kernelEnv(environ, "/work/project") {
		k, v, _ := strings.Cut(kv, "=")
		got[k] = v
	}
	for _, k := range []string{"PATH", "HOME", "LANG", "LC_ALL", "OMP_NUM_THREADS", "PC_N_TRIALS", "HF_HUB_OFFLINE", "CUDA_VISIBLE_DEVICES", "PYTHONPATH"} {
		if _, ok := got[k]; !ok {
			t.Errorf("%s does not reach the kernel", k)
		}
	}
	for k := range got {
		switch k {
		case "PATH", "HOME", "LANG", "LC_ALL", "OMP_NUM_THREADS", "PC_N_TRIALS", "HF_HUB_OFFLINE", "CUDA_VISIBLE_DEVICES", "PYTHONPATH",
			"PROJECT_ROOT", "MPLBACKEND", "KERAS_BACKEND", "PYTHONUNBUFFERED", "PYDEVD_DISABLE_FILE_VALIDATION":
		default:
			t.Errorf("%s=%s reaches the kernel", k, got[k])
		}
	}
	if got["PROJECT_ROOT"] != "/work/project" {
		t.Errorf("PROJECT_ROOT = %q", got["PROJECT_ROOT"])
	}
}

// TestKernelSeesNoSecrets runs a real kernel with credentials in the process
// environment, as the action has them, and reads back what the kernel saw.
func TestKernelSeesNoSecrets(t *testing.T) {
	py := testenv.Python(t, "nbclient", "ipykernel")
	planted := map[string]string{
		"INPUT_GITHUB-TOKEN":             "ghs_plantedGitHubToken0001",
		"INPUT_OAUTH_CLIENT_SECRET":      "GOCSPX-plantedClientSecret",
		"INPUT_OAUTH-REFRESH-TOKEN":      "1//plantedRefreshToken0002",
		"INPUT_CREDENTIALS":              `{"type": "service_account", "private_key": "plantedPrivateKey"}`,
		"INPUT_ACCESS_TOKEN":             "ya29.plantedAccessToken0003",
		"GITHUB_TOKEN":                   "ghs_plantedEnvToken00000004",
		"ACTIONS_RUNTIME_TOKEN":          "plantedRuntimeToken00000005",
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": "plantedOIDCToken00000000006",
	}
	for k, v := range planted {
		t.Setenv(k, v)
	}
	tmp := t.TempDir()
	dump := filepath.Join(tmp, "kernel_env.json")
	cell := "# %%\nimport json, os\njson.dump(dict(os.environ), open(" + pyString(dump) + ", 'w'))\n"
	cells := cellsWith(t, map[string]string{"05_env.py": cell})
	_, err := Run(context.Background(), Options{
		Mode: ModeFull, CellsDir: cells, OutDir: filepath.Join(tmp, "out"),
		ProjectRoot: filepath.Join(tmp, "project"), Python: py, TimeoutPerCell: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(dump)
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]string
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatal(err)
	}
	if env["PATH"] == "" || env["PROJECT_ROOT"] == "" {
		t.Errorf("the kernel lacks PATH or PROJECT_ROOT: %v", env)
	}
	for k, v := range env {
		if strings.HasPrefix(k, "INPUT_") || strings.HasPrefix(k, "ACTIONS_") || strings.HasPrefix(k, "GITHUB_") {
			t.Errorf("kernel environment has %s", k)
		}
		for _, secret := range planted {
			if strings.Contains(v, secret) {
				t.Errorf("kernel environment %s carries a planted secret", k)
			}
		}
	}
}

func pyString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestTimeouts(t *testing.T) {
	for _, tc := range []struct {
		budget, perCell, run time.Duration
		wantPerCell, wantRun time.Duration
	}{
		{0, 0, 0, DefaultTimeoutPerCell, 0},
		{0, -1, 0, -1, 0},
		{0, 5 * time.Minute, time.Hour, 5 * time.Minute, time.Hour},
		{60 * time.Minute, 0, 0, 66 * time.Minute, 75 * time.Minute},
		{10 * time.Minute, 0, 0, 12 * time.Minute, 15 * time.Minute},
		// An explicit per-cell timeout wins over the budget's.
		{60 * time.Minute, 10 * time.Minute, 0, 10 * time.Minute, 75 * time.Minute},
		{60 * time.Minute, -1, -1, -1, -1},
	} {
		pc, run := Timeouts(tc.budget, tc.perCell, tc.run)
		if pc != tc.wantPerCell || run != tc.wantRun {
			t.Errorf("Timeouts(%s, %s, %s) = %s, %s; want %s, %s", tc.budget, tc.perCell, tc.run, pc, run, tc.wantPerCell, tc.wantRun)
		}
	}
}

func TestRunTimeoutAndBudget(t *testing.T) {
	t.Parallel()
	py := testenv.Python(t, "nbclient", "ipykernel")
	tmp := t.TempDir()
	budgetFile := filepath.Join(tmp, "budget.txt")
	slow := "# %% [markdown]\n# ## Step 3 — Slow step\n\n# %%\nopen(" + pyString(budgetFile) +
		", 'w').write(repr(TIME_BUDGET_MINUTES))\n\n# %%\nimport time\ntime.sleep(600)\n"
	cells := cellsWith(t, map[string]string{"05_slow.py": slow})
	var progress bytes.Buffer
	started := time.Now()
	_, err := Run(context.Background(), Options{
		Mode: ModeFull, CellsDir: cells, OutDir: filepath.Join(tmp, "out"), ProjectRoot: filepath.Join(tmp, "project"),
		Python: py, TimeBudget: 30 * time.Second, TimeoutPerCell: -1, RunTimeout: 30 * time.Second, Progress: &progress,
	})
	if took := time.Since(started); took > 90*time.Second {
		t.Errorf("the run timeout stopped the run after %s", took)
	}
	var f *Failure
	if !errors.As(err, &f) || f.Kind != RunTimeout || ExitCode(err) != ExitTimeout {
		t.Fatalf("want a run timeout (exit 3), got %v", err)
	}
	if !strings.Contains(err.Error(), "the run timed out after 30s") || f.Section != "Step 3 — Slow step" || !strings.HasSuffix(f.Origin, "05_slow.py:8") {
		t.Errorf("failure = %+v\n%v\n%s", f, err, progress.String())
	}
	if b, err := os.ReadFile(budgetFile); err != nil || string(b) != "0.5" {
		t.Errorf("TIME_BUDGET_MINUTES = %q (%v), want 0.5", b, err)
	}
}
