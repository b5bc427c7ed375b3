package saml2_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/identity"
	"github.com/waldur-go/waldur/api/saml2"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/rbac"
)

// signMetadata signs a metadata document's root element (enveloped,
// exclusive c14n) with the key pair in keyFile and certFile, as a
// federation signs its aggregate.
func signMetadata(t *testing.T, doc, keyFile, certFile string) string {
	t.Helper()
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	require.NoError(t, err)
	ctx := dsig.NewDefaultSigningContext(dsig.TLSCertKeyStore(pair))
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	d := etree.NewDocument()
	require.NoError(t, d.ReadFromString(doc))
	d.Root().CreateAttr("ID", "_federation")
	signed, err := ctx.SignEnveloped(d.Root())
	require.NoError(t, err)
	d.SetRoot(signed)
	out, err := d.WriteToString()
	require.NoError(t, err)
	return out
}

// TestSignedFederationMetadata: with a metadata signing certificate
// configured, a source is loaded only when its aggregate is signed with
// it; an unsigned, altered or foreign-signed aggregate is refused by the
// refresh and the IdPs loaded before are kept.
func TestSignedFederationMetadata(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		dir := t.TempDir()
		fedKey, fedCert := keyPair(t, filepath.Join(mkdir(t, dir, "fed")))
		otherKey, otherCert := keyPair(t, filepath.Join(mkdir(t, dir, "other")))
		src := filepath.Join(dir, "federation.xml")
		st := store.New(db)
		r := &saml2.Refresher{Store: saml2.NewStore(st), Sources: []string{src}, CertFile: fedCert}
		count := func() int64 {
			var n int64
			require.NoError(t, db.Table("saml2_identity_providers").Count(&n).Error)
			return n
		}

		require.NoError(t, os.WriteFile(src, []byte(signMetadata(t, aggregate(3, "fed"), fedKey, fedCert)), 0o600))
		n, err := r.SyncSource(ctx, src)
		require.NoError(t, err)
		require.Equal(t, 3, n)
		require.EqualValues(t, 3, count())

		for name, doc := range map[string]string{
			"unsigned":        aggregate(5, "fed"),
			"foreign-signed":  signMetadata(t, aggregate(5, "fed"), otherKey, otherCert),
			"altered":         strings.Replace(signMetadata(t, aggregate(5, "fed"), fedKey, fedCert), "fed University 1<", "Evil University 1<", 1),
			"signature moved": strings.Replace(signMetadata(t, aggregate(5, "fed"), fedKey, fedCert), `Name="nested"`, `Name="nested2"`, 1),
		} {
			require.NoError(t, os.WriteFile(src, []byte(doc), 0o600))
			_, err := r.SyncSource(ctx, src)
			require.Error(t, err, name)
			res, err := r.SyncSAML2Providers(ctx)
			require.Error(t, err, name)
			require.Equal(t, []string{src}, res.Failed, name)
			require.EqualValues(t, 3, count(), "%s: the IdPs loaded before are kept", name)
		}
		var names []string
		require.NoError(t, db.Table("saml2_identity_providers").Order("name").Pluck("name", &names).Error)
		require.Equal(t, []string{"fed University 0", "fed University 1", "fed University 2"}, names)

		// Without the setting the same unsigned aggregate loads.
		r.CertFile = ""
		n, err = r.SyncSource(ctx, src)
		require.NoError(t, err)
		require.Equal(t, 5, n)
	})
}

func mkdir(t *testing.T, parts ...string) string {
	t.Helper()
	p := filepath.Join(parts...)
	require.NoError(t, os.MkdirAll(p, 0o700))
	return p
}

// newSPWith is newSP with the configuration changed by set.
func newSPWith(t *testing.T, db *gorm.DB, dir string, set func(*config.SAML2)) *sp {
	t.Helper()
	st := store.New(db)
	cfg := config.SAML2{BaseURL: baseURL, KeyFile: filepath.Join(dir, "cert", "sp.key"),
		CertFile: filepath.Join(dir, "cert", "sp.crt"), RequestTTL: 10 * time.Minute}
	set(&cfg)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	m, err := saml2.New(saml2.Deps{Store: st, Config: cfg, Logger: log})
	require.NoError(t, err)
	chk, err := rbac.NewChecker(db)
	require.NoError(t, err)
	srv := httptest.NewServer(api.New(api.Deps{DB: db, Users: st, Sessions: st, Logger: log}, identity.New(identity.Deps{Store: st, RBAC: chk}), m).Handler())
	t.Cleanup(srv.Close)
	return &sp{t: t, srv: srv, st: st}
}

