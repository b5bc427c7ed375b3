package saml2

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/crewjam/saml"
)

// MaxMetadataSize bounds one metadata source (eduGAIN's aggregate is
// ~80 MB today).
const MaxMetadataSize = 512 << 20

var metadataClient = &http.Client{Timeout: 5 * time.Minute}

// ReadSource reads a metadata source: an http(s) URL or a file path.
func ReadSource(ctx context.Context, source string) ([]byte, error) {
	var r io.Reader
	if strings.HasPrefix(source, "http://") || strings.HasPrefix(source, "https://") {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, source, nil)
		if err != nil {
			return nil, err
		}
		resp, err := metadataClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("%s: HTTP %d", source, resp.StatusCode)
		}
		r = resp.Body
	} else {
		f, err := os.Open(strings.TrimPrefix(source, "file://"))
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxMetadataSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxMetadataSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", source, MaxMetadataSize)
	}
	return data, nil
}

// names is the light view of a metadata document the display names are
// read from (mdui:DisplayName is not in crewjam's types).
type names struct {
	EntityID string     `xml:"entityID,attr"`
	IdPs     []namesIdP `xml:"IDPSSODescriptor"`
	Org      namesOrg   `xml:"Organization"`
	Entities []names    `xml:"EntityDescriptor"`
	Nested   []names    `xml:"EntitiesDescriptor"`
}

type namesIdP struct {
	DisplayNames []saml.LocalizedName `xml:"Extensions>UIInfo>DisplayName"`
}

type namesOrg struct {
	DisplayNames []saml.LocalizedName `xml:"OrganizationDisplayName"`
	Names        []saml.LocalizedName `xml:"OrganizationName"`
}

func (n *names) walk(out map[string]string) {
	if n.EntityID != "" && len(n.IdPs) > 0 {
		name := pickName(n.IdPs[0].DisplayNames)
		if name == "" {
			name = pickName(n.Org.DisplayNames)
		}
		if name == "" {
			name = pickName(n.Org.Names)
		}
		if name == "" {
			name = n.EntityID
		}
		out[n.EntityID] = name
	}
	for i := range n.Entities {
		n.Entities[i].walk(out)
	}
	for i := range n.Nested {
		n.Nested[i].walk(out)
	}
}

// pickName is the English name, else the first.
func pickName(ls []saml.LocalizedName) string {
	for _, l := range ls {
		if strings.HasPrefix(strings.ToLower(l.Lang), "en") && strings.TrimSpace(l.Value) != "" {
			return strings.TrimSpace(l.Value)
		}
	}
	for _, l := range ls {
		if v := strings.TrimSpace(l.Value); v != "" {
			return v
		}
	}
	return ""
}

// ParseIdPs returns the identity providers of a metadata document: a
// single EntityDescriptor or a federation's EntitiesDescriptor aggregate
// (nested ones too). Each keeps its own EntityDescriptor as its metadata;
// entities without an IDPSSODescriptor are left out.
func ParseIdPs(data []byte) ([]IdentityProvider, error) {
	var root struct{ XMLName xml.Name }
	if err := xml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	var entities []saml.EntityDescriptor
	switch root.XMLName.Local {
	case "EntityDescriptor":
		var e saml.EntityDescriptor
		if err := xml.Unmarshal(data, &e); err != nil {
			return nil, fmt.Errorf("metadata: %w", err)
		}
		entities = append(entities, e)
	case "EntitiesDescriptor":
		var es saml.EntitiesDescriptor
		if err := xml.Unmarshal(data, &es); err != nil {
			return nil, fmt.Errorf("metadata: %w", err)
		}
		var flatten func(es *saml.EntitiesDescriptor)
		flatten = func(es *saml.EntitiesDescriptor) {
			entities = append(entities, es.EntityDescriptors...)
			for i := range es.EntitiesDescriptors {
				flatten(&es.EntitiesDescriptors[i])
			}
		}
		flatten(&es)
	default:
		return nil, errors.New("metadata: neither an EntityDescriptor nor an EntitiesDescriptor")
	}
	var n names
	if err := xml.Unmarshal(data, &n); err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	display := map[string]string{}
	n.walk(display)

	out := make([]IdentityProvider, 0, len(entities))
	for i := range entities {
		e := &entities[i]
		if len(e.IDPSSODescriptors) == 0 || e.EntityID == "" || len(e.EntityID) > 1024 {
			continue
		}
		e.Signature = nil // the aggregate's signature does not cover a single entity
		raw, err := xml.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("metadata of %s: %w", e.EntityID, err)
		}
		name := display[e.EntityID]
		if name == "" {
			name = e.EntityID
		}
		if r := []rune(name); len(r) > 255 {
			name = string(r[:255])
		}
		out = append(out, IdentityProvider{EntityID: e.EntityID, Name: name, Metadata: string(raw)})
	}
	return out, nil
}

// LoadMetadataCerts reads the PEM certificates a metadata source must be
// signed with (WALDUR_SAML2_METADATA_CERT_FILE); "" gives none.
func LoadMetadataCerts(file string) ([]*x509.Certificate, error) {
	if file == "" {
		return nil, nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var out []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no PEM certificate in it", file)
	}
	return out, nil
}

// VerifyMetadata checks that a metadata document's root element (the
// federation's EntitiesDescriptor, or a single EntityDescriptor) is
// signed by one of certs and returns what the signature covers, the only
// part to be parsed: a document unsigned, signed by another key or
// altered after signing is an error.
func VerifyMetadata(data []byte, certs []*x509.Certificate) ([]byte, error) {
	signed, err := saml.VerifyMetadataSignature(data, certs)
	if err != nil {
		return nil, fmt.Errorf("metadata signature: %w", err)
	}
	return signed, nil
}

// Scope is a shibmd:Scope an IdP declares: the scopes (the part after
// "@") of the scoped attribute values it may assert, a literal domain or,
// with Regexp, a regular expression.
type Scope = saml.ShibbolethScope

// scopes are the shibmd:Scope elements of an IdP's metadata (its
// IDPSSODescriptors' extensions).
func scopes(ed *saml.EntityDescriptor) []Scope {
	var out []Scope
	for _, d := range ed.IDPSSODescriptors {
		if d.Extensions != nil {
			out = append(out, d.Extensions.ShibbolethScopes...)
		}
	}
	return out
}

// InScope tells whether a scoped value (user@domain) is within the
// declared scopes, as Shibboleth's ScopedAttributeDecoder and scope
// filter check it: the part after the last "@" equal to a literal scope
// (case-insensitive) or wholly matched by a regexp one. An IdP declaring
// no scope is not checked; a value without "@" has no scope to check.
func InScope(value string, declared []Scope) bool {
	if len(declared) == 0 {
		return true
	}
	i := strings.LastIndexByte(value, '@')
	if i < 0 {
		return true
	}
	scope := value[i+1:]
	for _, s := range declared {
		v := strings.TrimSpace(s.Value)
		if !s.Regexp {
			if strings.EqualFold(v, scope) {
				return true
			}
			continue
		}
		re, err := regexp.Compile(`^(?:` + v + `)$`)
		if err == nil && re.MatchString(scope) {
			return true
		}
	}
	return false
}
