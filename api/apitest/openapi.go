// Package apitest holds helpers for API tests: validating real responses
// against Waldur's published OpenAPI contract.
package apitest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// EnvSpec overrides where the Waldur OpenAPI file is read from.
const EnvSpec = "WALDUR_OPENAPI_SPEC"

var (
	once   sync.Once
	router routers.Router
	errLd  error
)

// specPath is the committed copy of Waldur's OpenAPI 8.0.5 file
// (testdata/openapi-8.0.5.yaml, from shared/spec/waldur-api), so every
// test run validates against the same contract.
func specPath() string {
	if p := os.Getenv(EnvSpec); p != "" {
		return p
	}
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "testdata", "openapi-8.0.5.yaml")
}

func load() (routers.Router, error) {
	once.Do(func() {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromFile(specPath())
		if err != nil {
			errLd = fmt.Errorf("loading the Waldur OpenAPI file (%s): %w", specPath(), err)
			return
		}
		doc.Servers = openapi3.Servers{{URL: "http://example.com"}}
		router, errLd = gorillamux.NewRouter(doc)
	})
	return router, errLd
}

// ValidateResponse checks a recorded response against the operation the
// request maps to in Waldur's OpenAPI file: status documented, body valid
// against its schema (types, enums, required fields, formats).
func ValidateResponse(t testing.TB, req *http.Request, w *httptest.ResponseRecorder) {
	t.Helper()
	if err := Check(req, w.Code, w.Header(), w.Body.Bytes()); err != nil {
		t.Errorf("%s %s → %d does not match the OpenAPI contract: %v\nbody: %s", req.Method, req.URL.Path, w.Code, err, truncate(w.Body.String()))
	}
}

