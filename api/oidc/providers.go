package oidc

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
)

// IdentityProviderResponse is an OIDC provider as /api/identity-providers/
// renders it (Waldur's IdentityProvider); the client secret is never
// rendered in full: staff see its last four characters.
type IdentityProviderResponse struct {
	Provider                 string            `json:"provider" example:"keycloak"`
	Label                    string            `json:"label" example:"University SSO"`
	IsActive                 bool              `json:"is_active"`
	ClientID                 string            `json:"client_id" example:"waldur"`
	ClientSecret             string            `json:"client_secret" example:"********3f9a"`
	VerifySSL                bool              `json:"verify_ssl"`
	EnablePKCE               bool              `json:"enable_pkce"`
	EnablePostLogoutRedirect bool              `json:"enable_post_logout_redirect"`
	DiscoveryURL             string            `json:"discovery_url" example:"https://sso.example.org/realms/main/.well-known/openid-configuration"`
	AuthURL                  string            `json:"auth_url"`
	TokenURL                 string            `json:"token_url"`
	UserinfoURL              string            `json:"userinfo_url"`
	LogoutURL                string            `json:"logout_url"`
	ManagementURL            string            `json:"management_url"`
	ExtraScope               *string           `json:"extra_scope"`
	ExtraFields              *string           `json:"extra_fields"`
	UserField                string            `json:"user_field" example:"username"`
	UserClaim                string            `json:"user_claim" example:"sub"`
	AttributeMapping         map[string]string `json:"attribute_mapping"`
	ProtectedFields          []string          `json:"protected_fields"`
	AllowedRedirects         []string          `json:"allowed_redirects"`
}

// IdentityProviderRequest is the body of a create or update (PATCH: any
// subset of it).
type IdentityProviderRequest struct {
	Provider                 string            `json:"provider" example:"keycloak"`
	Label                    string            `json:"label" example:"University SSO"`
	IsActive                 *bool             `json:"is_active"`
	ClientID                 string            `json:"client_id" example:"waldur"`
	ClientSecret             string            `json:"client_secret" example:"s3cr3t"`
	VerifySSL                *bool             `json:"verify_ssl"`
	EnablePKCE               *bool             `json:"enable_pkce"`
	EnablePostLogoutRedirect *bool             `json:"enable_post_logout_redirect"`
	DiscoveryURL             string            `json:"discovery_url"`
	ManagementURL            string            `json:"management_url"`
	ExtraScope               *string           `json:"extra_scope" example:"profile email"`
	ExtraFields              *string           `json:"extra_fields"`
	UserField                string            `json:"user_field" example:"username"`
	UserClaim                string            `json:"user_claim" example:"sub"`
	AttributeMapping         map[string]string `json:"attribute_mapping"`
	ProtectedFields          []string          `json:"protected_fields"`
	AllowedRedirects         []string          `json:"allowed_redirects"`
}

// DiscoverMetadataRequest is the body of discover_metadata and generate-mapping.
type DiscoverMetadataRequest struct {
	DiscoveryURL string `json:"discovery_url" example:"https://sso.example.org/realms/main/.well-known/openid-configuration"`
	VerifySSL    *bool  `json:"verify_ssl"`
}

// WaldurFieldSuggestion is a user field with the claims that may fill it.
type WaldurFieldSuggestion struct {
	Field           string   `json:"field"`
	Description     string   `json:"description"`
	SuggestedClaims []string `json:"suggested_claims"`
	AvailableClaims []string `json:"available_claims"`
}

// DiscoverMetadataResponse is what discover_metadata finds.
type DiscoverMetadataResponse struct {
	ClaimsSupported []string                `json:"claims_supported"`
	ScopesSupported []string                `json:"scopes_supported"`
	Endpoints       map[string]string       `json:"endpoints"`
	SuggestedScopes []string                `json:"suggested_scopes"`
	WaldurFields    []WaldurFieldSuggestion `json:"waldur_fields"`
}

