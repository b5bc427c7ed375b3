package identity

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// UserRequest documents the writable fields of a user (Waldur's
// UserRequest). username and email are taken on create only; slug,
// description, is_staff, is_active, is_support, notifications_enabled,
// is_identity_manager and managed_isds from staff only; token_lifetime
// from the user and staff. password (create only, optional) is an addition: Waldur sets
// passwords with change_password.
type UserRequest struct {
	Username                 string   `json:"username"`
	Email                    string   `json:"email"`
	Password                 string   `json:"password,omitempty"`
	Slug                     string   `json:"slug,omitempty"`
	NativeName               string   `json:"native_name,omitempty"`
	JobTitle                 string   `json:"job_title,omitempty"`
	PhoneNumber              string   `json:"phone_number,omitempty"`
	Organization             string   `json:"organization,omitempty"`
	Description              string   `json:"description,omitempty"`
	IsStaff                  bool     `json:"is_staff,omitempty"`
	IsActive                 bool     `json:"is_active,omitempty"`
	IsSupport                bool     `json:"is_support,omitempty"`
	TokenLifetime            *int     `json:"token_lifetime,omitempty"`
	AgreeWithPolicy          bool     `json:"agree_with_policy,omitempty"`
	NotificationsEnabled     bool     `json:"notifications_enabled,omitempty"`
	PreferredLanguage        string   `json:"preferred_language,omitempty"`
	FirstName                string   `json:"first_name,omitempty"`
	LastName                 string   `json:"last_name,omitempty"`
	BirthDate                *string  `json:"birth_date,omitempty"`
	Gender                   *int     `json:"gender,omitempty"`
	PersonalTitle            string   `json:"personal_title,omitempty"`
	PlaceOfBirth             string   `json:"place_of_birth,omitempty"`
	CountryOfResidence       string   `json:"country_of_residence,omitempty"`
	Nationality              string   `json:"nationality,omitempty"`
	Nationalities            []string `json:"nationalities,omitempty"`
	OrganizationCountry      string   `json:"organization_country,omitempty"`
	OrganizationType         string   `json:"organization_type,omitempty"`
	OrganizationRegistryCode string   `json:"organization_registry_code,omitempty"`
	EdupersonAssurance       []string `json:"eduperson_assurance,omitempty"`
	IsIdentityManager        bool     `json:"is_identity_manager,omitempty"`
	ManagedISDs              []string `json:"managed_isds,omitempty" example:"isd:puhuri"`
}

// PasswordChangeRequest is the body of change_password.
type PasswordChangeRequest struct {
	NewPassword string `json:"new_password"`
}

// UserAuthToken is a user's token as staff see it (Waldur's UserAuthToken).
type UserAuthToken struct {
	Created           time.Time `json:"created"`
	UserFirstName     string    `json:"user_first_name"`
	UserLastName      string    `json:"user_last_name"`
	UserUsername      string    `json:"user_username"`
	UserIsActive      bool      `json:"user_is_active"`
	UserTokenLifetime *int      `json:"user_token_lifetime"`
	Token             string    `json:"token"`
}

// emailRe is a pragmatic form of Django's EmailValidator (stricter than
// form.Email: a user's address needs a real domain or localhost).
var emailRe = regexp.MustCompile(`^[^@\s]+@([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9-]{2,63}$|^[^@\s]+@localhost$`)

func validEmail(s string) bool { return len(s) <= 320 && emailRe.MatchString(s) }

// writer says which fields the caller may set.
type writer struct{ staff, self bool }

