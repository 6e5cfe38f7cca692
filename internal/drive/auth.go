// Package drive publishes the built notebook, the src/ scripts and a run's artifacts
// into one Google Drive folder laid out like PROJECT_ROOT, or, with no credentials,
// into a local folder laid out like Drive's MyDrive/product_categorization_project.
//
// A file that already exists in its target folder is updated in place, so the
// notebook keeps its file ID and therefore its Colab link across pushes.
package drive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
)

// Scope is full Drive access: drive.file would only reach files this app created,
// and the target folder is usually made by a person.
const Scope = "https://www.googleapis.com/auth/drive"

// Credentials are the ways a publish can authenticate, strongest first.
// Exactly one of them is used; see Credentials.kind.
type Credentials struct {
	// JSON is a key file: a service account key, an "authorized_user" file
	// (client_id, client_secret, refresh_token) or a workload identity
	// "external_account" configuration.
	JSON []byte
	// Source names where JSON came from, for messages (never the content).
	Source string

	ClientID, ClientSecret, RefreshToken string

	// AccessToken is a ready token, e.g. google-github-actions/auth's access_token output.
	AccessToken string

	// TokenURL overrides Google's token endpoint: tests point it at a local
	// server. It is set only from Go code, never from the environment, where
	// any earlier workflow step could redirect the client secret and refresh
	// token to itself (GITHUB_ENV).
	TokenURL string
}

// Env names read by CredentialsFromEnv; messages and the integration test refer to them.
const (
	EnvClientID           = "GOOGLE_OAUTH_CLIENT_ID"
	EnvClientSecret       = "GOOGLE_OAUTH_CLIENT_SECRET"
	EnvRefreshToken       = "GOOGLE_OAUTH_REFRESH_TOKEN"
	EnvServiceAccountJSON = "DRIVE_SERVICE_ACCOUNT_JSON"
	EnvCredentialsFile    = "GOOGLE_APPLICATION_CREDENTIALS"
	EnvAccessToken        = "GOOGLE_OAUTH_ACCESS_TOKEN"
	EnvCloudSDKToken      = "CLOUDSDK_AUTH_ACCESS_TOKEN"
)

// CredentialsFromEnv fills c's empty fields from the environment; fields already
// set (from flags or action inputs) win.
func CredentialsFromEnv(c Credentials, getenv func(string) string) (Credentials, error) {
	if c.ClientID == "" {
		c.ClientID = getenv(EnvClientID)
	}
	if c.ClientSecret == "" {
		c.ClientSecret = getenv(EnvClientSecret)
	}
	if c.RefreshToken == "" {
		c.RefreshToken = getenv(EnvRefreshToken)
	}
	if c.AccessToken == "" {
		c.AccessToken = getenv(EnvAccessToken)
	}
	if c.AccessToken == "" {
		c.AccessToken = getenv(EnvCloudSDKToken)
	}
	if len(c.JSON) == 0 && c.RefreshToken == "" && c.AccessToken == "" {
		if v := strings.TrimSpace(getenv(EnvServiceAccountJSON)); v != "" {
			c.JSON, c.Source = []byte(v), EnvServiceAccountJSON
		} else if f := getenv(EnvCredentialsFile); f != "" {
			b, err := os.ReadFile(f)
			if err != nil {
				return c, fmt.Errorf("%s points at %s, which cannot be read: %w", EnvCredentialsFile, f, err)
			}
			c.JSON, c.Source = b, f
		}
	}
	return c, nil
}

// Empty reports that no credentials were given at all: publish goes to a local folder.
func (c Credentials) Empty() bool {
	return len(strings.TrimSpace(string(c.JSON))) == 0 && c.RefreshToken == "" && c.AccessToken == "" &&
		c.ClientID == "" && c.ClientSecret == ""
}

// Secrets returns the values a log must never show, for ::add-mask::.
func (c Credentials) Secrets() []string {
	var out []string
	for _, s := range []string{c.ClientSecret, c.RefreshToken, c.AccessToken} {
		if s != "" {
			out = append(out, s)
		}
	}
	var key struct {
		PrivateKey   string `json:"private_key"`
		ClientSecret string `json:"client_secret"`
		RefreshToken string `json:"refresh_token"`
	}
	if json.Unmarshal(c.JSON, &key) == nil {
		for _, s := range []string{key.ClientSecret, key.RefreshToken} {
			if s != "" {
				out = append(out, s)
			}
		}
		// A PEM key spans lines and ::add-mask:: masks line by line.
		for _, line := range strings.Split(key.PrivateKey, "\n") {
			if len(line) > 16 && !strings.HasPrefix(line, "-----") {
				out = append(out, line)
			}
		}
	}
	return out
}