// GenerateMappingResponse is a suggested attribute mapping.
type GenerateMappingResponse struct {
	AttributeMapping map[string]string `json:"attribute_mapping"`
	ExtraScope       string            `json:"extra_scope"`
}

func maskSecret(s string) string {
	if len(s) < 12 {
		return "********"
	}
	return "********" + s[len(s)-4:]
}

func render(p *IdentityProvider, staff bool) IdentityProviderResponse {
	secret := ""
	if staff {
		secret = maskSecret(p.ClientSecret)
	}
	out := IdentityProviderResponse{Provider: p.Provider, Label: p.Label, IsActive: p.IsActive, ClientID: p.ClientID,
		ClientSecret: secret, VerifySSL: p.VerifySSL, EnablePKCE: p.EnablePKCE, EnablePostLogoutRedirect: p.EnablePostLogoutRedirect,
		DiscoveryURL: p.DiscoveryURL, AuthURL: p.AuthURL, TokenURL: p.TokenURL, UserinfoURL: p.UserinfoURL, LogoutURL: p.LogoutURL,
		ManagementURL: p.ManagementURL, ExtraScope: p.ExtraScope, ExtraFields: p.ExtraFields, UserField: p.UserField,
		UserClaim: p.UserClaim, AttributeMapping: p.AttributeMapping, ProtectedFields: p.ProtectedFields, AllowedRedirects: p.AllowedRedirects}
	if out.AttributeMapping == nil {
		out.AttributeMapping = map[string]string{}
	}
	if out.ProtectedFields == nil {
		out.ProtectedFields = []string{}
	}
	if out.AllowedRedirects == nil {
		out.AllowedRedirects = []string{}
	}
	if !staff {
		out.ClientID = ""
	}
	return out
}

func isStaff(c *gin.Context) bool { u := api.CurrentUser(c); return u != nil && u.IsStaff }

var listSpec = rest.ListSpec{
	Ordering:        map[string]string{"provider": "provider", "label": "label"},
	DefaultOrdering: []string{"provider"},
}

// list godoc
//
//	@Summary		List the OpenID Connect identity providers
//	@Description	The providers a login may use (/api-auth/<provider>/init/). Staff see all of them with their configuration; others, anonymous callers too (the login page), see the active ones without client credentials.
//	@Tags			identity-providers
//	@Produce		json
//	@Security		TokenAuth
//	@Param			page		query		int	false	"Page number"
//	@Param			page_size	query		int	false	"Page size"
//	@Success		200			{array}		IdentityProviderResponse
//	@Router			/api/identity-providers/ [get]
func (m *Module) list(c *gin.Context) error {
	staff := isStaff(c)
	return rest.List(c, m.store.Providers(c.Request.Context(), staff), listSpec, func(p *IdentityProvider) IdentityProviderResponse {
		return render(p, staff)
	})
}

// visible is the provider of the path as the caller may see it.
func (m *Module) visible(c *gin.Context) (*IdentityProvider, error) {
	p, err := m.store.Provider(c.Request.Context(), c.Param("provider"))
	if err != nil {
		return nil, err
	}
	if !p.IsActive && !isStaff(c) {
		return nil, models.Errorf(models.CodeNotFound, "Not found.")
	}
	return p, nil
}

// retrieve godoc
//
//	@Summary		Get an OpenID Connect identity provider
//	@Tags			identity-providers
//	@Produce		json
//	@Security		TokenAuth
//	@Param			provider	path		string	true	"Provider slug"
//	@Success		200			{object}	IdentityProviderResponse
//	@Failure		404			{object}	api.ErrorBody
//	@Router			/api/identity-providers/{provider}/ [get]
func (m *Module) retrieve(c *gin.Context) error {
	p, err := m.visible(c)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, render(p, isStaff(c)))
	return nil
}

var slugRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)

// validURL checks an http(s) URL.
func validURL(f *form.Form, k, v string) {
	if v == "" {
		return
	}
	if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		f.Fail(k, "Enter a valid URL.")
	}
}

