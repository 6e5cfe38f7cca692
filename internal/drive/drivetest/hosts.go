package drivetest

import (
	"errors"
	"net/http"
	"sync"
)

// HostRecorder is an http.RoundTripper that refuses every request and remembers the host
// it was going to: a test that credentials never leave for an address an earlier
// workflow step chose sets it as the client's transport.
type HostRecorder struct {
	mu    sync.Mutex
	hosts []string
}

// ErrRefused is what HostRecorder answers every request with.
var ErrRefused = errors.New("refused by the test transport")

func (h *HostRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.hosts = append(h.hosts, req.URL.Host)
	return nil, ErrRefused
}

// Hosts lists the hosts asked so far, in order.
func (h *HostRecorder) Hosts() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.hosts...)
}
