package action

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestActionYMLMatchesInputs keeps action.yml and readConfig in step: every
// declared input reaches the program as INPUT_<NAME>, and the program reads it.
func TestActionYMLMatchesInputs(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	inputsBlock := text[strings.Index(text, "\ninputs:\n"):strings.Index(text, "\noutputs:\n")]
	declared := regexp.MustCompile(`(?m)^  ([a-z][a-z0-9-]*):$`).FindAllStringSubmatch(inputsBlock, -1)
	// INPUT_PYTHON falls back to the composite's own virtualenv: `inputs.python || steps...`.
	envLines := regexp.MustCompile(`(?m)^\s+(INPUT_[A-Z0-9_]+): \$\{\{ inputs\.([a-z0-9-]+)(?: \|\| [^}]+)? \}\}$`).FindAllStringSubmatch(text, -1)
	passed := map[string]string{}
	for _, m := range envLines {
		if want := "INPUT_" + strings.ToUpper(strings.ReplaceAll(m[2], "-", "_")); m[1] != want {
			t.Errorf("%s carries inputs.%s; the program reads it as %s", m[1], m[2], want)
		}
		passed[m[2]] = m[1]
	}
	composite := map[string]bool{"setup-python": true, "python-version": true, "requirements": true}
	if len(declared) < 15 {
		t.Fatalf("found only %d inputs in action.yml: parsing is off", len(declared))
	}
	env := map[string]string{}
	for _, m := range declared {
		name := m[1]
		if composite[name] {
			continue
		}
		v, ok := passed[name]
		if !ok {
			t.Errorf("input %s is declared but not passed to the program", name)
			continue
		}
		env[v] = "x-" + name
	}
	// Every passed input must change the parsed config (sentinels for strings;
	// booleans and numbers are checked by their parse errors).
	env["INPUT_MODE"], env["INPUT_SHARE"], env["INPUT_COMMENT"], env["INPUT_MAX_FILE_MB"], env["INPUT_QUICKSTART_SAMPLE_SIZE"] = "full", "true", "false", "7", "12"
	env["INPUT_TIME_BUDGET_MINUTES"], env["INPUT_TIMEOUT_PER_CELL"], env["INPUT_RUN_TIMEOUT"] = "60", "90s", "2h"
	env["INPUT_CREDENTIALS"] = `{"type": "service_account"}`
	env["INPUT_SHARE_WITH"], env["INPUT_SHARE_ROLE"] = "x-share-with@example.com", "commenter"
	c, err := readConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if len(c.ShareWith) != 1 || c.ShareWith[0].Email != "x-share-with@example.com" || c.ShareWith[0].Role != "commenter" {
		t.Errorf("share-with/share-role did not reach the config: %+v", c.ShareWith)
	}
	got := strings.Join([]string{c.CellsDir, c.DataPath, c.ModelName, c.OutDir, c.ProjectRoot, c.LocalDriveRoot, c.FolderID, c.GitHubToken,
		c.Creds.ClientID, c.Creds.ClientSecret, c.Creds.RefreshToken, c.Creds.AccessToken, c.ReportDir, c.Python}, " ")
	for _, m := range declared {
		if s := "x-" + m[1]; env[passed[m[1]]] == s && !strings.Contains(got, s) {
			t.Errorf("input %s is passed but readConfig ignores it", m[1])
		}
	}
	if c.Mode != "full" || !c.Share || c.Comment || c.MaxFileBytes != 7<<20 || c.QuickstartSampleSize != 12 || string(c.Creds.JSON) != env["INPUT_CREDENTIALS"] ||
		c.TimeBudget != time.Hour || c.TimeoutPerCell != 90*time.Second || c.RunTimeout != 2*time.Hour {
		t.Errorf("config = %+v", c)
	}
}

func TestActionYMLOutputsAreSet(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	outs := regexp.MustCompile(`(?m)^  ([a-z-]+):\n(?:    .*\n)*?    value: \$\{\{ steps\.run\.outputs\.([a-z-]+) \}\}$`).FindAllStringSubmatch(string(b), -1)
	if len(outs) < 4 {
		t.Fatalf("found %d outputs in action.yml", len(outs))
	}
	h := newHarness(t, "push")
	h.run()
	got := h.outputs()
	for _, m := range outs {
		if m[1] != m[2] {
			t.Errorf("output %s maps to steps.run.outputs.%s", m[1], m[2])
		}
		if _, ok := got[m[2]]; !ok {
			t.Errorf("action.yml declares output %s; the program never sets it (sets %v)", m[2], got)
		}
	}
}