// Auth is a resolved token source plus what a message needs to say about it.
type Auth struct {
	TokenSource oauth2.TokenSource
	// Kind is "service account", "OAuth refresh token", "access token" or "external account".
	Kind string
	// Account is the service account's email when known.
	Account string
}

// ServiceAccount reports whether uploads are owned by a service account, which
// has no Drive storage of its own.
func (a *Auth) ServiceAccount() bool {
	return a.Kind == "service account" || a.Kind == "external account"
}

// ErrCredentials marks a problem with the credentials themselves, fixed by the user.
var ErrCredentials = errors.New("credentials")

type credErr struct {
	msg   string
	cause error // the error among credErrorf's arguments, if any
}

func (e *credErr) Error() string        { return e.msg }
func (e *credErr) Is(target error) bool { return target == ErrCredentials }
func (e *credErr) Unwrap() error        { return e.cause }

// credErrorf formats a credentials problem; an error among its arguments stays
// reachable through errors.Is / errors.As.
func credErrorf(format string, a ...any) error {
	e := &credErr{msg: fmt.Sprintf(format, a...)}
	for _, v := range a {
		if err, ok := v.(error); ok {
			e.cause = err
		}
	}
	return e
}

// Resolve turns c into a token source. hc carries the token requests (and their timeouts).
func (c Credentials) Resolve(ctx context.Context, hc *http.Client) (*Auth, error) {
	if hc != nil {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, hc)
	}
	tokenURL := c.TokenURL
	if tokenURL == "" {
		tokenURL = google.Endpoint.TokenURL
	}
	if c.AccessToken != "" {
		return &Auth{TokenSource: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: c.AccessToken, TokenType: "Bearer"}), Kind: "access token"}, nil
	}
	if len(strings.TrimSpace(string(c.JSON))) == 0 {
		return c.refreshTokenAuth(ctx, c.ClientID, c.ClientSecret, c.RefreshToken, tokenURL)
	}
	src := c.Source
	if src == "" {
		src = "the credentials JSON"
	}
	f, err := parseKeyFile(c.JSON, src)
	if err != nil {
		return nil, err
	}
	return c.keyFileAuth(ctx, f, src, tokenURL)
}

// keyFile is what Resolve reads of a credentials JSON, whichever kind it is.
type keyFile struct {
	Type         string          `json:"type"`
	ClientEmail  string          `json:"client_email"`
	PrivateKey   string          `json:"private_key"`
	ClientID     string          `json:"client_id"`
	ClientSecret string          `json:"client_secret"`
	RefreshToken string          `json:"refresh_token"`
	Installed    json.RawMessage `json:"installed"`
	Web          json.RawMessage `json:"web"`
}

// parseKeyFile reads a credentials JSON; src names it in the message when it is not JSON.
func parseKeyFile(data []byte, src string) (keyFile, error) {
	var f keyFile
	if err := json.Unmarshal(data, &f); err != nil {
		var se *json.SyntaxError
		where := ""
		if errors.As(err, &se) {
			where = fmt.Sprintf(" (syntax error at byte %d)", se.Offset)
		}
		return f, credErrorf("%s is not valid JSON%s: paste the whole downloaded key file, including the outer braces, into the secret", src, where)
	}
	return f, nil
}

// keyFileAuth picks the token source for the kind of key file f is.
func (c Credentials) keyFileAuth(ctx context.Context, f keyFile, src, tokenURL string) (*Auth, error) {
	switch {
	case f.Type == "service_account":
		return c.serviceAccountAuth(ctx, f, src)
	case f.Type == "authorized_user":
		// The file is one unit: its own refresh token beats a stray environment one.
		rt := f.RefreshToken
		if rt == "" {
			rt = c.RefreshToken
		}
		return c.refreshTokenAuth(ctx, f.ClientID, f.ClientSecret, rt, tokenURL)
	case f.Type == "external_account":
		creds, err := google.CredentialsFromJSONWithType(ctx, c.JSON, google.ExternalAccount, Scope)
		if err != nil {
			return nil, credErrorf("%s: workload identity configuration: %v", src, err)
		}
		return &Auth{TokenSource: creds.TokenSource, Kind: "external account"}, nil
	case f.Installed != nil || f.Web != nil:
		return c.oauthClientFileAuth(ctx, f, src, tokenURL)
	case f.Type == "":
		return nil, credErrorf("%s has no \"type\" field: expected a service account key (\"type\": \"service_account\") or an authorized_user file with client_id, client_secret and refresh_token", src)
	default:
		return nil, credErrorf("%s has type %q, which cannot publish to Drive: use a service account key, an authorized_user file or an OAuth refresh token", src, f.Type)
	}
}

