package oidc

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/waldur-go/waldur/api/federated"
	"github.com/waldur-go/waldur/models"
)

// waldurField is a user field a login sets from a claim.
type waldurField struct {
	Field, Description string
	// Claims are the claims that commonly carry it, most likely first.
	Claims []string
	// Scope is the scope that asks for those claims.
	Scope string
}

// waldurFields are the fields an attribute mapping may name.
var waldurFields = []waldurField{
	{"first_name", "First name", []string{"given_name", "first_name", "givenName"}, "profile"},
	{"last_name", "Last name", []string{"family_name", "last_name", "sn", "surname"}, "profile"},
	{"email", "Email address", []string{"email", "mail"}, "email"},
	{"organization", "Home organization", []string{"schac_home_organization", "organization", "org", "o"}, ""},
	{"affiliations", "Affiliations (list)", []string{"voperson_external_affiliation", "eduperson_scoped_affiliation", "eduperson_affiliation", "affiliation"}, ""},
}

func knownField(f string) bool {
	for _, w := range waldurFields {
		if w.Field == f {
			return true
		}
	}
	return false
}

// defaultMapping is the mapping of a provider configured without one.
func defaultMapping() map[string]string {
	return map[string]string{"first_name": "given_name", "last_name": "family_name", "email": "email",
		"organization": "schac_home_organization", "affiliations": "voperson_external_affiliation"}
}

// suggest maps each field to the first of its claims the provider
// supports, and names the scopes those claims need.
func suggest(supported []string) (map[string]string, []string) {
	has := map[string]bool{}
	for _, c := range supported {
		has[c] = true
	}
	out := map[string]string{}
	scopes := map[string]bool{"openid": true}
	for _, f := range waldurFields {
		for _, c := range f.Claims {
			if has[c] {
				out[f.Field] = c
				if f.Scope != "" {
					scopes[f.Scope] = true
				}
				break
			}
		}
	}
	var ss []string
	for s := range scopes {
		ss = append(ss, s)
	}
	sort.Strings(ss)
	return out, ss
}

// strings of a claim: a string, or a list of them.
func claimStrings(v any) []string {
	switch x := v.(type) {
	case string:
		if s := strings.TrimSpace(x); s != "" {
			return []string{s}
		}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok && strings.TrimSpace(s) != "" {
				out = append(out, strings.TrimSpace(s))
			}
		}
		return out
	case float64, bool:
		return []string{fmt.Sprint(x)}
	}
	return nil
}

func claim(claims map[string]any, name string) string {
	if v := claimStrings(claims[name]); len(v) > 0 {
		return v[0]
	}
	return ""
}

// mapClaims reads the user fields of a verified login's claims (the ID
// token's, the userinfo's over them). Codes: unauthorized (no usable
// lookup claim).
func mapClaims(p *IdentityProvider, claims map[string]any) (federated.Attributes, error) {
	m := p.AttributeMapping
	if len(m) == 0 {
		m = defaultMapping()
	}
	userClaim := p.UserClaim
	if userClaim == "" {
		userClaim = "sub"
	}
	a := federated.Attributes{
		Username:     strings.ToLower(claim(claims, userClaim)),
		FirstName:    federated.Clip(claim(claims, m["first_name"]), 100),
		LastName:     federated.Clip(claim(claims, m["last_name"]), 100),
		Email:        federated.Clip(claim(claims, m["email"]), 320),
		Organization: federated.Clip(claim(claims, m["organization"]), 255),
		Affiliations: claimStrings(claims[m["affiliations"]]),
	}
	if m["affiliations"] == "" {
		a.Affiliations = nil
	}
	if a.Affiliations == nil {
		a.Affiliations = []string{}
	}
	if p.UserField == "email" {
		// The claim identifies the user by email address; a new user's
		// username is the subject (a random one when it is not usable).
		email := strings.TrimSpace(claim(claims, userClaim))
		if !strings.Contains(email, "@") || len(email) > 320 {
			return a, models.Errorf(models.CodeUnauthorized, "%s error: the %s claim is not an email address.", p.Label, userClaim)
		}
		a.Email = email
		a.Username = strings.ToLower(claim(claims, "sub"))
		if models.ValidateUsername(a.Username) != nil {
			a.Username = models.NewUUID().String()[:30]
		}
		return a, nil
	}
	if err := models.ValidateUsername(a.Username); err != nil {
		return a, models.Errorf(models.CodeUnauthorized, "%s error: the %s claim is not a valid username.", p.Label, userClaim)
	}
	return a, nil
}

// UserFields are the user fields a provider's user_field may name: the
// one its user_claim identifies the user by.
var UserFields = []string{"username", "email"}

func decodeJSON(raw []byte, v any) error { return json.Unmarshal(raw, v) }
