package identity

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// PermissionOut is one role of a user (Waldur's Permission schema).
type PermissionOut struct {
	UserUUID          models.UUID `json:"user_uuid"`
	UserName          string      `json:"user_name"`
	UserSlug          string      `json:"user_slug"`
	Created           time.Time   `json:"created"`
	ExpirationTime    *time.Time  `json:"expiration_time"`
	CreatedByFullName string      `json:"created_by_full_name"`
	CreatedByUsername string      `json:"created_by_username"`
	RoleName          string      `json:"role_name"`
	RoleDescription   string      `json:"role_description"`
	RoleUUID          models.UUID `json:"role_uuid"`
	ScopeType         string      `json:"scope_type"`
	ScopeUUID         models.UUID `json:"scope_uuid"`
	ScopeName         string      `json:"scope_name"`
	CustomerUUID      models.UUID `json:"customer_uuid"`
	CustomerName      string      `json:"customer_name"`
}

// UserOut is Waldur's User object. Some fields are shown only to some
// callers (see hiddenUserFields); fields this deployment has no data for
// are rendered empty of the right type (image, requested_email, identity
// provider details).
type UserOut struct {
	URL                           string                            `json:"url"`
	UUID                          models.UUID                       `json:"uuid"`
	Username                      string                            `json:"username"`
	Slug                          string                            `json:"slug"`
	FullName                      string                            `json:"full_name"`
	NativeName                    string                            `json:"native_name"`
	JobTitle                      string                            `json:"job_title"`
	Email                         string                            `json:"email"`
	PhoneNumber                   string                            `json:"phone_number"`
	Organization                  string                            `json:"organization"`
	CivilNumber                   *string                           `json:"civil_number"`
	Description                   string                            `json:"description"`
	IsStaff                       bool                              `json:"is_staff"`
	IsActive                      bool                              `json:"is_active"`
	IsSupport                     bool                              `json:"is_support"`
	Token                         string                            `json:"token"`
	TokenLifetime                 *int                              `json:"token_lifetime"`
	TokenExpiresAt                *time.Time                        `json:"token_expires_at"`
	RegistrationMethod            string                            `json:"registration_method"`
	DateJoined                    time.Time                         `json:"date_joined"`
	AgreementDate                 *time.Time                        `json:"agreement_date"`
	NotificationsEnabled          bool                              `json:"notifications_enabled"`
	PreferredLanguage             string                            `json:"preferred_language"`
	Permissions                   []PermissionOut                   `json:"permissions"`
	RequestedEmail                *string                           `json:"requested_email"`
	Affiliations                  []string                          `json:"affiliations"`
	FirstName                     string                            `json:"first_name"`
	LastName                      string                            `json:"last_name"`
	BirthDate                     *string                           `json:"birth_date"`
	IdentityProviderName          string                            `json:"identity_provider_name"`
	IdentityProviderLabel         string                            `json:"identity_provider_label"`
	IdentityProviderManagementURL string                            `json:"identity_provider_management_url"`
	IdentityProviderFields        []string                          `json:"identity_provider_fields"`
	Image                         *string                           `json:"image"`
	IdentitySource                string                            `json:"identity_source"`
	HasActiveSession              bool                              `json:"has_active_session"`
	IPAddress                     *string                           `json:"ip_address"`
	Gender                        *int                              `json:"gender"`
	PersonalTitle                 string                            `json:"personal_title"`
	PlaceOfBirth                  string                            `json:"place_of_birth"`
	CountryOfResidence            string                            `json:"country_of_residence"`
	Nationality                   string                            `json:"nationality"`
	Nationalities                 []string                          `json:"nationalities"`
	OrganizationCountry           string                            `json:"organization_country"`
	OrganizationType              string                            `json:"organization_type"`
	OrganizationRegistryCode      string                            `json:"organization_registry_code"`
	EdupersonAssurance            []string                          `json:"eduperson_assurance"`
	IsIdentityManager             bool                              `json:"is_identity_manager"`
	AttributeSources              map[string]models.AttributeSource `json:"attribute_sources"`
	ManagedISDs                   []string                          `json:"managed_isds"`
	ActiveISDs                    []string                          `json:"active_isds"`
}