// serviceAccountAuth signs its own tokens with the key's private key.
func (c Credentials) serviceAccountAuth(ctx context.Context, f keyFile, src string) (*Auth, error) {
	if f.ClientEmail == "" || f.PrivateKey == "" {
		return nil, credErrorf("%s is a service account key without client_email or private_key: download a new JSON key for the service account", src)
	}
	cfg, err := google.JWTConfigFromJSON(c.JSON, Scope)
	if err != nil {
		return nil, credErrorf("%s: %v", src, err)
	}
	if c.TokenURL != "" {
		cfg.TokenURL = c.TokenURL
	}
	return &Auth{TokenSource: cfg.TokenSource(ctx), Kind: "service account", Account: f.ClientEmail}, nil
}

// oauthClientFileAuth reads the OAuth client file from the Cloud console ("installed"
// or "web"); the refresh token comes separately.
func (c Credentials) oauthClientFileAuth(ctx context.Context, f keyFile, src, tokenURL string) (*Auth, error) {
	var client struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	raw := f.Installed
	if raw == nil {
		raw = f.Web
	}
	if err := json.Unmarshal(raw, &client); err != nil {
		return nil, credErrorf("%s: OAuth client file is malformed: %v", src, err)
	}
	return c.refreshTokenAuth(ctx, client.ClientID, client.ClientSecret, c.RefreshToken, tokenURL)
}

func (c Credentials) refreshTokenAuth(ctx context.Context, id, secret, refresh, tokenURL string) (*Auth, error) {
	var missing []string
	if id == "" {
		missing = append(missing, EnvClientID)
	}
	if secret == "" {
		missing = append(missing, EnvClientSecret)
	}
	if refresh == "" {
		missing = append(missing, EnvRefreshToken)
	}
	if len(missing) > 0 {
		return nil, credErrorf("OAuth credentials are incomplete: %s missing (an OAuth refresh token needs the client id, the client secret and the refresh token together)", strings.Join(missing, ", "))
	}
	cfg := &oauth2.Config{ClientID: id, ClientSecret: secret, Endpoint: oauth2.Endpoint{TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInParams}, Scopes: []string{Scope}}
	return &Auth{TokenSource: cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: refresh}), Kind: "OAuth refresh token"}, nil
}

// tokenError explains a failed token request; the token endpoint's answer says what to fix.
func tokenError(a *Auth, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		switch {
		case re.ErrorCode == "invalid_grant" && a.Kind == "OAuth refresh token":
			return credErrorf("the OAuth refresh token was refused (invalid_grant: revoked, expired or issued for another client). Create a new refresh token and update %s; if the OAuth consent screen is in \"Testing\" mode, tokens expire after 7 days, so publish it (\"In production\") first", EnvRefreshToken)
		case re.ErrorCode == "invalid_grant":
			return credErrorf("the service account key was refused (invalid_grant): the key was deleted or the clock is off; create a new JSON key for %s", a.Account)
		case re.ErrorCode == "invalid_client" || re.ErrorCode == "unauthorized_client":
			return credErrorf("the OAuth client was refused (%s): check %s and %s belong to the client that issued the refresh token", re.ErrorCode, EnvClientID, EnvClientSecret)
		}
		return credErrorf("the token endpoint refused the %s (HTTP %d %s): %s", a.Kind, re.Response.StatusCode, re.ErrorCode, strings.TrimSpace(re.ErrorDescription))
	}
	if strings.Contains(err.Error(), "private key") {
		return credErrorf("the service account key cannot be used: %v; download a new JSON key", err)
	}
	return fmt.Errorf("get an access token (%s): %w", a.Kind, err)
}
