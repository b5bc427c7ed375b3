package saml2

import (
	"strings"

	"github.com/crewjam/saml"

	"github.com/waldur-go/waldur/api/federated"
	"github.com/waldur-go/waldur/models"
)

// The attributes read from an assertion, by their SAML names: the LDAP
// name (SimpleSAMLphp's basic name format), its urn:oid: name (eduGAIN's
// uri format) or its FriendlyName. The username is the
// eduPersonPrincipalName, as Waldur's SAML_ATTRIBUTE_MAPPING maps it.
var attributeNames = map[string][]string{
	"username":     {"eduPersonPrincipalName", "urn:oid:1.3.6.1.4.1.5923.1.1.1.6"},
	"first_name":   {"givenName", "urn:oid:2.5.4.42"},
	"last_name":    {"sn", "surname", "urn:oid:2.5.4.4"},
	"full_name":    {"displayName", "cn", "urn:oid:2.16.840.1.113730.3.1.241", "urn:oid:2.5.4.3"},
	"email":        {"mail", "email", "urn:oid:0.9.2342.19200300.100.1.3"},
	"affiliations": {"eduPersonScopedAffiliation", "eduPersonAffiliation", "urn:oid:1.3.6.1.4.1.5923.1.1.1.9", "urn:oid:1.3.6.1.4.1.5923.1.1.1.1"},
	"organization": {"schacHomeOrganization", "o", "urn:oid:1.3.6.1.4.1.25178.1.2.9", "urn:oid:2.5.4.10"},
}

// Mapped are the user fields an assertion gives.
type Mapped = federated.Attributes

// values are the assertion's values of the first of names it carries.
func values(a *saml.Assertion, names []string) []string {
	for _, n := range names {
		for _, st := range a.AttributeStatements {
			for _, at := range st.Attributes {
				if at.Name != n && at.FriendlyName != n {
					continue
				}
				var out []string
				for _, v := range at.Values {
					if s := strings.TrimSpace(v.Value); s != "" {
						out = append(out, s)
					}
				}
				if len(out) > 0 {
					return out
				}
			}
		}
	}
	return nil
}

func first(a *saml.Assertion, field string) string {
	if v := values(a, attributeNames[field]); len(v) > 0 {
		return v[0]
	}
	return ""
}

// Map reads the user fields of a verified assertion. Codes: unauthorized
// (no usable username).
func Map(a *saml.Assertion) (Mapped, error) {
	m := Mapped{
		Username:     strings.ToLower(first(a, "username")),
		FirstName:    federated.Clip(first(a, "first_name"), 100),
		LastName:     federated.Clip(first(a, "last_name"), 100),
		Email:        federated.Clip(first(a, "email"), 320),
		Organization: federated.Clip(first(a, "organization"), 255),
		Affiliations: values(a, attributeNames["affiliations"]),
	}
	if m.FirstName == "" && m.LastName == "" {
		if full := first(a, "full_name"); full != "" {
			f, l, _ := strings.Cut(full, " ")
			m.FirstName, m.LastName = federated.Clip(f, 100), federated.Clip(strings.TrimSpace(l), 100)
		}
	}
	if m.Affiliations == nil {
		m.Affiliations = []string{}
	}
	if err := models.ValidateUsername(m.Username); err != nil {
		return m, models.Errorf(models.CodeUnauthorized, "SAML2 assertion has no valid eduPersonPrincipalName.")
	}
	return m, nil
}
