package saml2

import (
	"slices"
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

// Mapper reads the user fields of assertions: attributeNames, with the
// fields an operator's WALDUR_SAML2_ATTRIBUTE_MAP names read from the
// attributes it maps to them instead.
type Mapper struct{ names map[string][]string }

// NewMapper is the mapper of an attribute map (attribute name -> fields;
// nil: the defaults).
func NewMapper(attrMap map[string][]string) *Mapper {
	names := map[string][]string{}
	for f, ns := range attributeNames {
		names[f] = ns
	}
	custom := map[string][]string{}
	for attr, fields := range attrMap {
		for _, f := range fields {
			custom[f] = append(custom[f], attr)
		}
	}
	for f, ns := range custom {
		slices.Sort(ns) // a map's order is random; the mapping must not be
		names[f] = ns
	}
	return &Mapper{names: names}
}

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

func (m *Mapper) first(a *saml.Assertion, field string) string {
	if v := values(a, m.names[field]); len(v) > 0 {
		return v[0]
	}
	return ""
}

// Map reads the user fields of a verified assertion with the default
// attribute names and no scope check.
func Map(a *saml.Assertion) (Mapped, error) { return NewMapper(nil).Map(a, nil) }

// Map reads the user fields of a verified assertion from an IdP declaring
// scopes: a scoped username (eduPersonPrincipalName) outside them is
// refused and scoped affiliations outside them are dropped, as
// Shibboleth's scope filter drops them. Codes: unauthorized (no usable
// username, or one out of scope).
func (m *Mapper) Map(a *saml.Assertion, declared []Scope) (Mapped, error) {
	out := Mapped{
		Username:     strings.ToLower(m.first(a, "username")),
		FirstName:    federated.Clip(m.first(a, "first_name"), 100),
		LastName:     federated.Clip(m.first(a, "last_name"), 100),
		Email:        federated.Clip(m.first(a, "email"), 320),
		Organization: federated.Clip(m.first(a, "organization"), 255),
		Affiliations: []string{},
	}
	for _, v := range values(a, m.names["affiliations"]) {
		if InScope(v, declared) {
			out.Affiliations = append(out.Affiliations, v)
		}
	}
	if out.FirstName == "" && out.LastName == "" {
		if full := m.first(a, "full_name"); full != "" {
			f, l, _ := strings.Cut(full, " ")
			out.FirstName, out.LastName = federated.Clip(f, 100), federated.Clip(strings.TrimSpace(l), 100)
		}
	}
	if !InScope(out.Username, declared) {
		return out, models.Errorf(models.CodeUnauthorized, "%s", MsgOutOfScope)
	}
	if err := models.ValidateUsername(out.Username); err != nil {
		return out, models.Errorf(models.CodeUnauthorized, "%s", MsgNoUsername)
	}
	return out, nil
}

// Messages of a mapping refused.
const (
	MsgNoUsername = "SAML2 assertion has no valid eduPersonPrincipalName."
	MsgOutOfScope = "SAML2 assertion names a user outside the scopes of its identity provider."
)
