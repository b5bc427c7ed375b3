package saml2_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

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

// The IdP of the end-to-end tests: SimpleSAMLphp as scripts/simplesamlphp.sh
// starts it (scripts/test-deps.sh exports where).
const (
	envIdPURL = "WALDUR_TEST_SAML2_IDP_URL"
	envIdPDir = "WALDUR_TEST_SAML2_IDP_DIR"
	baseURL   = "http://127.0.0.1:8080" // the SP as the IdP knows it (SP_ACS_URL of the script)
	otherSP   = "http://127.0.0.1:8080/other-sp/"
)

// idp returns the IdP's URL and state directory, or skips the test saying
// why (and fails it under CI=true: CI runs it).
func idp(t *testing.T) (string, string) {
	t.Helper()
	u, dir := os.Getenv(envIdPURL), os.Getenv(envIdPDir)
	why := ""
	switch {
	case u == "" || dir == "":
		why = envIdPURL + " and " + envIdPDir + " are not set: no SimpleSAMLphp IdP (scripts/test-deps.sh starts one as root on Debian)"
	default:
		resp, err := http.Get(u + "/saml2/idp/metadata.php")
		if err != nil {
			why = "SimpleSAMLphp at " + u + " does not answer: " + err.Error()
		} else {
			resp.Body.Close()
		}
	}
	if why != "" {
		if os.Getenv("CI") == "true" {
			t.Fatal(why)
		}
		t.Skip(why)
	}
	return u, dir
}

// sp is an API with the SAML2 module (and identity's /api/users/me/) over
// db, configured as the IdP knows the SP.
type sp struct {
	t   *testing.T
	srv *httptest.Server
	st  *store.Store
}

func newSP(t *testing.T, db *gorm.DB, dir string, entityID string, now func() time.Time) *sp {
	t.Helper()
	st := store.New(db)
	cfg := config.SAML2{BaseURL: baseURL, EntityID: entityID, KeyFile: filepath.Join(dir, "cert", "sp.key"),
		CertFile: filepath.Join(dir, "cert", "sp.crt"), RequestTTL: 10 * time.Minute}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	m, err := saml2.New(saml2.Deps{Store: st, Config: cfg, Logger: log, Now: now})
	require.NoError(t, err)
	chk, err := rbac.NewChecker(db)
	require.NoError(t, err)
	srv := httptest.NewServer(api.New(api.Deps{DB: db, Users: st, Logger: log}, identity.New(identity.Deps{Store: st, RBAC: chk}), m).Handler())
	t.Cleanup(srv.Close)
	return &sp{t: t, srv: srv, st: st}
}

// browser follows the IdP's redirects and forms as a browser would; it
// stops at the SP (whose URLs are under baseURL).
type browser struct {
	t *testing.T
	c *http.Client
	// query is added to the SP's login URL (?session=true).
	query string
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, c: &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), baseURL) {
			return http.ErrUseLastResponse
		}
		return nil
	}}}
}

var (
	reForm  = regexp.MustCompile(`(?is)<form[^>]*action="([^"]*)"`)
	reInput = regexp.MustCompile(`(?is)<input[^>]*>`)
	reName  = regexp.MustCompile(`(?is)name="([^"]*)"`)
	reValue = regexp.MustCompile(`(?is)value="([^"]*)"`)
)