// apply reads the body onto p; partial: absent fields keep their values.
func apply(f *form.Form, p *IdentityProvider, partial bool) {
	req := !partial
	if v, ok := f.Char("provider", form.Char{Max: 32, Required: req}); ok {
		if !slugRe.MatchString(v) {
			f.Fail("provider", "Enter a valid slug: lowercase letters, numbers, '.', '_' or '-'.")
		}
		p.Provider = v
	}
	if v, ok := f.Char("label", form.Char{Max: 200, Required: req}); ok {
		p.Label = v
	}
	if v, ok := f.Char("client_id", form.Char{Max: 200, Required: req}); ok {
		p.ClientID = v
	}
	// The secret as rendered (masked) keeps the stored one.
	if v, ok := f.Char("client_secret", form.Char{Max: 200, Required: req && p.ClientSecret == ""}); ok && v != maskSecret(p.ClientSecret) {
		p.ClientSecret = v
	}
	if v, ok := f.Char("discovery_url", form.Char{Max: 200, Required: req}); ok {
		validURL(f, "discovery_url", v)
		p.DiscoveryURL = v
	}
	if v, ok := f.Char("management_url", form.Char{Max: 200, AllowBlank: true}); ok {
		validURL(f, "management_url", v)
		p.ManagementURL = v
	}
	for k, dst := range map[string]*bool{"is_active": &p.IsActive, "verify_ssl": &p.VerifySSL, "enable_pkce": &p.EnablePKCE,
		"enable_post_logout_redirect": &p.EnablePostLogoutRedirect} {
		if v, ok := f.Bool(k); ok {
			*dst = v
		}
	}
	for k, dst := range map[string]**string{"extra_scope": &p.ExtraScope, "extra_fields": &p.ExtraFields} {
		if v, isNull, ok := f.NullableStr(k, 200, true); ok {
			if isNull {
				*dst = nil
			} else {
				*dst = &v
			}
		}
	}
	if v, ok := f.Char("user_field", form.Char{Max: 100}); ok {
		if !slices.Contains(UserFields, v) {
			f.Fail("user_field", "Must be one of: "+strings.Join(UserFields, ", ")+".")
		}
		p.UserField = v
	}
	if v, ok := f.Char("user_claim", form.Char{Max: 100}); ok {
		p.UserClaim = v
	}
	if raw, ok := f.Raw("attribute_mapping"); ok {
		var mp map[string]any
		if err := decodeJSON(raw, &mp); err != nil || mp == nil {
			f.Fail("attribute_mapping", "Expected a JSON object of field names to claim names.")
		} else {
			out := map[string]string{}
			for k, v := range mp {
				s, isStr := v.(string)
				switch {
				case !knownField(k):
					f.Fail("attribute_mapping", "Unknown user field: "+k+".")
				case !isStr || strings.TrimSpace(s) == "":
					f.Fail("attribute_mapping", "The claim of "+k+" must be a non-empty string.")
				default:
					out[k] = strings.TrimSpace(s)
				}
			}
			p.AttributeMapping = out
		}
	}
	if v, ok := f.StrList("protected_fields", false, form.Char{Max: 100}); ok {
		for _, k := range v {
			if !knownField(k) {
				f.Fail("protected_fields", "Unknown user field: "+k+".")
			}
		}
		p.ProtectedFields = v
	}
	if v, ok := f.StrList("allowed_redirects", false, form.Char{Max: 200}); ok {
		for _, r := range v {
			u, err := url.Parse(r)
			if err != nil || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" ||
				(u.Scheme != "https" && !(u.Scheme == "http" && (u.Hostname() == "localhost" || u.Hostname() == "127.0.0.1"))) {
				f.Fail("allowed_redirects", "Invalid redirect URL: "+r+" (an origin: scheme, host and port; HTTPS except for localhost).")
			}
		}
		p.AllowedRedirects = v
	}
}

