package corpus_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/api/apitest"
)

var updateResponses = flag.Bool("update-responses", false, "rewrite docs/responses.md from the API corpus and Waldur's OpenAPI file")

// TestCompleteResponses checks the answers of the API corpus
// (testdata/corpus.json, which TestAPICorpus keeps equal to what the server
// answers) against Waldur's OpenAPI file: every property the response
// schema of the operation declares must be in every answered object, for
// every caller (null or empty where it does not apply). A property some
// answer lacks must be listed in testdata/fields-missing.txt ("Schema
// property", optionally ": reason"), or the test fails; so does a listed
// one every answer now has. docs/responses.md is the generated table
// (-update-responses). Only the answer's own objects are checked, not the
// objects nested in them.
func TestCompleteResponses(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "corpus.json"))
	require.NoError(t, err)
	var corpus map[string]struct {
		Status int             `json:"status"`
		Body   json.RawMessage `json:"body"`
	}
	require.NoError(t, json.Unmarshal(raw, &corpus))

	type schemaInfo struct {
		props   []string
		routes  map[string]bool
		missing map[string]bool // properties some answered object lacks
		objects int
	}
	schemas := map[string]*schemaInfo{}
	keys := make([]string, 0, len(corpus))
	for k := range corpus {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		ans := corpus[key]
		route := key[:strings.LastIndex(key, " ")]
		if ans.Status != http.StatusOK {
			continue
		}
		path := corpusParam.ReplaceAllString(route, "0badc0de0badc0de0badc0de0badc0de")
		rs, found, err := apitest.Response(http.MethodGet, path, ans.Status)
		require.NoError(t, err)
		if !found {
			continue
		}
		var objects []map[string]json.RawMessage
		if rs.List {
			if json.Unmarshal(ans.Body, &objects) != nil {
				continue // validated elsewhere (apitest.Check)
			}
		} else {
			var one map[string]json.RawMessage
			if json.Unmarshal(ans.Body, &one) != nil {
				continue
			}
			objects = append(objects, one)
		}
		info := schemas[rs.Name]
		if info == nil {
			info = &schemaInfo{props: rs.Properties, routes: map[string]bool{}, missing: map[string]bool{}}
			schemas[rs.Name] = info
		}
		if len(objects) > 0 {
			info.routes[route] = true
		}
		info.objects += len(objects)
		for _, o := range objects {
			for _, p := range rs.Properties {
				if _, ok := o[p]; !ok {
					info.missing[p] = true
				}
			}
		}
	}

	listed := readListed(t, "fields-missing.txt", false)
	for key := range listed {
		require.Len(t, strings.Fields(key), 2, "fields-missing.txt: %q is not \"Schema property[: reason]\"", key)
	}
	names := make([]string, 0, len(schemas))
	for n, info := range schemas {
		if info.objects > 0 {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var unlisted, stale []string
	present := map[string]bool{}
	total, totalMissing := 0, 0
	var b strings.Builder
	var rows strings.Builder
	for _, n := range names {
		info := schemas[n]
		var miss []string
		for _, p := range info.props {
			key := n + " " + p
			if info.missing[p] {
				miss = append(miss, p)
				if _, ok := listed[key]; !ok {
					unlisted = append(unlisted, key)
				}
			} else {
				present[key] = true
			}
		}
		total += len(info.props)
		totalMissing += len(miss)
		routes := make([]string, 0, len(info.routes))
		for r := range info.routes {
			routes = append(routes, "`"+r+"`")
		}
		sort.Strings(routes)
		cell := "complete"
		if len(miss) > 0 {
			cell = fmt.Sprintf("%d missing: `%s`", len(miss), strings.Join(miss, "`, `"))
		}
		fmt.Fprintf(&rows, "| `%s` | %d | %s | %s |\n", n, len(info.props), cell, strings.Join(routes, " "))
	}
	for key := range listed {
		if present[key] {
			stale = append(stale, key)
		}
	}
	sort.Strings(unlisted)
	sort.Strings(stale)

	fmt.Fprintf(&b, "# Completeness of the answers\n\n")
	fmt.Fprintf(&b, "For every response schema of Waldur's OpenAPI file (8.0.5) that a GET answer of the API corpus\n")
	fmt.Fprintf(&b, "(`internal/app/corpus/testdata/corpus.json`: the E2E preset, as staff and as a project member) is an object\n")
	fmt.Fprintf(&b, "or a list of, the properties the schema declares that some answered object lacks. Found by\n")
	fmt.Fprintf(&b, "`TestCompleteResponses`; each gap is listed in `internal/app/corpus/testdata/fields-missing.txt`, so a new\n")
	fmt.Fprintf(&b, "one fails the test. Regenerate with `go test ./internal/app/corpus/ -run TestCompleteResponses -update-responses`.\n\n")
	fmt.Fprintf(&b, "%d schemas, %d declared properties, %d missing somewhere.\n\n", len(names), total, totalMissing)
	fmt.Fprintf(&b, "| schema | properties | missing | answered by |\n|---|---|---|---|\n")
	b.WriteString(rows.String())

	doc := filepath.Join("..", "..", "..", "docs", "responses.md")
	if *updateResponses {
		require.NoError(t, os.WriteFile(doc, []byte(b.String()), 0o644))
	}
	require.Empty(t, unlisted, "declared properties some answer lacks: render them (null or empty where they do not apply), or list each in testdata/fields-missing.txt")
	require.Empty(t, stale, "listed as missing but every answer has them now: remove them from testdata/fields-missing.txt")
	committed, err := os.ReadFile(doc)
	require.NoError(t, err, "run with -update-responses")
	require.Equal(t, string(committed), b.String(), "docs/responses.md is stale: run with -update-responses")
}
