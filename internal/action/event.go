package action

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// event is the part of GITHUB_EVENT_PATH's payload the action reads.
type event struct {
	Action      string `json:"action"`
	PullRequest *struct {
		Number int `json:"number"`
		Head   struct {
			SHA  string `json:"sha"`
			Repo *struct {
				FullName string `json:"full_name"`
				Fork     bool   `json:"fork"`
			} `json:"repo"`
		} `json:"head"`
		Base struct {
			Repo struct {
				FullName string `json:"full_name"`
			} `json:"repo"`
		} `json:"base"`
	} `json:"pull_request"`
	Repository struct {
		FullName      string `json:"full_name"`
		DefaultBranch string `json:"default_branch"`
	} `json:"repository"`
	// WorkflowRun is the run a workflow_run event reports on (mode comment).
	WorkflowRun *workflowRun `json:"workflow_run"`
}

// workflowRun is GitHub's description of another workflow's run: trusted,
// unlike anything that run wrote.
type workflowRun struct {
	ID             int64  `json:"id"`
	Name           string `json:"name"`
	Event          string `json:"event"`
	HeadSHA        string `json:"head_sha"`
	HeadBranch     string `json:"head_branch"`
	RunNumber      int64  `json:"run_number"`
	HTMLURL        string `json:"html_url"`
	Conclusion     string `json:"conclusion"`
	HeadRepository struct {
		FullName string `json:"full_name"`
	} `json:"head_repository"`
}

// pullRequest is what the run knows about its PR; Number 0 means none.
type pullRequest struct {
	Number   int
	HeadSHA  string
	Fork     bool
	HeadRepo string
}

// runContext is the GitHub Actions context, read from the runner's GITHUB_*
// and RUNNER_* variables (which a workflow step cannot override) and the
// event payload.
type runContext struct {
	EventName, EventPath              string
	SHA, Ref, Repository, Workspace   string
	ServerURL, APIURL, Workflow       string
	RunID, RunNumber                  int64
	RunnerEnvironment, RunnerOS, Arch string
	Event                             event
}

// Repo splits GITHUB_REPOSITORY.
func (c runContext) Repo() (owner, name string) {
	owner, name, _ = strings.Cut(c.Repository, "/")
	return owner, name
}

// prEvents carry a pull_request object; a payload without one is broken.
var prEvents = map[string]bool{"pull_request": true, "pull_request_target": true, "pull_request_review": true, "pull_request_review_comment": true}

// readContext reads the context. Without a readable event payload the run
// cannot tell a pull request from a push to the default branch, so that is an
// error, in one line, and nothing is published.
func readContext(getenv func(string) string) (runContext, error) {
	c := runContext{
		EventName: getenv("GITHUB_EVENT_NAME"), EventPath: getenv("GITHUB_EVENT_PATH"),
		SHA: getenv("GITHUB_SHA"), Ref: getenv("GITHUB_REF"), Repository: getenv("GITHUB_REPOSITORY"),
		Workspace: getenv("GITHUB_WORKSPACE"), ServerURL: getenv("GITHUB_SERVER_URL"), APIURL: getenv("GITHUB_API_URL"),
		Workflow: getenv("GITHUB_WORKFLOW"), RunnerEnvironment: getenv("RUNNER_ENVIRONMENT"),
		RunnerOS: getenv("RUNNER_OS"), Arch: getenv("RUNNER_ARCH"),
	}
	if c.ServerURL == "" {
		c.ServerURL = "https://github.com"
	}
	c.RunID, _ = strconv.ParseInt(getenv("GITHUB_RUN_ID"), 10, 64)
	c.RunNumber, _ = strconv.ParseInt(getenv("GITHUB_RUN_NUMBER"), 10, 64)
	if c.EventPath == "" {
		return c, errors.New("GITHUB_EVENT_PATH is not set, so this run cannot tell whether it serves a pull request: run the action as a step of a GitHub Actions job (or set GITHUB_EVENT_NAME and GITHUB_EVENT_PATH to an event payload file); nothing was built or published")
	}
	ev, err := readEvent(c.EventPath)
	if err != nil {
		return c, fmt.Errorf("%w; nothing was built or published", err)
	}
	switch {
	case prEvents[c.EventName] && ev.PullRequest == nil:
		return c, fmt.Errorf("the %s event payload %s has no pull_request object; nothing was built or published", c.EventName, c.EventPath)
	case c.EventName == "workflow_run" && ev.WorkflowRun == nil:
		return c, fmt.Errorf("the workflow_run event payload %s has no workflow_run object; nothing was posted", c.EventPath)
	}
	c.Event = ev
	return c, nil
}

func readEvent(path string) (event, error) {
	var ev event
	b, err := os.ReadFile(path)
	if err != nil {
		return ev, &withCause{fmt.Sprintf("cannot read the event payload GITHUB_EVENT_PATH=%s (%v), so this run cannot tell whether it serves a pull request", path, unwrapPath(err)), err}
	}
	if err := json.Unmarshal(b, &ev); err != nil {
		return ev, &withCause{fmt.Sprintf("the event payload GITHUB_EVENT_PATH=%s is not JSON (%v), so this run cannot tell whether it serves a pull request", path, oneLineErr(err)), err}
	}
	return ev, nil
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func oneLineErr(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }

// withCause is an error whose text says what its cause said in other words (on one
// line, or without the path it repeats), the cause still reachable through
// errors.Is and errors.As.
type withCause struct {
	msg string
	err error
}

func (e *withCause) Error() string { return e.msg }
func (e *withCause) Unwrap() error { return e.err }

// pr extracts the pull request. A fork is a head repository other than the base
// one, or a deleted head repository (whose origin can no longer be checked).
func (ev event) pr() pullRequest {
	p := ev.PullRequest
	if p == nil {
		return pullRequest{}
	}
	out := pullRequest{Number: p.Number, HeadSHA: p.Head.SHA}
	base := p.Base.Repo.FullName
	if base == "" {
		base = ev.Repository.FullName
	}
	if p.Head.Repo == nil {
		out.Fork = true
		out.HeadRepo = "a deleted repository"
	} else {
		out.HeadRepo = p.Head.Repo.FullName
		out.Fork = !strings.EqualFold(p.Head.Repo.FullName, base)
	}
	return out
}
