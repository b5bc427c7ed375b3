package openstacktest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// service names the OpenStack service a route belongs to; it decides the
// error envelope and which faults apply.
type service string

const (
	svcIdentity service = "identity"
	svcCompute  service = "compute"
	svcVolume   service = "volume"
	svcNetwork  service = "network"
	svcImage    service = "image"
)

// apiError is an OpenStack error answer.
type apiError struct {
	status int
	kind   string // Nova/Cinder envelope key or Neutron error type; derived from status when empty
	msg    string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s", e.status, e.msg) }

func errf(status int, format string, args ...any) *apiError {
	return &apiError{status: status, msg: fmt.Sprintf(format, args...)}
}

// neutronErr is a Neutron error with its exception type (NetworkNotFound, OverQuota, ...).
func neutronErr(status int, kind, format string, args ...any) *apiError {
	return &apiError{status: status, kind: kind, msg: fmt.Sprintf(format, args...)}
}

// call is one API request being handled, with the emulator locked.
type call struct {
	e   *Emulator
	w   http.ResponseWriter
	r   *http.Request
	svc service
	tok *token
	now time.Time
	mv  int // negotiated minor microversion (Nova, Cinder)
}

func (c *call) s() *store { return c.e.st }

// isAdmin tells whether the token's user holds the admin role on the token's scope.
func (c *call) isAdmin() bool { return c.tok != nil && c.e.tokenIsAdmin(c.tok) }

func (c *call) projectID() string {
	if c.tok == nil {
		return ""
	}
	return c.tok.projectID
}

func (c *call) userID() string {
	if c.tok == nil {
		return ""
	}
	return c.tok.userID
}

func (c *call) query() url.Values { return c.r.URL.Query() }

// base is the URL the client reached the emulator at (or Options.PublicURL).
func (c *call) base() string {
	if c.e.opts.PublicURL != "" {
		return strings.TrimRight(c.e.opts.PublicURL, "/")
	}
	scheme := "http"
	if c.r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + c.r.Host
}

// decode reads a JSON body into v; a body that is not JSON is a 400.
func (c *call) decode(v any) *apiError {
	body, err := io.ReadAll(io.LimitReader(c.r.Body, 8<<20))
	if err != nil {
		return errf(http.StatusBadRequest, "cannot read the request body: %v", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return errf(http.StatusBadRequest, "The request body is empty")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return errf(http.StatusBadRequest, "Malformed request body: %v", err)
	}
	return nil
}

func (c *call) json(status int, v any) {
	c.w.Header().Set("Content-Type", "application/json")
	c.w.WriteHeader(status)
	if v != nil {
		_ = json.NewEncoder(c.w).Encode(v)
	}
}

func (c *call) noContent(status int) { c.w.WriteHeader(status) }

// fail writes err in the envelope of the call's service.
func (c *call) fail(err *apiError) { writeError(c.w, c.svc, err) }

func writeError(w http.ResponseWriter, svc service, err *apiError) {
	var body any
	switch svc {
	case svcIdentity:
		body = map[string]any{"error": map[string]any{"code": err.status, "title": http.StatusText(err.status), "message": err.msg}}
	case svcNetwork:
		kind := err.kind
		if kind == "" {
			kind = neutronKinds[err.status]
		}
		body = map[string]any{"NeutronError": map[string]any{"type": kind, "message": err.msg, "detail": ""}}
	case svcImage:
		body = map[string]any{"code": err.status, "title": http.StatusText(err.status), "message": err.msg}
	default: // Nova and Cinder
		kind := err.kind
		if kind == "" {
			kind = novaKinds[err.status]
		}
		if kind == "" {
			kind = "computeFault"
		}
		inner := map[string]any{"code": err.status, "message": err.msg}
		if err.status == http.StatusRequestEntityTooLarge {
			inner["retryAfter"] = "0"
		}
		body = map[string]any{kind: inner}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(err.status)
	_ = json.NewEncoder(w).Encode(body)
}

var novaKinds = map[int]string{
	400: "badRequest", 401: "unauthorized", 403: "forbidden", 404: "itemNotFound", 405: "badMethod", 406: "notAcceptable",
	409: "conflictingRequest", 413: "overLimit", 500: "computeFault", 501: "notImplemented", 503: "serviceUnavailable",
}

var neutronKinds = map[int]string{
	400: "HTTPBadRequest", 401: "HTTPUnauthorized", 403: "HTTPForbidden", 404: "HTTPNotFound", 409: "HTTPConflict",
	500: "HTTPInternalServerError", 503: "HTTPServiceUnavailable",
}

// Time formats of the services.
const (
	novaTime     = "2006-01-02T15:04:05Z"
	cinderTime   = "2006-01-02T15:04:05.000000"
	keystoneTime = "2006-01-02T15:04:05.000000Z"
)

func tNova(t time.Time) string     { return t.UTC().Format(novaTime) }
func tCinder(t time.Time) string   { return t.UTC().Format(cinderTime) }
func tKeystone(t time.Time) string { return t.UTC().Format(keystoneTime) }

// nullable is a JSON field that tells absent, null and a value apart.
type nullable[T any] struct {
	Set  bool
	Null bool
	V    T
}

func (n *nullable[T]) UnmarshalJSON(b []byte) error {
	n.Set = true
	if string(bytes.TrimSpace(b)) == "null" {
		n.Null = true
		return nil
	}
	return json.Unmarshal(b, &n.V)
}

// orNull renders "" as JSON null.
func orNull(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// filterMaps keeps the rendered resources whose fields match every query
// parameter that names a field (Neutron's and Keystone's exact-match filters;
// repeated parameters match any of their values). skip lists parameters that
// are not filters.
func filterMaps(items []map[string]any, q url.Values, skip ...string) []map[string]any {
	skipSet := map[string]bool{"fields": true, "limit": true, "marker": true, "sort_key": true, "sort_dir": true,
		"page_reverse": true, "sort": true, "all_tenants": true}
	for _, k := range skip {
		skipSet[k] = true
	}
	out := items[:0:0]
	for _, it := range items {
		ok := true
		for k, vals := range q {
			if skipSet[k] {
				continue
			}
			if field, op, isOp := strings.Cut(k, "__"); isOp { // Keystone's name__contains and friends
				if s, isStr := it[field].(string); isStr && !matchOp(s, op, vals[0]) {
					ok = false
					break
				}
				continue
			}
			v, present := it[k]
			if !present {
				continue // unknown filters are ignored, as the services do
			}
			if !matchAny(v, vals) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, it)
		}
	}
	return out
}

func matchOp(s, op, want string) bool {
	if strings.HasPrefix(op, "i") {
		s, want, op = strings.ToLower(s), strings.ToLower(want), op[1:]
	}
	switch op {
	case "contains":
		return strings.Contains(s, want)
	case "startswith":
		return strings.HasPrefix(s, want)
	case "endswith":
		return strings.HasSuffix(s, want)
	}
	return true
}

func matchAny(v any, vals []string) bool {
	for _, want := range vals {
		if matchOne(v, want) {
			return true
		}
	}
	return false
}

func matchOne(v any, want string) bool {
	switch t := v.(type) {
	case nil:
		return want == "" || want == "None" || want == "null"
	case string:
		return t == want
	case bool:
		b, err := strconv.ParseBool(want)
		return err == nil && b == t
	case int:
		return strconv.Itoa(t) == want
	case []string:
		for _, s := range t {
			if s == want {
				return true
			}
		}
		return false
	default:
		return fmt.Sprint(t) == want
	}
}

// onlyFields applies Neutron's ?fields= projection.
func onlyFields(items []map[string]any, q url.Values) []map[string]any {
	fields := q["fields"]
	if len(fields) == 0 {
		return items
	}
	out := make([]map[string]any, len(items))
	for i, it := range items {
		m := map[string]any{}
		for _, f := range fields {
			if v, ok := it[f]; ok {
				m[f] = v
			}
		}
		out[i] = m
	}
	return out
}

// page applies limit and marker; next is the id to continue after, or "".
func page(items []map[string]any, q url.Values) ([]map[string]any, string, *apiError) {
	if m := q.Get("marker"); m != "" {
		i := indexOf(items, m)
		if i < 0 {
			return nil, "", errf(http.StatusBadRequest, "marker [%s] not found", m)
		}
		items = items[i+1:]
	}
	limit := 0
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 0 {
			return nil, "", errf(http.StatusBadRequest, "limit must be a non-negative integer")
		}
		limit = n
	}
	if limit > 0 && len(items) > limit {
		items = items[:limit]
		return items, fmt.Sprint(items[len(items)-1]["id"]), nil
	}
	return items, "", nil
}

// skipOffset drops the first offset items (the offset parameter of Nova's
// server groups and Cinder's lists). Applied before page, a next link (which
// keeps offset and sets marker) still continues where its page ended.
func skipOffset(items []map[string]any, q url.Values) ([]map[string]any, *apiError) {
	o := q.Get("offset")
	if o == "" {
		return items, nil
	}
	n, err := strconv.Atoi(o)
	if err != nil || n < 0 {
		return nil, errf(http.StatusBadRequest, "Invalid input for field/attribute offset. Value: %s. offset must be a non-negative integer", o)
	}
	return items[min(n, len(items)):], nil
}

// boolValue reads a JSON boolean as the services' schemas do (true/false or
// their string forms: "true", "1", "yes", "on", ...); nil is false. ok is
// false for anything else.
func boolValue(v any) (b, ok bool) {
	switch t := v.(type) {
	case nil:
		return false, true
	case bool:
		return t, true
	case string:
		switch strings.ToLower(t) {
		case "1", "t", "true", "on", "y", "yes":
			return true, true
		case "0", "f", "false", "off", "n", "no":
			return false, true
		}
	}
	return false, false
}

func indexOf(items []map[string]any, id string) int {
	for i, it := range items {
		if fmt.Sprint(it["id"]) == id {
			return i
		}
	}
	return -1
}

// nextLink is the URL of the next page: the request's URL with marker replaced.
func (c *call) nextLink(next string) string {
	q := c.query()
	q.Set("marker", next)
	return c.base() + c.r.URL.Path + "?" + q.Encode()
}

// pageLinks renders the "<collection>_links" list of Nova, Cinder and Neutron.
func (c *call) pageLinks(next string) []map[string]any {
	if next == "" {
		return []map[string]any{}
	}
	return []map[string]any{{"rel": "next", "href": c.nextLink(next)}}
}

// nameMatches is Nova's name filter: a regular expression searched in the name.
func nameMatches(pattern, name string) bool {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return strings.Contains(name, pattern)
	}
	return re.MatchString(name)
}

func boolParam(q url.Values, key string) bool {
	v := strings.ToLower(q.Get(key))
	return v == "1" || v == "true" || v == "yes" || v == "on"
}
