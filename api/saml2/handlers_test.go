package saml2_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
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

// keyPair writes a self-signed SP key pair into dir.
func keyPair(t *testing.T, dir string) (keyFile, certFile string) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	require.NoError(t, err)
	keyFile, certFile = filepath.Join(dir, "sp.key"), filepath.Join(dir, "sp.crt")
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}), 0o600))
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	return keyFile, certFile
}

func handler(t *testing.T, db *gorm.DB, cfg config.SAML2) http.Handler {
	t.Helper()
	st := store.New(db)
	m, err := saml2.New(saml2.Deps{Store: st, Config: cfg})
	require.NoError(t, err)
	return api.New(api.Deps{DB: db, Users: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, m).Handler()
}

func call(h http.Handler, method, path, ctype, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// TestSAML2Answers: not configured, the login routes answer 404; configured,
// the metadata is served, an unknown IdP is a 400 and a response that is
// not one a 401, each creating nothing.
func TestSAML2Answers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		off := handler(t, db, config.SAML2{})
		for _, p := range []string{"/api-auth/saml2/login/", "/api-auth/saml2/metadata/", "/api-auth/saml2/logout/complete/"} {
			w := call(off, http.MethodGet, p, "", "")
			require.Equal(t, http.StatusNotFound, w.Code, p)
			require.JSONEq(t, `{"detail":"SAML2 login is not configured."}`, w.Body.String())
		}
		require.Equal(t, http.StatusOK, call(off, http.MethodGet, "/api-auth/saml2/providers/", "", "").Code)

		key, cert := keyPair(t, t.TempDir())
		on := handler(t, db, config.SAML2{BaseURL: "https://waldur.example.org", KeyFile: key, CertFile: cert})
		w := call(on, http.MethodGet, "/api-auth/saml2/metadata/", "", "")
		require.Equal(t, http.StatusOK, w.Code)
		require.Contains(t, w.Body.String(), `entityID="https://waldur.example.org/api-auth/saml2/metadata/"`)
		require.Contains(t, w.Body.String(), `Location="https://waldur.example.org/api-auth/saml2/login/complete/"`)
		require.Contains(t, w.Body.String(), `Location="https://waldur.example.org/api-auth/saml2/logout/complete/"`)
		require.Contains(t, w.Body.String(), "X509Certificate")

		w = call(on, http.MethodPost, "/api-auth/saml2/login/", "application/json", `{"idp":"https://nowhere.example.org"}`)
		require.Equal(t, http.StatusBadRequest, w.Code)
		require.JSONEq(t, `{"idp":["Identity provider https://nowhere.example.org is not available."]}`, w.Body.String())
		w = call(on, http.MethodPost, "/api-auth/saml2/login/", "application/json", `{}`)
		require.Equal(t, http.StatusBadRequest, w.Code)
		require.JSONEq(t, `{"idp":["This field is required."]}`, w.Body.String())

		for _, body := range []string{"SAMLResponse=not%20base64%21", "SAMLResponse=PGZvbz4=", "SAMLResponse=" + "PHNhbWxwOlJlc3BvbnNlIHhtbG5zOnNhbWxwPSJ1cm46b2FzaXM6bmFtZXM6dGM6U0FNTDoyLjA6cHJvdG9jb2wiPjxzYW1sOklzc3VlciB4bWxuczpzYW1sPSJ1cm46b2FzaXM6bmFtZXM6dGM6U0FNTDoyLjA6YXNzZXJ0aW9uIj5odHRwczovL2V2aWw8L3NhbWw6SXNzdWVyPjwvc2FtbHA6UmVzcG9uc2U+"} {
			w = call(on, http.MethodPost, "/api-auth/saml2/login/complete/", "application/x-www-form-urlencoded", body)
			require.Equal(t, http.StatusUnauthorized, w.Code, body)
			require.JSONEq(t, `{"detail":"SAML2 response has errors."}`, w.Body.String())
		}
		w = call(on, http.MethodPost, "/api-auth/saml2/login/complete/", "application/json", `{}`)
		require.Equal(t, http.StatusBadRequest, w.Code)
		var n int64
		require.NoError(t, db.Table("users").Count(&n).Error)
		require.Zero(t, n)
	})
}