// applyUserFields reads the fields the caller may set from f into p and
// returns the changed columns. Fields the caller may not set are ignored,
// as DRF drops them from the serializer.
func applyUserFields(f *form.Form, p *store.UserProfile, w writer) map[string]any {
	ch := map[string]any{}
	text := func(k string, max int, dst *string) {
		if v, ok := str(f, k, max, true); ok {
			*dst = v
			ch[k] = v
		}
	}
	flag := func(k string, dst *bool) {
		if v, ok := f.Bool(k); ok {
			*dst = v
			ch[k] = v
		}
	}
	list := func(k string, dst *[]string) {
		if v, ok := f.StrList(k, false, form.Char{Max: 255}); ok {
			*dst = v
			b, _ := json.Marshal(v)
			ch[k] = string(b)
		}
	}
	text("native_name", 100, &p.NativeName)
	text("job_title", 120, &p.JobTitle)
	text("phone_number", 255, &p.PhoneNumber)
	text("organization", 255, &p.Organization)
	text("preferred_language", 10, &p.PreferredLanguage)
	text("first_name", 100, &p.FirstName)
	text("last_name", 100, &p.LastName)
	text("personal_title", 50, &p.PersonalTitle)
	text("place_of_birth", 255, &p.PlaceOfBirth)
	text("country_of_residence", 2, &p.CountryOfResidence)
	text("nationality", 2, &p.Nationality)
	text("organization_country", 2, &p.OrganizationCountry)
	text("organization_type", 255, &p.OrganizationType)
	text("organization_registry_code", 255, &p.OrganizationRegistryCode)
	list("nationalities", &p.Nationalities)
	list("eduperson_assurance", &p.EdupersonAssurance)
	if v, ok := f.Date("birth_date", true); ok {
		p.BirthDate = v
		ch["birth_date"] = v
	}
	if v, ok := f.IntChoice("gender", true, 0, 1, 2, 9); ok {
		p.Gender = v
		ch["gender"] = v
	}
	if w.staff {
		if v, ok := str(f, "slug", 50, false); ok {
			if !form.IsSlug(v) {
				f.Fail("slug", `Enter a valid "slug" consisting of letters, numbers, underscores or hyphens.`)
			} else {
				p.Slug = v
				ch["slug"] = v
			}
		}
		text("description", 4096, &p.Description)
		flag("is_staff", &p.IsStaff)
		flag("is_active", &p.IsActive)
		flag("is_support", &p.IsSupport)
		flag("notifications_enabled", &p.NotificationsEnabled)
		flag("is_identity_manager", &p.IsIdentityManager)
		// The ISDs an identity manager may push for (Identity Bridge).
		if v, ok := f.StrList("managed_isds", false, form.Char{Max: 100}); ok {
			p.ManagedISDs = v
			b, _ := json.Marshal(v)
			ch["managed_isds"] = string(b)
		}
	}
	if w.staff || w.self {
		if v, ok := f.Int("token_lifetime", 60, math.MaxInt32, true); ok {
			var lifetime *int
			if v != nil {
				n := int(*v)
				lifetime = &n
			}
			p.TokenLifetime = lifetime
			ch["token_lifetime"] = lifetime
		}
	}
	return ch
}

// validatePassword is Waldur's PasswordSerializer rule: at least 7
// characters with a digit and a latin letter.
func validatePassword(f *form.Form, k string) (string, bool) {
	pw, ok := f.Char(k, form.Char{Required: true, AllowBlank: true, KeepSpace: true, StringsOnly: true, AllowNUL: true})
	if !ok {
		return "", false
	}
	switch {
	case pw == "":
		f.Fail(k, form.MsgBlank)
	case len([]rune(pw)) < 7:
		f.Fail(k, "Ensure this field has at least 7 characters.")
	case len(pw) > 72: // bcrypt's limit, in bytes
		f.Fail(k, "Ensure this field has no more than 72 characters.")
	case !strings.ContainsAny(pw, "0123456789"):
		f.Fail(k, "Ensure this field has at least one digit.")
	case !strings.ContainsAny(pw, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"):
		f.Fail(k, "Ensure this field has at least one latin letter.")
	default:
		return pw, true
	}
	return "", false
}

// userEvent is an event about user p, fed to p.
func userEvent(t, msg string, p *store.UserProfile, extra map[string]any) *models.Event {
	ctx := map[string]any{
		"affected_user_uuid":        p.UUID.String(),
		"affected_user_username":    p.Username,
		"affected_user_full_name":   p.FullName(),
		"affected_user_native_name": p.NativeName,
	}
	for k, v := range extra {
		ctx[k] = v
	}
	return &models.Event{EventType: t, Message: msg, Context: ctx, Scopes: []models.Scope{{Type: models.ScopeUser, ID: p.ID}}}
}

// visibleUser returns the user with the path's UUID if the caller may see it (else 404).
func (m *Module) visibleUser(c *gin.Context) (*store.UserProfile, error) {
	id, err := api.PathUUID(c, "")
	if err != nil {
		return nil, err
	}
	return m.st.VisibleUser(c.Request.Context(), id)
}

// userFilter reads the list filters of GET /api/users/.
func userFilter(c *gin.Context) (store.UserFilter, error) {
	last := func(k string) string { return rest.Last(c, k) }
	f := store.UserFilter{
		Username: last("username"), Email: last("email"), NativeName: last("native_name"),
		Organization: last("organization"), JobTitle: last("job_title"), FullName: last("full_name"),
		Query: last("query"), UserKeyword: last("user_keyword"), PhoneNumber: last("phone_number"),
		Description: last("description"), CivilNumber: last("civil_number"), RegMethod: last("registration_method"),
		OrganizationRoles: rest.Values(c, "organization_roles"), ProjectRoles: rest.Values(c, "project_roles"),
	}
	if _, ok := c.GetQuery("username_list"); ok {
		v := c.Query("username_list")
		f.UsernameList = &v
	}
	var err error
	for k, dst := range map[string]**bool{"is_active": &f.IsActive, "is_staff": &f.IsStaff, "is_support": &f.IsSupport} {
		if *dst, err = rest.Bool(c, k); err != nil {
			return f, err
		}
	}
	for k, dst := range map[string]**models.UUID{"customer_uuid": &f.CustomerUUID, "project_uuid": &f.ProjectUUID} {
		ids, err := rest.UUIDs(c, k)
		if err != nil {
			return f, err
		}
		if len(ids) > 0 {
			*dst = &ids[len(ids)-1]
		}
	}
	for k, dst := range map[string]**time.Time{"modified": &f.ModifiedFrom, "date_joined": &f.DateJoinedFrom, "agreement_date": &f.AgreementDateFrom} {
		if *dst, err = queryTime(k, last(k)); err != nil {
			return f, err
		}
	}
	return f, nil
}

// queryTime parses a DateTimeFilter value (ISO 8601 date or date-time).
func queryTime(k, v string) (*time.Time, error) {
	if v == "" {
		return nil, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			t = t.UTC()
			return &t, nil
		}
	}
	return nil, models.FieldError(k, "Enter a valid date/time.")
}