// unsolicited signs in at the IdP as user through its IdP-initiated SSO
// for this SP and returns the SAMLResponse it posts (no request of the SP
// answered).
func (b *browser) unsolicited(idpURL, user string) string {
	t := b.t
	t.Helper()
	resp, err := b.c.Get(idpURL + "/saml2/idp/SSOService.php?" + url.Values{"spentityid": {baseURL + "/api-auth/saml2/metadata/"}}.Encode())
	require.NoError(t, err)
	page := readAll(t, resp)
	for range 3 {
		action, vals := form(page)
		if r := vals.Get("SAMLResponse"); r != "" {
			return r
		}
		require.NotEmpty(t, vals.Get("AuthState"), "a login form: %s", page)
		vals.Set("username", user)
		vals.Set("password", user+"-pass")
		target, err := resp.Request.URL.Parse(action)
		require.NoError(t, err)
		resp, err = b.c.PostForm(target.String(), vals)
		require.NoError(t, err)
		page = readAll(t, resp)
	}
	t.Fatalf("no SAMLResponse from the IdP: %s", page)
	return ""
}

// acsNoFollow posts a SAMLResponse and returns the status, the Location
// and the JSON body.
func acsNoFollow(t *testing.T, srv *httptest.Server, samlResponse string) (int, string, map[string]any) {
	t.Helper()
	code, loc, out, _ := acsCookies(t, srv, samlResponse)
	return code, loc, out
}

// acsCookies is acsNoFollow with the cookies the answer sets.
func acsCookies(t *testing.T, srv *httptest.Server, samlResponse string) (int, string, map[string]any, map[string]string) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.PostForm(srv.URL+"/api-auth/saml2/login/complete/", url.Values{"SAMLResponse": {samlResponse}})
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	cookies := map[string]string{}
	for _, ck := range resp.Cookies() {
		cookies[ck.Name] = ck.Value
	}
	return resp.StatusCode, resp.Header.Get("Location"), out, cookies
}

// setScopes makes the stored metadata of the IdP declare scopes.
func setScopes(t *testing.T, db *gorm.DB, entityID string, scopes ...saml.ShibbolethScope) {
	t.Helper()
	var md string
	require.NoError(t, db.Table("saml2_identity_providers").Where("entity_id = ?", entityID).Pluck("metadata", &md).Error)
	ed, err := samlsp.ParseMetadata([]byte(md))
	require.NoError(t, err)
	ed.IDPSSODescriptors[0].Extensions = &saml.Extensions{ShibbolethScopes: scopes}
	out, err := xml.Marshal(ed)
	require.NoError(t, err)
	require.NoError(t, db.Table("saml2_identity_providers").Where("entity_id = ?", entityID).Update("metadata", string(out)).Error)
}

