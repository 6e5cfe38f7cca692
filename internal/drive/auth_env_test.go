package drive

import (
	"context"
	"net/http"
	"testing"

	"github.com/prodcat/colab-notebook-action/internal/drive/drivetest"
)

// TestEndpointsIgnoreTheEnvironment: an earlier workflow step can set any
// variable for later ones (GITHUB_ENV). If one named an endpoint that got the
// client secret and refresh token, that step would receive them.
func TestEndpointsIgnoreTheEnvironment(t *testing.T) {
	env := map[string]string{
		EnvClientID: "cid", EnvClientSecret: "csecret", EnvRefreshToken: "refresh",
		"GOOGLE_OAUTH_TOKEN_URL": "http://127.0.0.1:1/token", "DRIVE_API_ENDPOINT": "http://127.0.0.1:1/drive/v3/",
	}
	c, err := CredentialsFromEnv(Credentials{}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.TokenURL != "" {
		t.Fatalf("TokenURL = %q taken from the environment", c.TokenURL)
	}
	// The token request goes to Google, not to the address in the environment.
	rec := &drivetest.HostRecorder{}
	_, err = New(context.Background(), c, Options{FolderID: "f", HTTPClient: &http.Client{Transport: rec}, Attempts: 1})
	if err == nil {
		t.Fatal("no error from a transport that refuses every request")
	}
	hosts := rec.Hosts()
	if len(hosts) == 0 {
		t.Fatal("no token request was made")
	}
	for _, h := range hosts {
		if h != "oauth2.googleapis.com" {
			t.Errorf("a request went to %s", h)
		}
	}
}