// Check is ValidateResponse returning the error.
func Check(req *http.Request, status int, header http.Header, body []byte) error {
	r, err := load()
	if err != nil {
		return err
	}
	u := *req.URL
	u.Scheme, u.Host = "http", "example.com"
	vreq := req.Clone(context.Background())
	vreq.URL = &u
	vreq.Host = "example.com"
	route, params, err := r.FindRoute(vreq)
	if err != nil && Ours(req.Method, req.URL.Path) {
		return nil // not in Waldur's contract; documented in ours (api/docs)
	}
	if err != nil {
		return fmt.Errorf("no operation for %s %s: %w", req.Method, req.URL.Path, err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route},
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	return openapi3filter.ValidateResponse(context.Background(), in)
}

// ours are the endpoints this platform adds to Waldur's API (each
// documented in our OpenAPI output, api/docs): "METHOD path" patterns.
var ours = []*regexp.Regexp{
	regexp.MustCompile(`^POST /api/marketplace-orders/preview/$`),
	regexp.MustCompile(`^POST /api/marketplace-provider-resources/[^/]+/set_endpoints/$`),
}

// Permission is one entry of an operation's x-permissions in Waldur's
// OpenAPI file: a permission and the scopes it is checked on, each a path of
// attributes from the operation's object ("project.customer",
// "offering.customer", "*" for the object itself).
type Permission struct {
	Permission string
	Scopes     []string
}

// Operation finds the operation of Waldur's OpenAPI file that method and a
// concrete path (e.g. /api/projects/x/) map to: its operationId and
// x-permissions. found is false when the file has no such operation.
func Operation(method, path string) (id string, perms []Permission, found bool, err error) {
	op, err := operation(method, path)
	if op == nil {
		return "", nil, false, err
	}
	raw, ok := op.Extensions["x-permissions"].([]any)
	if op.Extensions["x-permissions"] != nil && !ok {
		return "", nil, false, fmt.Errorf("%s %s: x-permissions is %T, not a list", method, path, op.Extensions["x-permissions"])
	}
	for _, e := range raw {
		m, _ := e.(map[string]any)
		p := Permission{}
		p.Permission, _ = m["permission"].(string)
		scopes, _ := m["scopes"].([]any)
		for _, sc := range scopes {
			if s, ok := sc.(string); ok {
				p.Scopes = append(p.Scopes, s)
			}
		}
		if p.Permission == "" || len(p.Scopes) == 0 {
			return "", nil, false, fmt.Errorf("%s %s: an x-permissions entry without permission or scopes: %v", method, path, e)
		}
		perms = append(perms, p)
	}
	return op.OperationID, perms, true, nil
}

// operation finds the operation of Waldur's OpenAPI file that method and a
// concrete path map to; nil (and no error) when the file has none.
func operation(method, path string) (*openapi3.Operation, error) {
	r, err := load()
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(method, "http://example.com"+path, nil)
	if err != nil {
		return nil, err
	}
	route, _, err := r.FindRoute(req)
	if err != nil {
		return nil, nil //nolint:nilerr // not in the file: found is false
	}
	return route.Operation, nil
}

// Ours tells whether an endpoint is one this platform adds to Waldur's API.
func Ours(method, path string) bool {
	for _, re := range ours {
		if re.MatchString(method + " " + path) {
			return true
		}
	}
	return false
}

func truncate(s string) string {
	if len(s) > 2000 {
		return s[:2000] + "…"
	}
	return strings.TrimSpace(s)
}

// QueryParam is a query parameter an operation of Waldur's OpenAPI file
// declares: its name, its schema's type ("string", "integer", "boolean",
// "number", "array") and format, and its enum values (of the items, for an
// array).
type QueryParam struct {
	Name, Type, Format string
	Enum               []string
}

// QueryParams lists the query parameters the operation that method and a
// concrete path map to declares; found is false when the file has no such
// operation.
func QueryParams(method, path string) (params []QueryParam, found bool, err error) {
	op, err := operation(method, path)
	if op == nil {
		return nil, false, err
	}
	for _, pr := range op.Parameters {
		p := pr.Value
		if p == nil || p.In != "query" {
			continue
		}
		q := QueryParam{Name: p.Name}
		if p.Schema != nil && p.Schema.Value != nil {
			s := p.Schema.Value
			if s.Type != nil && len(*s.Type) > 0 {
				q.Type = (*s.Type)[0]
			}
			q.Format = s.Format
			enum := s.Enum
			if q.Type == "array" && s.Items != nil && s.Items.Value != nil {
				enum = s.Items.Value.Enum
				if q.Format == "" {
					q.Format = s.Items.Value.Format
				}
			}
			for _, e := range enum {
				q.Enum = append(q.Enum, fmt.Sprint(e))
			}
		}
		params = append(params, q)
	}
	return params, true, nil
}

// ResponseSchema is what an operation of Waldur's OpenAPI file declares its
// JSON answer of one status to be: the schema's component name (the
// operationId for an inline one), whether the answer is a list of it, and
// the properties it declares (those of allOf parts too).
type ResponseSchema struct {
	Name       string
	List       bool
	Properties []string
}

// Response finds the declared JSON answer of method and a concrete path
// with the status; found is false when the file has no such operation, or
// the operation no JSON object answer of that status.
func Response(method, path string, status int) (rs ResponseSchema, found bool, err error) {
	op, err := operation(method, path)
	if op == nil || op.Responses == nil {
		return rs, false, err
	}
	resp := op.Responses.Status(status)
	if resp == nil || resp.Value == nil {
		return rs, false, nil
	}
	mt := resp.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
		return rs, false, nil
	}
	ref := mt.Schema
	if ref.Value.Type != nil && ref.Value.Type.Is("array") && ref.Value.Items != nil {
		rs.List, ref = true, ref.Value.Items
	}
	rs.Name = op.OperationID
	if ref.Ref != "" {
		rs.Name = ref.Ref[strings.LastIndex(ref.Ref, "/")+1:]
	}
	seen := map[string]bool{}
	var collect func(s *openapi3.SchemaRef)
	collect = func(s *openapi3.SchemaRef) {
		if s == nil || s.Value == nil {
			return
		}
		for name := range s.Value.Properties {
			if !seen[name] {
				seen[name] = true
				rs.Properties = append(rs.Properties, name)
			}
		}
		for _, part := range s.Value.AllOf {
			collect(part)
		}
	}
	collect(ref)
	sort.Strings(rs.Properties)
	return rs, len(rs.Properties) > 0, nil
}