// listUsers godoc
//
//	@Summary		List users
//	@Description	Staff and support see every user; others see themselves and the active, non-staff users who hold a role in a customer or project they can see.
//	@Tags			users
//	@Produce		json
//	@Security		TokenAuth
//	@Param			username		query	string	false	"Username (exact)"
//	@Param			full_name		query	string	false	"Full name contains"
//	@Param			email			query	string	false	"Email contains"
//	@Param			is_active		query	bool	false	"Is active"
//	@Param			is_staff		query	bool	false	"Is staff"
//	@Param			is_support		query	bool	false	"Is support"
//	@Param			organization	query	string	false	"Organization contains"
//	@Param			job_title		query	string	false	"Job title contains"
//	@Param			native_name		query	string	false	"Native name contains"
//	@Param			civil_number	query	string	false	"Civil number"
//	@Param			registration_method	query	string	false	"Registration method"
//	@Param			description		query	string	false	"Description"
//	@Param			query			query	string	false	"First name, last name, civil number, username or email contains"
//	@Param			customer_uuid	query	string	false	"Users with a role in the customer or its projects"
//	@Param			project_uuid	query	string	false	"Users with a role in the project"
//	@Param			user_keyword	query	string	false	"Full name, username, email or native name contains"
//	@Param			o				query	string	false	"Ordering"
//	@Param			page			query	int		false	"Page"
//	@Param			page_size		query	int		false	"Page size"
//	@Success		200	{array}		UserOut
//	@Failure		401	{object}	api.ErrorBody
//	@Router			/api/users/ [get]
func (m *Module) listUsers(c *gin.Context) error {
	f, err := userFilter(c)
	if err != nil {
		return err
	}
	q := m.st.UsersQuery(c.Request.Context(), f)
	spec := rest.ListSpec{Ordering: store.UserOrdering, DefaultOrdering: []string{"username"}, TieBreaker: "users.id"}
	return rest.ListBatch(c, q, spec, func(rows []store.UserProfile) ([]json.RawMessage, error) {
		return m.renderUsers(c, rows, "")
	})
}

// getUser godoc
//
//	@Summary	Retrieve a user
//	@Tags		users
//	@Produce	json
//	@Security	TokenAuth
//	@Param		uuid	path		string	true	"User UUID"
//	@Success	200		{object}	UserOut
//	@Failure	404		{object}	api.ErrorBody
//	@Router		/api/users/{uuid}/ [get]
func (m *Module) getUser(c *gin.Context) error {
	p, err := m.visibleUser(c)
	if err != nil {
		return err
	}
	return m.renderUser(c, http.StatusOK, p, "")
}

// me godoc
//
//	@Summary		Get current user details
//	@Description	The caller (the impersonated user under impersonation), with the token and the client address.
//	@Tags			users
//	@Produce		json
//	@Security		TokenAuth
//	@Success		200	{object}	UserOut
//	@Failure		401	{object}	api.ErrorBody
//	@Router			/api/users/me/ [get]
func (m *Module) me(c *gin.Context) error {
	p, err := m.st.UserProfileByUUID(c.Request.Context(), api.CurrentUser(c).UUID)
	if err != nil {
		return err
	}
	return m.renderUser(c, http.StatusOK, p, c.ClientIP())
}