// TestSAML2LoginPolicies: through the real IdP, an IdP-initiated login is
// refused unless WALDUR_SAML2_ALLOW_UNSOLICITED allows it; a refused login
// goes to WALDUR_AUTH_LOGIN_FAILED_URL with the reason; an eppn outside
// the IdP's shibmd:Scope is refused; WALDUR_SAML2_ATTRIBUTE_MAP picks the
// attributes of the user fields.
func TestSAML2LoginPolicies(t *testing.T) {
	idpURL, dir := idp(t)
	idpEntity := idpURL + "/saml2/idp/metadata.php"
	const failed = "https://front.test/#/login_failed/"
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		strict := newSPWith(t, db, dir, func(c *config.SAML2) { c.LoginFailedURL = failed })
		_, err := (&saml2.Refresher{Store: saml2.NewStore(strict.st), Sources: []string{idpEntity}}).SyncSAML2Providers(ctx)
		require.NoError(t, err)

		// IdP-initiated, not allowed: to the failed page saying why; nothing created.
		before := counts(t, db)
		code, loc, _ := acsNoFollow(t, strict.srv, newBrowser(t).unsolicited(idpURL, "alice"))
		require.Equal(t, http.StatusFound, code)
		require.True(t, strings.HasPrefix(loc, failed+"?message="), loc)
		// The query follows the front end's hash route, as Waldur's does.
		_, q, _ := strings.Cut(loc, "?")
		vals, err := url.ParseQuery(q)
		require.NoError(t, err)
		require.Contains(t, vals.Get("message"), "does not answer a login request")
		require.Equal(t, before, counts(t, db))

		// Allowed: alice logs in; the attribute map fills first_name from
		// uid and the affiliations from mail.
		open := newSPWith(t, db, dir, func(c *config.SAML2) {
			c.AllowUnsolicited = true
			c.AttributeMap = map[string][]string{"uid": {"first_name"}, "mail": {"affiliations"}}
		})
		code, _, out := acsNoFollow(t, open.srv, newBrowser(t).unsolicited(idpURL, "alice"))
		require.Equal(t, http.StatusOK, code, out)
		code, me1 := me(t, open.srv, out["token"].(string))
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, "alice@idp.test", me1["username"])
		require.Equal(t, "alice", me1["first_name"])
		require.Equal(t, []any{"alice@idp.test"}, me1["affiliations"])

		// Scopes: an eppn outside them is refused (401, or the failed page).
		setScopes(t, db, idpEntity, saml.ShibbolethScope{Value: "other.test"})
		before = counts(t, db)
		code, _, out = acsNoFollow(t, open.srv, newBrowser(t).samlResponse(open.srv, idpEntity, "bob"))
		require.Equal(t, http.StatusUnauthorized, code, out)
		require.Equal(t, saml2.MsgOutOfScope, out["detail"])
		code, loc, _ = acsNoFollow(t, strict.srv, newBrowser(t).samlResponse(strict.srv, idpEntity, "bob"))
		require.Equal(t, http.StatusFound, code)
		require.Contains(t, loc, url.Values{"message": {saml2.MsgOutOfScope}}.Encode())
		require.Equal(t, before, counts(t, db), "nothing changed")
		// ... and within them (a regexp scope) accepted.
		setScopes(t, db, idpEntity, saml.ShibbolethScope{Value: "other.test"}, saml.ShibbolethScope{Value: `idp\.(test|example)`, Regexp: true})
		code, _, out, cookies := acsCookies(t, strict.srv, newBrowser(t).samlResponse(strict.srv, idpEntity, "bob"))
		require.Equal(t, http.StatusOK, code, out)
		require.Empty(t, cookies, "no session asked for")

		// A login started with ?session=true gets a browser session too.
		b := newBrowser(t)
		b.query = "?session=true"
		code, _, out, cookies = acsCookies(t, strict.srv, b.samlResponse(strict.srv, idpEntity, "bob"))
		require.Equal(t, http.StatusOK, code, out)
		require.NotEmpty(t, cookies["sessionid"])
		require.NotEmpty(t, cookies["csrftoken"])
		req, _ := http.NewRequest(http.MethodGet, strict.srv.URL+"/api/users/me/", nil)
		req.AddCookie(&http.Cookie{Name: "sessionid", Value: cookies["sessionid"]})
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		var who map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&who))
		resp.Body.Close()
		require.Equal(t, "bob@idp.test", who["username"])
		var method string
		require.NoError(t, db.Table("sessions").Pluck("method", &method).Error)
		require.Equal(t, "saml2", method)
	})
}

// TestScopes: the scope check of scoped values, literal and regexp.
func TestScopes(t *testing.T) {
	declared := []saml2.Scope{{Value: "uni.example"}, {Value: `[a-z]+\.fed\.example`, Regexp: true}}
	for v, want := range map[string]bool{
		"alice@uni.example": true, "alice@UNI.EXAMPLE": true, "member@dept.fed.example": true,
		"alice@evil.example": false, "alice@uni.example.evil": false, "x@a.b.fed.example": false, "x@fed.example": false,
		"unscoped": true,
	} {
		require.Equal(t, want, saml2.InScope(v, declared), v)
	}
	require.True(t, saml2.InScope("alice@anything", nil), "no scope declared: not checked")

	a := &saml.Assertion{AttributeStatements: []saml.AttributeStatement{{Attributes: []saml.Attribute{
		{Name: "eduPersonPrincipalName", Values: []saml.AttributeValue{{Value: "Alice@uni.example"}}},
		{Name: "eduPersonScopedAffiliation", Values: []saml.AttributeValue{{Value: "staff@uni.example"}, {Value: "faculty@evil.example"}}},
		{Name: "urn:oid:0.9.2342.19200300.100.1.1", FriendlyName: "uid", Values: []saml.AttributeValue{{Value: "alice"}}},
	}}}}
	m, err := saml2.NewMapper(nil).Map(a, declared)
	require.NoError(t, err)
	require.Equal(t, "alice@uni.example", m.Username)
	require.Equal(t, []string{"staff@uni.example"}, m.Affiliations, "the out-of-scope value dropped")
	_, err = saml2.NewMapper(nil).Map(a, []saml2.Scope{{Value: "other.example"}})
	require.ErrorContains(t, err, saml2.MsgOutOfScope)
	m, err = saml2.NewMapper(config.ParseSAML2AttributeMap("uid=username")).Map(a, declared)
	require.NoError(t, err)
	require.Equal(t, "alice", m.Username, "the mapped attribute, by its FriendlyName")
}
