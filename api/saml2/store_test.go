package saml2_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/saml2"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models/store"
)

// aggregate is a federation's metadata with n IdPs (and one SP, which is
// not an IdP), nested as eduGAIN nests them.
func aggregate(n int, prefix string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?>
<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:mdui="urn:oasis:names:tc:SAML:metadata:ui" Name="test-federation">
<md:EntityDescriptor entityID="https://sp.example.org/sp"><md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp.example.org/acs" index="0"/></md:SPSSODescriptor></md:EntityDescriptor>
<md:EntitiesDescriptor Name="nested">`)
	for i := range n {
		fmt.Fprintf(&b, `<md:EntityDescriptor entityID="https://idp%d.%s.example.org/idp"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<md:Extensions><mdui:UIInfo><mdui:DisplayName xml:lang="fi">Yliopisto %d</mdui:DisplayName><mdui:DisplayName xml:lang="en">%s University %d</mdui:DisplayName></mdui:UIInfo></md:Extensions>
<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp%d.%s.example.org/sso"/></md:IDPSSODescriptor>
<md:Organization><md:OrganizationName xml:lang="en">Org %d</md:OrganizationName><md:OrganizationDisplayName xml:lang="en">Org %d</md:OrganizationDisplayName><md:OrganizationURL xml:lang="en">https://example.org</md:OrganizationURL></md:Organization>
</md:EntityDescriptor>`, i, prefix, i, prefix, i, i, prefix, i, i)
	}
	b.WriteString(`</md:EntitiesDescriptor></md:EntitiesDescriptor>`)
	return b.String()
}

func listProviders(t *testing.T, h http.Handler, query string) (int, []map[string]any, string) {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api-auth/saml2/providers/"+query, nil))
	var out []map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &out)
	return w.Code, out, w.Header().Get("X-Result-Count")
}

// TestProvidersFromAFederationAggregate: a federation's aggregate of
// thousands of IdPs is loaded from a file, listed by name (searchable,
// paginated); a reload drops the IdPs gone from it and keeps another
// source's.
func TestProvidersFromAFederationAggregate(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		dir := t.TempDir()
		big, small := filepath.Join(dir, "federation.xml"), filepath.Join(dir, "single.xml")
		require.NoError(t, os.WriteFile(big, []byte(aggregate(3000, "fed")), 0o600))
		require.NoError(t, os.WriteFile(small, []byte(aggregate(1, "solo")), 0o600))
		st := store.New(db)
		r := &saml2.Refresher{Store: saml2.NewStore(st), Sources: []string{big, small, filepath.Join(dir, "missing.xml")}}
		res, err := r.SyncSAML2Providers(ctx)
		require.NoError(t, err)
		require.Equal(t, 3001, res.Providers)
		require.Equal(t, []string{filepath.Join(dir, "missing.xml")}, res.Failed)

		m, err := saml2.New(saml2.Deps{Store: st})
		require.NoError(t, err)
		h := api.New(api.Deps{DB: db, Users: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, m).Handler()
		code, page, count := listProviders(t, h, "")
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, "3001", count)
		require.Len(t, page, 10)
		require.Equal(t, map[string]any{"name": "fed University 0", "url": "https://idp0.fed.example.org/idp"}, page[0])

		// "University 299" is 299 and 2990-2999; page 2 of 5 a page.
		code, page, count = listProviders(t, h, "?name=UNIVERSITY%20299&page_size=5&page=2")
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, "11", count)
		require.Len(t, page, 5)
		require.Equal(t, "fed University 2994", page[0]["name"])
		code, _, _ = listProviders(t, h, "?name=University&page=999")
		require.Equal(t, http.StatusNotFound, code)
		code, page, count = listProviders(t, h, "?name=solo")
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, "1", count)
		require.Equal(t, "https://idp0.solo.example.org/idp", page[0]["url"])

		// The federation shrinks: its IdPs gone are dropped, the other source's kept.
		require.NoError(t, os.WriteFile(big, []byte(aggregate(10, "fed")), 0o600))
		n, err := r.SyncSource(ctx, big)
		require.NoError(t, err)
		require.Equal(t, 10, n)
		_, _, count = listProviders(t, h, "")
		require.Equal(t, "11", count)

		// A source that is not metadata changes nothing.
		require.NoError(t, os.WriteFile(big, []byte("<html>not metadata</html>"), 0o600))
		_, err = r.SyncSource(ctx, big)
		require.Error(t, err)
		_, _, count = listProviders(t, h, "")
		require.Equal(t, "11", count)
	})
}

// TestConsumedAssertions: an assertion id is taken once until it
// expires; pruning forgets the expired ones only.
func TestConsumedAssertions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		st := store.New(db)
		now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		st.Now = func() time.Time { return now }
		s := saml2.NewStore(st)
		require.NoError(t, s.ConsumeAssertion(ctx, "id-a", now.Add(5*time.Minute)))
		require.Error(t, s.ConsumeAssertion(ctx, "id-a", now.Add(5*time.Minute)), "a replay")
		require.NoError(t, s.ConsumeAssertion(ctx, "id-b", now.Add(time.Hour)))
		require.NoError(t, s.AddRequest(ctx, "req-1", "https://idp", now.Add(10*time.Minute)))
		ok, err := s.Request(ctx, "req-1", "https://idp")
		require.NoError(t, err)
		require.True(t, ok)
		ok, err = s.Request(ctx, "req-1", "https://other-idp")
		require.NoError(t, err)
		require.False(t, ok, "a request is answered by the IdP it went to")

		now = now.Add(30 * time.Minute)
		ok, err = s.Request(ctx, "req-1", "https://idp")
		require.NoError(t, err)
		require.False(t, ok, "expired")
		require.NoError(t, s.Prune(ctx))
		var ids []string
		require.NoError(t, db.Table("saml2_assertions").Order("id").Pluck("id", &ids).Error)
		require.Equal(t, []string{"id-b"}, ids, "id-a expired and is forgotten; id-b is kept")
		require.Error(t, s.ConsumeAssertion(ctx, "id-b", now.Add(time.Hour)), "still a replay")
		var n int64
		require.NoError(t, db.Table("saml2_requests").Count(&n).Error)
		require.Zero(t, n)
	})
}