// createUser godoc
//
//	@Summary		Create a user
//	@Description	Staff only. token_lifetime defaults to 3600 seconds (null: no expiry).
//	@Tags			users
//	@Accept			json
//	@Produce		json
//	@Security		TokenAuth
//	@Param			body	body		UserRequest	true	"User"
//	@Success		201		{object}	UserOut
//	@Failure		400		{object}	map[string][]string
//	@Failure		403		{object}	api.ErrorBody
//	@Router			/api/users/ [post]
func (m *Module) createUser(c *gin.Context) error {
	f, ok := readForm(c)
	if !ok {
		return nil
	}
	lifetime := models.DefaultTokenLifetime
	p := &store.UserProfile{}
	p.IsActive, p.NotificationsEnabled, p.TokenLifetime = true, true, &lifetime
	f.Require("username", "email")
	if v, ok := str(f, "username", 128, false); ok {
		if err := models.ValidateUsername(v); err != nil {
			f.Fail("username", err.(*models.Error).Message)
		}
		p.Username = v
	}
	if v, ok := str(f, "email", 320, false); ok {
		if !validEmail(v) {
			f.Fail("email", form.MsgEmail)
		}
		p.Email = v
	}
	password := ""
	if f.Has("password") {
		password, _ = validatePassword(f, "password")
	}
	applyUserFields(f, p, writer{staff: true})
	if err := f.Err(); err != nil {
		return err
	}
	staff := api.CurrentUser(c)
	err := m.st.CreateUserProfile(c.Request.Context(), p, password, func(p *store.UserProfile) []*models.Event {
		return []*models.Event{
			userEvent("user_creation_succeeded", fmt.Sprintf("User %s has been created.", p.Username), p, nil),
			userEvent("user_has_been_created_by_staff", fmt.Sprintf("User %s has been created by staff user %s.", p.Username, staff.Username), p, nil),
		}
	})
	if err != nil {
		return err
	}
	return m.renderUser(c, http.StatusCreated, p, "")
}

// updateUser godoc
//
//	@Summary		Update a user
//	@Description	The user themself or staff. username and email cannot be changed here; the administrative fields are staff's. A user who has not agreed with the policy must send agree_with_policy=true.
//	@Tags			users
//	@Accept			json
//	@Produce		json
//	@Security		TokenAuth
//	@Param			uuid	path		string		true	"User UUID"
//	@Param			body	body		UserRequest	true	"Fields to change"
//	@Success		200		{object}	UserOut
//	@Failure		400		{object}	map[string][]string
//	@Failure		403		{object}	api.ErrorBody
//	@Failure		404		{object}	api.ErrorBody
//	@Router			/api/users/{uuid}/ [put]
//	@Router			/api/users/{uuid}/ [patch]
func (m *Module) updateUser(c *gin.Context) error {
	p, err := m.visibleUser(c)
	if err != nil {
		return err
	}
	viewer := api.CurrentUser(c)
	self := viewer.ID == p.ID
	if !viewer.IsStaff && !self {
		return api.Forbidden()
	}
	f, ok := readForm(c)
	if !ok {
		return nil
	}
	before := *p
	ch := applyUserFields(f, p, writer{staff: viewer.IsStaff, self: self})
	agree, _ := f.Bool("agree_with_policy")
	if err := f.Err(); err != nil {
		return err
	}
	if before.AgreementDate == nil {
		switch {
		case agree:
			now := m.st.Now()
			p.AgreementDate = &now
			ch["agreement_date"] = now
		case before.IsStaff || (viewer.IsStaff && !self):
		default:
			return models.FieldError("agree_with_policy", "User must agree with the policy.")
		}
	}
	events := []*models.Event{userEvent("user_update_succeeded", fmt.Sprintf("User %s has been updated.", p.Username), p, nil)}
	if p.IsActive != before.IsActive {
		t, verb := "user_activated", "activated"
		if !p.IsActive {
			t, verb = "user_deactivated", "deactivated"
		}
		events = append(events, userEvent(t, fmt.Sprintf("User %s has been %s.", p.Username, verb), p, nil))
	}
	if !sameLifetime(p.TokenLifetime, before.TokenLifetime) {
		lt := "none"
		if p.TokenLifetime != nil {
			lt = fmt.Sprint(*p.TokenLifetime)
		}
		events = append(events, userEvent("token_lifetime_updated",
			fmt.Sprintf("Token lifetime has been changed for %s to %s.", p.Username, lt), p, map[string]any{"token_lifetime": p.TokenLifetime}))
	}
	if err := m.st.UpdateUserProfile(c.Request.Context(), p.ID, ch, events); err != nil {
		return err
	}
	p, err = m.st.UserProfileByUUID(c.Request.Context(), p.UUID)
	if err != nil {
		return err
	}
	return m.renderUser(c, http.StatusOK, p, "")
}