// create godoc
//
//	@Summary		Add an OpenID Connect identity provider
//	@Description	Staff only. provider is the slug of its login routes (/api-auth/<provider>/init/); several providers may be configured at once. Defaults: is_active, verify_ssl and enable_pkce true, user_field username, user_claim sub, attribute_mapping given_name/family_name/email/schac_home_organization/voperson_external_affiliation. The endpoints (auth_url, token_url, userinfo_url, logout_url) are read from the discovery document at the first login.
//	@Tags			identity-providers
//	@Accept			json
//	@Produce		json
//	@Security		TokenAuth
//	@Param			body	body		IdentityProviderRequest	true	"The provider"
//	@Success		201		{object}	IdentityProviderResponse
//	@Failure		400		{object}	map[string][]string
//	@Failure		403		{object}	api.ErrorBody
//	@Router			/api/identity-providers/ [post]
func (m *Module) create(c *gin.Context) error {
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	p := &IdentityProvider{IsActive: true, VerifySSL: true, EnablePKCE: true, UserField: "username", UserClaim: "sub"}
	apply(f, p, false)
	if err := f.Err(); err != nil {
		return err
	}
	if len(p.AttributeMapping) == 0 {
		p.AttributeMapping = defaultMapping()
	}
	if err := m.store.CreateProvider(c.Request.Context(), p); err != nil {
		return err
	}
	c.JSON(http.StatusCreated, render(p, true))
	return nil
}

// update godoc
//
//	@Summary		Update an OpenID Connect identity provider
//	@Description	Staff only. PUT takes the whole provider, PATCH any part of it; a client_secret sent back as rendered (masked) keeps the stored secret.
//	@Tags			identity-providers
//	@Accept			json
//	@Produce		json
//	@Security		TokenAuth
//	@Param			provider	path		string					true	"Provider slug"
//	@Param			body		body		IdentityProviderRequest	true	"The provider"
//	@Success		200			{object}	IdentityProviderResponse
//	@Failure		400			{object}	map[string][]string
//	@Failure		403			{object}	api.ErrorBody
//	@Failure		404			{object}	api.ErrorBody
//	@Router			/api/identity-providers/{provider}/ [put]
//	@Router			/api/identity-providers/{provider}/ [patch]
func (m *Module) update(c *gin.Context) error {
	ctx := c.Request.Context()
	p, err := m.store.Provider(ctx, c.Param("provider"))
	if err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	apply(f, p, c.Request.Method == http.MethodPatch)
	if err := f.Err(); err != nil {
		return err
	}
	if err := m.store.SaveProvider(ctx, p); err != nil {
		return err
	}
	c.JSON(http.StatusOK, render(p, true))
	return nil
}

// destroy godoc
//
//	@Summary		Delete an OpenID Connect identity provider
//	@Description	Staff only. Its pending login requests are dropped; its users stay.
//	@Tags			identity-providers
//	@Security		TokenAuth
//	@Param			provider	path	string	true	"Provider slug"
//	@Success		204
//	@Failure		403	{object}	api.ErrorBody
//	@Failure		404	{object}	api.ErrorBody
//	@Router			/api/identity-providers/{provider}/ [delete]
func (m *Module) destroy(c *gin.Context) error {
	if err := m.store.DeleteProvider(c.Request.Context(), c.Param("provider")); err != nil {
		return err
	}
	m.mu.Lock()
	delete(m.clients, c.Param("provider"))
	m.mu.Unlock()
	return api.NoContent(c)
}

