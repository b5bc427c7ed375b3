package topology_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// apiClient talks to the API replicas as one user, the way a client behind
// a load balancer does: each call goes to the next replica in turn.
type apiClient struct {
	bases []string // http://host:port of each replica
	token string
	http  *http.Client
	next  atomic.Uint64
}

func newAPIClient(token string, bases ...string) *apiClient {
	return &apiClient{bases: bases, token: token, http: &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 16, IdleConnTimeout: 30 * time.Second}}}
}

// errRefused: no replica accepted the connection, so nothing was sent and
// the call may be repeated safely.
var errRefused = errors.New("connection refused by every replica")

// refused tells a call that never reached a server (its connection was
// refused) from one whose outcome is unknown (reset, EOF, timeout).
func refused(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial" || errors.Is(err, syscall.ECONNREFUSED)
}

// call sends one request to replica i and decodes a JSON answer into out.
func (c *apiClient) call(i int, method, path string, body, out any) (int, http.Header, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	url := path
	if !strings.HasPrefix(path, "http") {
		url = c.bases[i%len(c.bases)] + path
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, nil, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Token "+c.token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, resp.Header, err
	}
	if out != nil && resp.StatusCode < 300 && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, resp.Header, fmt.Errorf("%s %s: %v: %s", method, path, err, raw)
		}
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, resp.Header, &httpError{status: resp.StatusCode, body: string(raw)}
	}
	return resp.StatusCode, resp.Header, nil
}

type httpError struct {
	status int
	body   string
}

func (e *httpError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.status, e.body) }

// do sends a request to the next replica; a refused connection is tried on
// the other replicas (nothing was sent), so a killed replica is invisible
// to the caller. Other errors are returned as they are.
func (c *apiClient) do(method, path string, body, out any) (int, error) {
	first := int(c.next.Add(1))
	for k := range c.bases {
		code, _, err := c.call(first+k, method, path, body, out)
		if err == nil || !refused(err) {
			return code, err
		}
	}
	return 0, errRefused
}

// retry repeats an idempotent call (GET, or an action the caller checks
// the effect of) until it answers want, for up to within: a replica being
// restarted, Temporal down (503) and the like pass.
func (c *apiClient) retry(t *testing.T, within time.Duration, want int, method, path string, body, out any) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		code, err := c.do(method, path, body, out)
		if code == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s %s: want %d, got %d after %s: %v", method, path, want, code, within, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// must is a call made while the topology is up: it has to answer want.
func (c *apiClient) must(t *testing.T, want int, method, path string, body, out any) {
	t.Helper()
	c.retry(t, 30*time.Second, want, method, path, body, out)
}

// list reads every page of a list endpoint (query: "?a=b" or "").
func (c *apiClient) list(method, path string) ([]map[string]any, error) {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	var all []map[string]any
	for page := 1; ; page++ {
		var items []map[string]any
		first := int(c.next.Add(1))
		var hdr http.Header
		var err error
		for k := range c.bases {
			_, hdr, err = c.call(first+k, method, path+sep+"page_size=300&page="+strconv.Itoa(page), nil, &items)
			if err == nil || !refused(err) {
				break
			}
		}
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		total, _ := strconv.Atoi(hdr.Get("X-Result-Count"))
		if len(items) == 0 || len(all) >= total {
			return all, nil
		}
	}
}

// mustList is list while the topology is up, retried for a while.
func (c *apiClient) mustList(t *testing.T, path string) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		items, err := c.list("GET", path)
		if err == nil {
			return items
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v", path, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}
