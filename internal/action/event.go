package action

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// event is the part of GITHUB_EVENT_PATH's payload the action reads.
type event struct {
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
		FullName string `json:"full_name"`
	} `json:"repository"`
}

// pullRequest is what the run knows about its PR; Number 0 means none.
type pullRequest struct {
	Number   int
	HeadSHA  string
	Fork     bool
	HeadRepo string
}

func readEvent(path string) (event, error) {
	var ev event
	if path == "" {
		return ev, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return ev, fmt.Errorf("read the event payload %s: %w", path, err)
	}
	if err := json.Unmarshal(b, &ev); err != nil {
		return ev, fmt.Errorf("event payload %s is not JSON: %w", path, err)
	}
	return ev, nil
}

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