// hiddenUserFields is Waldur's UserSerializer.get_fields for viewer looking
// at target: non-staff do not see the administrative flags (support does,
// read-only), the token is shown only to its owner and never under
// impersonation, the token lifetime and expiry to the owner and staff, and
// the identity-bridge fields to the owner and staff.
func hiddenUserFields(viewer *models.User, impersonated bool, target *store.UserProfile) map[string]bool {
	self := viewer.ID == target.ID
	drop := map[string]bool{}
	if !viewer.IsStaff {
		drop["attribute_sources"] = true
		if !self {
			drop["is_identity_manager"], drop["managed_isds"], drop["active_isds"] = true, true, true
		}
		if !viewer.IsSupport {
			drop["is_active"], drop["is_staff"], drop["is_support"], drop["description"] = true, true, true, true
			if !self {
				drop["has_active_session"] = true
			}
		}
	}
	if !self || impersonated {
		drop["token"] = true
	}
	if !self && !viewer.IsStaff {
		drop["token_lifetime"], drop["token_expires_at"] = true, true
	}
	return drop
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func fullName(first, last string) string {
	switch {
	case first != "" && last != "":
		return first + " " + last
	case first != "":
		return first
	default:
		return last
	}
}

// userOut converts a profile with its token (nil: none) and roles.
func userOut(c *gin.Context, p *store.UserProfile, tok *models.Token, perms []store.UserPermission) UserOut {
	out := UserOut{
		URL: rest.URL(c, "users", p.UUID), UUID: p.UUID, Username: p.Username, Slug: p.Slug,
		FullName: p.FullName(), NativeName: p.NativeName, JobTitle: p.JobTitle, Email: p.Email,
		PhoneNumber: p.PhoneNumber, Organization: p.Organization, CivilNumber: p.CivilNumber,
		Description: p.Description, IsStaff: p.IsStaff, IsActive: p.IsActive, IsSupport: p.IsSupport,
		TokenLifetime: p.TokenLifetime, RegistrationMethod: p.RegistrationMethod, DateJoined: p.DateJoined,
		AgreementDate: p.AgreementDate, NotificationsEnabled: p.NotificationsEnabled,
		PreferredLanguage: p.PreferredLanguage, Permissions: []PermissionOut{},
		Affiliations: orEmpty(p.Affiliations), FirstName: p.FirstName, LastName: p.LastName,
		IdentityProviderFields: []string{}, IdentitySource: p.IdentitySource, HasActiveSession: tok != nil,
		Gender: p.Gender, PersonalTitle: p.PersonalTitle, PlaceOfBirth: p.PlaceOfBirth,
		CountryOfResidence: p.CountryOfResidence, Nationality: p.Nationality,
		Nationalities: orEmpty(p.Nationalities), OrganizationCountry: p.OrganizationCountry,
		OrganizationType: p.OrganizationType, OrganizationRegistryCode: p.OrganizationRegistryCode,
		EdupersonAssurance: orEmpty(p.EdupersonAssurance), IsIdentityManager: p.IsIdentityManager,
		AttributeSources: p.AttributeSources, ManagedISDs: orEmpty(p.ManagedISDs), ActiveISDs: orEmpty(p.ActiveISDs),
	}
	if out.AttributeSources == nil {
		out.AttributeSources = map[string]models.AttributeSource{}
	}
	if p.BirthDate != nil {
		d := p.BirthDate.Format("2006-01-02")
		out.BirthDate = &d
	}
	if tok != nil {
		out.Token = tok.Key
		if p.TokenLifetime != nil {
			exp := tok.Created.Add(time.Duration(*p.TokenLifetime) * time.Second)
			out.TokenExpiresAt = &exp
		}
	}
	for _, r := range perms {
		out.Permissions = append(out.Permissions, PermissionOut{
			UserUUID: p.UUID, UserName: out.FullName, UserSlug: p.Slug, Created: r.Created,
			ExpirationTime: r.ExpirationTime, CreatedByFullName: r.CreatedByFullName(),
			CreatedByUsername: deref(r.CreatedByUsername), RoleName: r.RoleName, RoleDescription: r.RoleDescription,
			RoleUUID: r.RoleUUID, ScopeType: string(r.ScopeType), ScopeUUID: r.ScopeUUID, ScopeName: r.ScopeName,
			CustomerUUID: r.CustomerUUID, CustomerName: r.CustomerName,
		})
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// renderUsers renders profiles for the caller, loading the tokens and
// roles of all of them in two queries. ip, when not empty, is shown as
// ip_address (the me endpoint).
func (m *Module) renderUsers(c *gin.Context, rows []store.UserProfile, ip string) ([]json.RawMessage, error) {
	ctx := c.Request.Context()
	ids := make([]int64, len(rows))
	for i := range rows {
		ids[i] = rows[i].ID
	}
	toks, err := m.st.TokensOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	perms, err := m.st.UserPermissions(ctx, ids, m.now())
	if err != nil {
		return nil, err
	}
	viewer, impersonated := api.CurrentUser(c), api.Impersonator(c) != nil
	out := make([]json.RawMessage, len(rows))
	for i := range rows {
		p := &rows[i]
		var tok *models.Token
		if t, ok := toks[p.ID]; ok {
			tok = &t
		}
		u := userOut(c, p, tok, perms[p.ID])
		if ip != "" {
			u.IPAddress = &ip
		}
		b, err := json.Marshal(u)
		if err != nil {
			return nil, models.Internal(err)
		}
		if out[i], err = dropKeys(b, hiddenUserFields(viewer, impersonated, p)); err != nil {
			return nil, models.Internal(err)
		}
	}
	return out, nil
}

// renderUser writes one profile with status.
func (m *Module) renderUser(c *gin.Context, status int, p *store.UserProfile, ip string) error {
	out, err := m.renderUsers(c, []store.UserProfile{*p}, ip)
	if err != nil {
		return err
	}
	return rest.Render(c, status, out[0])
}

// dropKeys removes the named top-level keys of a JSON object, keeping the
// order of the others.
func dropKeys(b []byte, drop map[string]bool) (json.RawMessage, error) {
	if len(drop) == 0 {
		return b, nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object")
	}
	var out bytes.Buffer
	out.WriteByte('{')
	n := 0
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		if drop[key] {
			continue
		}
		if n > 0 {
			out.WriteByte(',')
		}
		n++
		k, _ := json.Marshal(key)
		out.Write(k)
		out.WriteByte(':')
		out.Write(v)
	}
	out.WriteByte('}')
	return out.Bytes(), nil
}
