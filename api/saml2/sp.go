package saml2

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/xml"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/waldur-go/waldur/internal/config"
)

// Paths of the SP's endpoints under the base URL.
const (
	pathMetadata = "/api-auth/saml2/metadata/"
	pathACS      = "/api-auth/saml2/login/complete/"
	pathSLO      = "/api-auth/saml2/logout/complete/"
)

// keys are the SP's key pairs, read once from the configured PEM files.
type keys struct {
	signer      crypto.Signer
	cert        *x509.Certificate
	encKey      *rsa.PrivateKey
	encCert     *x509.Certificate
	entityID    string
	metadataURL url.URL
	acsURL      url.URL
	sloURL      url.URL
}

// loadKeys reads the SP's keys and URLs; nil when SAML2 is not configured.
func loadKeys(cfg config.SAML2) (*keys, error) {
	if !cfg.Enabled() {
		return nil, nil
	}
	pair, err := loadPair(cfg.CertFile, cfg.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("SAML2 signing key: %w", err)
	}
	k := &keys{entityID: cfg.Entity()}
	k.cert, k.signer = pair.Leaf, pair.PrivateKey.(crypto.Signer)
	if cfg.EncryptionKeyFile != "" {
		enc, err := loadPair(cfg.EncryptionCertFile, cfg.EncryptionKeyFile)
		if err != nil {
			return nil, fmt.Errorf("SAML2 encryption key: %w", err)
		}
		rk, ok := enc.PrivateKey.(*rsa.PrivateKey)
		if !ok {
			return nil, errors.New("SAML2 encryption key: not an RSA key")
		}
		k.encKey, k.encCert = rk, enc.Leaf
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	for dst, p := range map[*url.URL]string{&k.metadataURL: pathMetadata, &k.acsURL: pathACS, &k.sloURL: pathSLO} {
		u, err := url.Parse(base + p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", config.EnvSAML2BaseURL, err)
		}
		*dst = *u
	}
	return k, nil
}

func loadPair(certFile, keyFile string) (*tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, err
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	if pair.Leaf == nil {
		if pair.Leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return nil, err
		}
	}
	if _, ok := pair.PrivateKey.(crypto.Signer); !ok {
		return nil, errors.New("the key cannot sign")
	}
	return &pair, nil
}

// serviceProvider is the SP towards one IdP (nil idp: for the metadata
// only), on the clock now, recording consumed assertions in replay.
func (k *keys) serviceProvider(idp *saml.EntityDescriptor, now time.Time, replay saml.AssertionReplayCache) *saml.ServiceProvider {
	sp := &saml.ServiceProvider{
		EntityID:                         k.entityID,
		Key:                              k.signer,
		Certificate:                      k.cert,
		MetadataURL:                      k.metadataURL,
		AcsURL:                           k.acsURL,
		SloURL:                           k.sloURL,
		IDPMetadata:                      idp,
		AuthnNameIDFormat:                saml.UnspecifiedNameIDFormat,
		LogoutBindings:                   []string{saml.HTTPRedirectBinding, saml.HTTPPostBinding},
		AssertionConsumerServiceBindings: []string{saml.HTTPPostBinding},
		MetadataValidDuration:            7 * 24 * time.Hour,
		ReplayCache:                      replay,
		Clock:                            dsig.NewFakeClockAt(now),
	}
	if _, ok := k.signer.(*rsa.PrivateKey); ok {
		sp.SignatureMethod = dsig.RSASHA256SignatureMethod
	}
	if k.encKey != nil {
		sp.EncryptionKey, sp.EncryptionCertificate = k.encKey, k.encCert
	}
	return sp
}

// replayCache records consumed assertion ids in the database, so every
// API replica refuses a replay.
type replayCache struct {
	ctx context.Context
	st  *Store
}

func (r replayCache) Consume(id string, expires time.Time) error {
	err := r.st.ConsumeAssertion(r.ctx, id, expires)
	if errors.Is(err, errReplayed) {
		return saml.ErrAssertionReplayed
	}
	return err
}

// parseEntity reads one IdP's stored metadata.
func parseEntity(metadata string) (*saml.EntityDescriptor, error) {
	return samlsp.ParseMetadata([]byte(metadata))
}

// peek is what is read from a SAML message before its signature is
// checked: who sent it and what it answers. Nothing here is trusted; it
// only picks the IdP whose keys then verify the message.
type peek struct {
	Issuer       string `xml:"Issuer"`
	InResponseTo string `xml:"InResponseTo,attr"`
	Assertion    struct {
		Issuer string `xml:"Issuer"`
	} `xml:"Assertion"`
}

func peekMessage(raw []byte) (issuer, inResponseTo string, err error) {
	var p peek
	if err := xml.Unmarshal(raw, &p); err != nil {
		return "", "", err
	}
	issuer = strings.TrimSpace(p.Issuer)
	if issuer == "" {
		issuer = strings.TrimSpace(p.Assertion.Issuer)
	}
	return issuer, p.InResponseTo, nil
}