func sameLifetime(a, b *int) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

// deleteUser godoc
//
//	@Summary	Delete a user
//	@Tags		users
//	@Security	TokenAuth
//	@Param		uuid	path	string	true	"User UUID"
//	@Success	204
//	@Failure	403	{object}	api.ErrorBody
//	@Failure	404	{object}	api.ErrorBody
//	@Router		/api/users/{uuid}/ [delete]
func (m *Module) deleteUser(c *gin.Context) error {
	p, err := m.visibleUser(c)
	if err != nil {
		return err
	}
	ev := userEvent("user_deletion_succeeded", fmt.Sprintf("User %s has been deleted.", p.Username), p, nil)
	if err := m.st.DeleteUser(c.Request.Context(), p.ID, ev); err != nil {
		return err
	}
	return api.NoContent(c)
}

// changePassword godoc
//
//	@Summary		Change user password
//	@Description	Staff for any user, a user for themself. At least 7 characters with a digit and a latin letter. The user's tokens other than the one of the request are revoked.
//	@Tags			users
//	@Accept			json
//	@Produce		json
//	@Security		TokenAuth
//	@Param			uuid	path		string					true	"User UUID"
//	@Param			body	body		PasswordChangeRequest	true	"New password"
//	@Success		200		{object}	map[string]string
//	@Failure		400		{object}	map[string][]string
//	@Failure		403		{object}	api.ErrorBody
//	@Failure		404		{object}	api.ErrorBody
//	@Router			/api/users/{uuid}/change_password/ [post]
func (m *Module) changePassword(c *gin.Context) error {
	p, err := m.visibleUser(c)
	if err != nil {
		return err
	}
	viewer := api.CurrentUser(c)
	self := viewer.ID == p.ID
	if !viewer.IsStaff && !self {
		return api.Forbidden()
	}
	f, ok := readForm(c)
	if !ok {
		return nil
	}
	pw, _ := validatePassword(f, "new_password")
	if err := f.Err(); err != nil {
		return err
	}
	ev := userEvent("user_password_updated", fmt.Sprintf("Password has been changed for user %s.", p.Username), p, nil)
	if !self {
		ev = userEvent("user_password_updated_by_staff",
			fmt.Sprintf("Password has been changed for user %s by %s.", p.Username, viewer.Username), p, nil)
	}
	// Every other session of the user ends: a leaked token dies with the old password.
	if err := m.st.SetPassword(c.Request.Context(), p.ID, pw, api.TokenKey(c), ev); err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"status": "password set"})
	return nil
}

func authToken(p *store.UserProfile, t *models.Token) UserAuthToken {
	return UserAuthToken{Created: t.Created, UserFirstName: p.FirstName, UserLastName: p.LastName, UserUsername: p.Username,
		UserIsActive: p.IsActive, UserTokenLifetime: p.TokenLifetime, Token: t.Key}
}

// userToken godoc
//
//	@Summary	Get user auth token
//	@Tags		users
//	@Produce	json
//	@Security	TokenAuth
//	@Param		uuid	path		string	true	"User UUID"
//	@Success	200		{object}	UserAuthToken
//	@Failure	403		{object}	api.ErrorBody
//	@Failure	404		{object}	api.ErrorBody
//	@Router		/api/users/{uuid}/token/ [get]
func (m *Module) userToken(c *gin.Context) error {
	p, err := m.visibleUser(c)
	if err != nil {
		return err
	}
	t, err := m.st.TokenOf(c.Request.Context(), p.ID)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, authToken(p, t))
	return nil
}

// refreshToken godoc
//
//	@Summary	Refresh user auth token
//	@Description	Replaces the user's token with a new key (the old one stops working).
//	@Tags		users
//	@Produce	json
//	@Security	TokenAuth
//	@Param		uuid	path		string	true	"User UUID"
//	@Success	200		{object}	UserAuthToken
//	@Failure	403		{object}	api.ErrorBody
//	@Failure	404		{object}	api.ErrorBody
//	@Router		/api/users/{uuid}/refresh_token/ [post]
func (m *Module) refreshToken(c *gin.Context) error {
	p, err := m.visibleUser(c)
	if err != nil {
		return err
	}
	t, err := m.st.RefreshToken(c.Request.Context(), p.ID)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, authToken(p, t))
	return nil
}