// fetchDiscovery reads the discovery document of the body's discovery_url.
func (m *Module) fetchDiscovery(c *gin.Context) (*gooidc.Provider, error) {
	f, err := form.Read(c)
	if err != nil {
		return nil, err
	}
	u, _ := f.Char("discovery_url", form.Char{Required: true, Max: 2000})
	validURL(f, "discovery_url", u)
	verify := true
	if v, ok := f.Bool("verify_ssl"); ok {
		verify = v
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), 30*time.Second)
	defer cancel()
	// The document's issuer need not match the URL here: this only reads it.
	ctx = gooidc.InsecureIssuerURLContext(gooidc.ClientContext(ctx, m.httpClient(verify)), "")
	prov, err := gooidc.NewProvider(ctx, issuerOf(u))
	if err != nil {
		m.log.Info("OIDC discovery failed", "url", u, "err", err)
		return nil, models.FieldError("discovery_url", "Unable to fetch OIDC discovery metadata: "+err.Error())
	}
	return prov, nil
}

type discoveryDoc struct {
	Claims     []string `json:"claims_supported"`
	Scopes     []string `json:"scopes_supported"`
	EndSession string   `json:"end_session_endpoint"`
	JWKS       string   `json:"jwks_uri"`
}

// discoverMetadata godoc
//
//	@Summary		Discover OIDC provider metadata
//	@Description	Staff only. Fetches OIDC discovery metadata from the provider and returns supported claims, scopes, and suggested mappings to Waldur User fields. Use this to configure attribute_mapping when setting up a new identity provider.
//	@Tags			identity-providers
//	@Accept			json
//	@Produce		json
//	@Security		TokenAuth
//	@Param			body	body		DiscoverMetadataRequest	true	"The discovery URL"
//	@Success		200		{object}	DiscoverMetadataResponse
//	@Failure		400		{object}	map[string][]string
//	@Failure		403		{object}	api.ErrorBody
//	@Router			/api/identity-providers/discover_metadata/ [post]
func (m *Module) discoverMetadata(c *gin.Context) error {
	prov, err := m.fetchDiscovery(c)
	if err != nil {
		return err
	}
	var d discoveryDoc
	_ = prov.Claims(&d)
	ep := prov.Endpoint()
	_, scopes := suggest(d.Claims)
	out := DiscoverMetadataResponse{ClaimsSupported: nonNil(d.Claims), ScopesSupported: nonNil(d.Scopes),
		Endpoints: map[string]string{"authorization_endpoint": ep.AuthURL, "token_endpoint": ep.TokenURL,
			"userinfo_endpoint": prov.UserInfoEndpoint(), "end_session_endpoint": d.EndSession, "jwks_uri": d.JWKS},
		SuggestedScopes: scopes, WaldurFields: []WaldurFieldSuggestion{}}
	has := map[string]bool{}
	for _, cl := range d.Claims {
		has[cl] = true
	}
	for _, w := range waldurFields {
		s := WaldurFieldSuggestion{Field: w.Field, Description: w.Description, SuggestedClaims: w.Claims, AvailableClaims: []string{}}
		for _, cl := range w.Claims {
			if has[cl] {
				s.AvailableClaims = append(s.AvailableClaims, cl)
			}
		}
		out.WaldurFields = append(out.WaldurFields, s)
	}
	c.JSON(http.StatusOK, out)
	return nil
}

// generateMapping godoc
//
//	@Summary		Generate default attribute mapping
//	@Description	Staff only. Generates a suggested attribute_mapping configuration based on the claims supported by an OIDC provider. This can be used as a starting point when creating a new identity provider.
//	@Tags			identity-providers
//	@Accept			json
//	@Produce		json
//	@Security		TokenAuth
//	@Param			body	body		DiscoverMetadataRequest	true	"The discovery URL"
//	@Success		200		{object}	GenerateMappingResponse
//	@Failure		400		{object}	map[string][]string
//	@Failure		403		{object}	api.ErrorBody
//	@Router			/api/identity-providers/generate-mapping/ [post]
func (m *Module) generateMapping(c *gin.Context) error {
	prov, err := m.fetchDiscovery(c)
	if err != nil {
		return err
	}
	var d discoveryDoc
	_ = prov.Claims(&d)
	mp, scopes := suggest(d.Claims)
	c.JSON(http.StatusOK, GenerateMappingResponse{AttributeMapping: mp, ExtraScope: strings.Join(scopes, " ")})
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