// noFollow is the browser's client stopping at the first redirect.
func (b *browser) noFollow() *http.Client {
	c := *b.c
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// form reads a page's first form: its action and its inputs.
func form(page string) (string, url.Values) {
	action := ""
	if m := reForm.FindStringSubmatch(page); m != nil {
		action = html.UnescapeString(m[1])
	}
	vals := url.Values{}
	for _, in := range reInput.FindAllString(page, -1) {
		n, v := reName.FindStringSubmatch(in), reValue.FindStringSubmatch(in)
		if n == nil {
			continue
		}
		val := ""
		if v != nil {
			val = html.UnescapeString(v[1])
		}
		vals.Set(html.UnescapeString(n[1]), val)
	}
	return action, vals
}

// samlResponse starts a login at the SP srv (its /login/ for the IdP),
// signs in at the IdP as user when asked and returns the SAMLResponse
// the IdP posts to the ACS.
func (b *browser) samlResponse(srv *httptest.Server, idpEntity, user string) string {
	t := b.t
	t.Helper()
	body, _ := json.Marshal(map[string]string{"idp": idpEntity})
	resp, err := b.noFollow().Post(srv.URL+"/api-auth/saml2/login/"+b.query, "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc := resp.Header.Get("Location")
	require.Contains(t, loc, "SAMLRequest=")
	require.Contains(t, loc, "Signature=", "the AuthnRequest is signed with the SP's key")

	resp, err = b.c.Get(loc)
	require.NoError(t, err)
	page := readAll(t, resp)
	for range 3 {
		action, vals := form(page)
		if r := vals.Get("SAMLResponse"); r != "" {
			require.Equal(t, baseURL+"/api-auth/saml2/login/complete/", action)
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

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Less(t, resp.StatusCode, 400, "%s: %s", resp.Request.URL, b)
	return string(b)
}

// acs posts a SAMLResponse to the SP's ACS as the IdP's form does.
func acs(t *testing.T, srv *httptest.Server, samlResponse string) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(srv.URL+"/api-auth/saml2/login/complete/", url.Values{"SAMLResponse": {samlResponse}})
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func counts(t *testing.T, db *gorm.DB) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, tbl := range []string{"users", "tokens", "saml2_sessions", "events"} {
		var n int64
		require.NoError(t, db.Table(tbl).Count(&n).Error)
		out[tbl] = n
	}
	return out
}

func me(t *testing.T, srv *httptest.Server, token string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/users/me/", nil)
	req.Header.Set("Authorization", "Token "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// TestLoginWithSimpleSAMLphp: the SP-initiated login through a real IdP
// (redirect binding, signed request, encrypted and signed assertion), the
// user created with the mapped attributes and then updated, the token
// working; a replayed, tampered, expired or wrong-audience response each
// refused with 401, changing nothing; single logout ends the session.
func TestLoginWithSimpleSAMLphp(t *testing.T) {
	idpURL, dir := idp(t)
	idpEntity := idpURL + "/saml2/idp/metadata.php"
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		a := newSP(t, db, dir, "", nil)
		r := &saml2.Refresher{Store: saml2.NewStore(a.st), Sources: []string{idpEntity}}
		res, err := r.SyncSAML2Providers(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, res.Providers)

		// The SP's metadata names its ACS and signing key.
		resp, err := http.Get(a.srv.URL + "/api-auth/saml2/metadata/")
		require.NoError(t, err)
		md := readAll(t, resp)
		require.Contains(t, md, `entityID="`+baseURL+`/api-auth/saml2/metadata/"`)
		require.Contains(t, md, baseURL+"/api-auth/saml2/login/complete/")

		// First login: alice is created from her attributes.
		b := newBrowser(t)
		code, out := acs(t, a.srv, b.samlResponse(a.srv, idpEntity, "alice"))
		require.Equal(t, http.StatusOK, code, out)
		token, _ := out["token"].(string)
		require.Len(t, token, 40)
		code, u := me(t, a.srv, token)
		require.Equal(t, http.StatusOK, code, u)
		require.Equal(t, "alice@idp.test", u["username"])
		require.Equal(t, "alice@idp.test", u["email"])
		require.Equal(t, "Alice", u["first_name"])
		require.Equal(t, "Anders", u["last_name"])
		require.Equal(t, "Test University", u["organization"])
		require.Equal(t, "saml2", u["registration_method"])
		require.ElementsMatch(t, []any{"staff", "member"}, u["affiliations"])

		// A later login updates the mapped attributes and gives the same token.
		require.NoError(t, db.Exec("UPDATE users SET first_name = 'Old', organization = 'Elsewhere' WHERE username = 'alice@idp.test'").Error)
		first := b.samlResponse(a.srv, idpEntity, "alice") // the IdP's session: no form this time
		code, out = acs(t, a.srv, first)
		require.Equal(t, http.StatusOK, code, out)
		require.Equal(t, token, out["token"])
		_, u = me(t, a.srv, token)
		require.Equal(t, "Alice", u["first_name"])
		require.Equal(t, "Test University", u["organization"])

		refusedUnchanged := func(name, response, detail string, sp *sp) {
			t.Helper()
			before := counts(t, db)
			code, out := acs(t, sp.srv, response)
			require.Equal(t, http.StatusUnauthorized, code, "%s: %v", name, out)
			require.Contains(t, out["detail"], detail, name)
			require.Equal(t, before, counts(t, db), "%s changed something", name)
		}

		// The same response again: its request is answered and its
		// assertion id recorded as consumed (until it would expire).
		var consumed int64
		require.NoError(t, db.Table("saml2_assertions").Where("expires > ?", time.Now()).Count(&consumed).Error)
		require.EqualValues(t, 2, consumed)
		refusedUnchanged("replayed", first, "SAML2", a)

		// Bob's response, expired: the SP's clock an hour on.
		b2 := newBrowser(t)
		bobs := b2.samlResponse(a.srv, idpEntity, "bob")
		late := newSP(t, db, dir, "", func() time.Time { return time.Now().UTC().Add(time.Hour) })
		refusedUnchanged("expired", bobs, "expired", late)

		// Bob's response, tampered: a byte of the encrypted assertion changed.
		raw, err := base64.StdEncoding.DecodeString(bobs)
		require.NoError(t, err)
		cv := regexp.MustCompile(`CipherValue>([A-Za-z0-9+/]{8})`).FindSubmatchIndex(raw)
		require.NotNil(t, cv, "the assertion is encrypted: %s", raw)
		tampered := append([]byte(nil), raw...)
		if tampered[cv[2]+4] == 'A' {
			tampered[cv[2]+4] = 'B'
		} else {
			tampered[cv[2]+4] = 'A'
		}
		refusedUnchanged("tampered ciphertext", base64.StdEncoding.EncodeToString(tampered), "SAML2", a)

		// A response for the other SP the IdP knows: another audience.
		other := newSP(t, db, dir, otherSP, nil)
		b3 := newBrowser(t)
		foreign := b3.samlResponse(other.srv, idpEntity, "bob")
		refusedUnchanged("another audience", foreign, "another service provider", a)
		// ... and tampered to name this SP: the signature no longer holds.
		raw, err = base64.StdEncoding.DecodeString(b3.samlResponse(other.srv, idpEntity, "bob"))
		require.NoError(t, err)
		require.Contains(t, string(raw), "<saml:Audience>"+otherSP+"</saml:Audience>")
		forged := strings.ReplaceAll(string(raw), "<saml:Audience>"+otherSP+"</saml:Audience>", "<saml:Audience>"+baseURL+"/api-auth/saml2/metadata/</saml:Audience>")
		refusedUnchanged("tampered audience", base64.StdEncoding.EncodeToString([]byte(forged)), "signature", a)

		// Bob was never created; the genuine response still logs him in.
		var n int64
		require.NoError(t, db.Table("users").Where("username = ?", "bob@idp.test").Count(&n).Error)
		require.Zero(t, n)
		code, out = acs(t, a.srv, bobs)
		require.Equal(t, http.StatusOK, code, out)

		// Single logout: alice's token ends here, the IdP answers the SLO.
		req, _ := http.NewRequest(http.MethodGet, a.srv.URL+"/api-auth/saml2/logout/", nil)
		req.Header.Set("Authorization", "Token "+token)
		resp, err = b.noFollow().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusFound, resp.StatusCode)
		require.Contains(t, resp.Header.Get("Location"), "SAMLRequest=")
		code, _ = me(t, a.srv, token)
		require.Equal(t, http.StatusUnauthorized, code, "the token is deleted")
		resp, err = b.c.Get(resp.Header.Get("Location"))
		require.NoError(t, err)
		page := readAll(t, resp)
		back := ""
		if resp.StatusCode == http.StatusFound {
			back = resp.Header.Get("Location")
		} else if action, vals := form(page); vals.Get("SAMLResponse") != "" {
			back = action + "?" + vals.Encode()
		}
		require.True(t, strings.HasPrefix(back, baseURL+"/api-auth/saml2/logout/complete/"), "the IdP answers the SP's SLO: %q %s", back, page)
		resp, err = http.Get(a.srv.URL + strings.TrimPrefix(back, baseURL))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, readAll(t, resp))
	})
}
