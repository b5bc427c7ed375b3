package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/rbac"
)

// UserProfile is a user with every column of the users table: what the
// API's User object shows and edits. It is also the row type the user list
// scans into (the api module pages over it with rest.ListBatch).
type UserProfile struct {
	models.User
	Slug                     string
	NativeName               string
	CivilNumber              *string
	PhoneNumber              string
	Organization             string
	JobTitle                 string
	Description              string
	PreferredLanguage        string
	RegistrationMethod       string
	IdentitySource           string
	IsIdentityManager        bool
	AgreementDate            *time.Time
	Affiliations             []string `gorm:"serializer:json"`
	BirthDate                *time.Time
	Gender                   *int
	PersonalTitle            string
	PlaceOfBirth             string
	CountryOfResidence       string
	Nationality              string
	Nationalities            []string `gorm:"serializer:json"`
	OrganizationCountry      string
	OrganizationType         string
	OrganizationRegistryCode string
	EdupersonAssurance       []string `gorm:"serializer:json"`
	// The Identity Bridge's (nil reads as empty): the ISDs that assert
	// the user exists, the ISDs the user may push for as an identity
	// manager, and the source of each pushed attribute.
	ActiveISDs       []string                          `gorm:"column:active_isds;serializer:json"`
	ManagedISDs      []string                          `gorm:"column:managed_isds;serializer:json"`
	AttributeSources map[string]models.AttributeSource `gorm:"column:attribute_sources;serializer:json"`
}

// TableName is the users table.
func (UserProfile) TableName() string { return "users" }

// FullName is Waldur's User.full_name: first and last name joined.
func (p *UserProfile) FullName() string { return fullName(&p.User) }

// UserProfileByUUID returns a user with all profile columns. Codes: not_found.
func (s *Store) UserProfileByUUID(ctx context.Context, id models.UUID) (*UserProfile, error) {
	var p UserProfile
	if err := s.DB.WithContext(ctx).Where("uuid = ?", id).Take(&p).Error; err != nil {
		return nil, translate(err, "User")
	}
	return &p, nil
}

// UserFilter holds the filters of GET /api/users/ (Waldur's UserFilter).
// Empty strings and nil pointers do not filter.
type UserFilter struct {
	Username, Email, NativeName, Organization, JobTitle string
	FullName, Query, UserKeyword                        string
	PhoneNumber, Description, CivilNumber, RegMethod    string
	IsActive, IsStaff, IsSupport                        *bool
	CustomerUUID, ProjectUUID                           *models.UUID
	UsernameList                                        *string
	OrganizationRoles, ProjectRoles                     []string
	ModifiedFrom, DateJoinedFrom, AgreementDateFrom     *time.Time
}

// VisibleUsers returns the query over users that viewer may see, at now:
// staff and support see every user; anyone else sees active non-staff
// users who hold a role in force in a customer or project the viewer can
// see (a customer where the viewer has a role or has a role in one of its
// projects; a project where the viewer has a role or of a customer where
// the viewer has a role), and always themselves (Waldur's
// filter_visible_users and get_visible_users). Anonymous: nothing.
func (s *Store) VisibleUsers(ctx context.Context, viewer *models.User, now time.Time) *gorm.DB {
	q := s.DB.WithContext(ctx).Model(&UserProfile{})
	switch {
	case viewer == nil:
		return q.Where("1 = 0")
	case viewer.IsStaff || viewer.IsSupport:
		return q
	}
	myCustomers := `SELECT scope_id FROM user_roles ur WHERE ur.user_id = @uid AND ur.scope_type = 'customer' AND @inforce`
	myProjects := `SELECT scope_id FROM user_roles ur WHERE ur.user_id = @uid AND ur.scope_type = 'project' AND @inforce`
	visibleCustomers := myCustomers + ` UNION SELECT customer_id FROM projects WHERE id IN (` + myProjects + `)`
	visibleProjects := myProjects + ` UNION SELECT id FROM projects WHERE is_removed = @false AND customer_id IN (` + myCustomers + `)`
	visible := `SELECT ur.user_id FROM user_roles ur WHERE @inforce AND (
		(ur.scope_type = 'customer' AND ur.scope_id IN (` + visibleCustomers + `)) OR
		(ur.scope_type = 'project' AND ur.scope_id IN (` + visibleProjects + `)))`
	return q.Where(`users.is_active = @true AND (users.id = @uid OR (users.is_staff = @false AND users.id IN (`+visible+`)))`,
		map[string]any{"uid": viewer.ID, "true": true, "false": false, "inforce": rbac.InForce("ur", now)})
}

// likeEscape makes v a LIKE pattern matching v anywhere, case-insensitively
// when compared with LOWER(column) (use with ESCAPE '\').
func likeEscape(v string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(v)) + "%"
}

// icontains is Django's icontains on a trusted column expression.
func icontains(col string) string { return "LOWER(" + col + `) LIKE ? ESCAPE '\'` }

const fullNameSQL = "users.first_name || ' ' || users.last_name"

// FilterUsers applies f to q (a query over users, e.g. from VisibleUsers).
// Roles are judged at now.
func FilterUsers(q *gorm.DB, f UserFilter, now time.Time) *gorm.DB {
	eq := func(col, v string) {
		if v != "" {
			q = q.Where("users."+col+" = ?", v)
		}
	}
	contains := func(col, v string) {
		if v != "" {
			q = q.Where(icontains("users."+col), likeEscape(v))
		}
	}
	flag := func(col string, v *bool) {
		if v != nil {
			q = q.Where("users."+col+" = ?", *v)
		}
	}
	after := func(col string, v *time.Time) {
		if v != nil {
			q = q.Where("users."+col+" >= ?", *v)
		}
	}
	eq("username", f.Username)
	eq("phone_number", f.PhoneNumber)
	eq("description", f.Description)
	eq("civil_number", f.CivilNumber)
	eq("registration_method", f.RegMethod)
	contains("email", f.Email)
	contains("native_name", f.NativeName)
	contains("organization", f.Organization)
	contains("job_title", f.JobTitle)
	flag("is_active", f.IsActive)
	flag("is_staff", f.IsStaff)
	flag("is_support", f.IsSupport)
	after("modified", f.ModifiedFrom)
	after("date_joined", f.DateJoinedFrom)
	after("agreement_date", f.AgreementDateFrom)
	if f.FullName != "" {
		q = q.Where(icontains(fullNameSQL), likeEscape(f.FullName))
	}
	if v := f.Query; v != "" {
		p := likeEscape(v)
		cond := q.Session(&gorm.Session{NewDB: true}).
			Where(icontains("users.first_name"), p).Or(icontains("users.last_name"), p).
			Or(icontains("COALESCE(users.civil_number, '')"), p).
			Or(icontains("users.username"), p).Or(icontains("users.email"), p)
		if words := strings.Fields(v); len(words) > 1 {
			cond = cond.Or(icontains("users.first_name"), likeEscape(words[0])).Or(icontains("users.last_name"), likeEscape(words[1]))
		}
		q = q.Where(cond)
	}
	if v := f.UserKeyword; v != "" {
		p := likeEscape(v)
		q = q.Where(q.Session(&gorm.Session{NewDB: true}).
			Where(icontains(fullNameSQL), p).Or(icontains("users.username"), p).
			Or(icontains("users.email"), p).Or(icontains("users.native_name"), p))
	}
	if f.UsernameList != nil {
		var names []string
		for _, n := range strings.Split(*f.UsernameList, ",") {
			if n = strings.TrimSpace(n); n != "" {
				names = append(names, n)
			}
		}
		if len(names) == 0 {
			q = q.Where("1 = 0")
		} else {
			q = q.Where("users.username IN ?", names)
		}
	}
	if f.CustomerUUID != nil {
		q = q.Where(`users.id IN (SELECT ur.user_id FROM user_roles ur JOIN customers c ON c.uuid = ? WHERE ? AND (
			(ur.scope_type = 'customer' AND ur.scope_id = c.id) OR
			(ur.scope_type = 'project' AND ur.scope_id IN (SELECT id FROM projects WHERE customer_id = c.id))))`,
			*f.CustomerUUID, rbac.InForce("ur", now))
	}
	if f.ProjectUUID != nil {
		q = q.Where(`users.id IN (SELECT ur.user_id FROM user_roles ur JOIN projects p ON p.uuid = ? WHERE ?
			AND ur.scope_type = 'project' AND ur.scope_id = p.id)`, *f.ProjectUUID, rbac.InForce("ur", now))
	}
	for _, roles := range [][]string{f.OrganizationRoles, f.ProjectRoles} {
		if len(roles) > 0 {
			q = q.Where(`users.id IN (SELECT ur.user_id FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE r.name IN ?)`, roles)
		}
	}
	return q
}

// UserOrdering is the ?o= of the user list (Waldur's UserFilter.o); the
// default order is by username.
var UserOrdering = map[string]string{
	"full_name":           fullNameSQL,
	"native_name":         "users.native_name",
	"email":               "users.email",
	"phone_number":        "users.phone_number",
	"description":         "users.description",
	"organization":        "users.organization",
	"job_title":           "users.job_title",
	"username":            "users.username",
	"is_active":           "users.is_active",
	"registration_method": "users.registration_method",
	"is_staff":            "users.is_staff",
	"is_support":          "users.is_support",
}

// UserPermission is one role in force of a user, rendered in the User
// object's permissions (Waldur's PermissionSerializer).
type UserPermission struct {
	UserID             int64
	Created            time.Time
	ExpirationTime     *time.Time
	CreatedByFirstName *string
	CreatedByLastName  *string
	CreatedByUsername  *string
	RoleName           string
	RoleDescription    string
	RoleUUID           models.UUID
	ScopeType          models.ScopeType
	ScopeUUID          models.UUID
	ScopeName          string
	CustomerUUID       models.UUID
	CustomerName       string
}

// CreatedByFullName is the granting user's full name ("" when unknown).
func (p *UserPermission) CreatedByFullName() string {
	u := models.User{}
	if p.CreatedByFirstName != nil {
		u.FirstName = *p.CreatedByFirstName
	}
	if p.CreatedByLastName != nil {
		u.LastName = *p.CreatedByLastName
	}
	return fullName(&u)
}

// UserPermissions returns the roles in force at now of each user, on
// customers and projects (scopes of other types are left out, as Waldur
// leaves out permissions whose scope it cannot load), oldest first.
func (s *Store) UserPermissions(ctx context.Context, userIDs []int64, now time.Time) (map[int64][]UserPermission, error) {
	out := map[int64][]UserPermission{}
	if len(userIDs) == 0 {
		return out, nil
	}
	var rows []UserPermission
	err := s.DB.WithContext(ctx).Raw(`SELECT ur.user_id, ur.created, ur.expiration_time,
			cb.first_name AS created_by_first_name, cb.last_name AS created_by_last_name, cb.username AS created_by_username,
			r.name AS role_name, r.description AS role_description, r.uuid AS role_uuid, ur.scope_type,
			COALESCE(c.uuid, p.uuid) AS scope_uuid, COALESCE(c.name, p.name) AS scope_name,
			COALESCE(c.uuid, pc.uuid) AS customer_uuid, COALESCE(c.name, pc.name) AS customer_name
		FROM user_roles ur
		JOIN roles r ON r.id = ur.role_id
		LEFT JOIN users cb ON cb.id = ur.created_by_id
		LEFT JOIN customers c ON ur.scope_type = 'customer' AND c.id = ur.scope_id
		LEFT JOIN projects p ON ur.scope_type = 'project' AND p.id = ur.scope_id
		LEFT JOIN customers pc ON pc.id = p.customer_id
		WHERE ur.user_id IN ? AND ? AND (c.id IS NOT NULL OR p.id IS NOT NULL)
		ORDER BY ur.created, ur.id`, userIDs, rbac.InForce("ur", now)).Scan(&rows).Error
	if err != nil {
		return nil, models.Internal(err)
	}
	for _, r := range rows {
		out[r.UserID] = append(out[r.UserID], r)
	}
	return out, nil
}

// TokensOf returns the token of each of the users that has one.
func (s *Store) TokensOf(ctx context.Context, userIDs []int64) (map[int64]models.Token, error) {
	out := map[int64]models.Token{}
	if len(userIDs) == 0 {
		return out, nil
	}
	var rows []tokenRow
	if err := s.DB.WithContext(ctx).Where("user_id IN ?", userIDs).Find(&rows).Error; err != nil {
		return nil, models.Internal(err)
	}
	for _, t := range rows {
		out[t.UserID] = models.Token{Key: t.Key, UserID: t.UserID, Created: t.Created}
	}
	return out, nil
}

var slugJunk = regexp.MustCompile(`[^a-z0-9_-]+`)

// userSlug is Waldur's SlugMixin rule applied to the username: its first
// eight slug characters and a number one higher than any slug in use with
// that stem.
func (s *Store) userSlug(ctx context.Context, username string) (string, error) {
	stem := strings.Trim(slugJunk.ReplaceAllString(strings.ToLower(username), "-"), "-")
	if len(stem) > 8 {
		stem = strings.TrimRight(stem[:8], "-")
	}
	if stem == "" {
		stem = "user"
	}
	var used []string
	if err := s.DB.WithContext(ctx).Model(&UserProfile{}).Where("slug LIKE ?", stem+"-%").Pluck("slug", &used).Error; err != nil {
		return "", models.Internal(err)
	}
	n := 0
	for _, u := range used {
		if k, err := strconv.Atoi(strings.TrimPrefix(u, stem+"-")); err == nil && k > n {
			n = k
		}
	}
	return fmt.Sprintf("%s-%d", stem, n+1), nil
}

// CreateUserProfile inserts p (validated by the caller; the username rule
// is checked again) with the given plain password (empty: no password
// login), filling ID, UUID, slug and timestamps, and emits the events of
// ev (their scopes and context completed with the new user) in the same
// transaction. Codes: invalid (username taken or malformed).
func (s *Store) CreateUserProfile(ctx context.Context, p *UserProfile, password string, ev func(p *UserProfile) []*models.Event) error {
	if err := models.ValidateUsername(p.Username); err != nil {
		return err
	}
	// Hashed before the transaction: no row lock waits on a hashing slot.
	hash := ""
	if password != "" {
		h, err := s.hasher().Hash(ctx, password)
		if err != nil {
			return err
		}
		hash = h
	}
	return s.Tx(ctx, func(tx *Store) error {
		now := tx.Now()
		if p.UUID.IsZero() {
			p.UUID = models.NewUUID()
		}
		if p.DateJoined.IsZero() {
			p.DateJoined = now
		}
		p.Modified = now
		if p.RegistrationMethod == "" {
			p.RegistrationMethod = "default"
		}
		if p.Slug == "" {
			slug, err := tx.userSlug(ctx, p.Username)
			if err != nil {
				return err
			}
			p.Slug = slug
		}
		p.Password = hash
		var taken int64
		if err := tx.DB.WithContext(ctx).Model(&UserProfile{}).Where("username = ?", p.Username).Count(&taken).Error; err != nil {
			return models.Internal(err)
		}
		if taken > 0 {
			return models.FieldError("username", "User with this username already exists.")
		}
		if err := tx.DB.WithContext(ctx).Create(p).Error; err != nil {
			e := translate(err, "User")
			if models.IsCode(e, models.CodeConflict) {
				return models.FieldError("username", "User with this username already exists.")
			}
			return e
		}
		if ev == nil {
			return nil
		}
		for _, e := range ev(p) {
			if err := tx.EmitEvent(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
}

// UpdateUserProfile writes the named columns of p (column → value, as
// built by the caller from the fields it may change), bumps modified, and
// emits the events in the same transaction. Codes: not_found.
func (s *Store) UpdateUserProfile(ctx context.Context, userID int64, changes map[string]any, events []*models.Event) error {
	return s.Tx(ctx, func(tx *Store) error {
		cols := map[string]any{"modified": tx.Now()}
		for k, v := range changes {
			cols[k] = v
		}
		res := tx.DB.WithContext(ctx).Model(&UserProfile{}).Where("id = ?", userID).Updates(cols)
		if res.Error != nil {
			return translate(res.Error, "User")
		}
		if res.RowsAffected == 0 {
			return models.Errorf(models.CodeNotFound, "User not found.")
		}
		if active, ok := changes["is_active"].(bool); ok && !active {
			// A deactivated user's browser sessions end (sessions.go).
			if err := tx.DeleteUserSessions(ctx, userID); err != nil {
				return err
			}
		}
		for _, e := range events {
			if err := tx.EmitEvent(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
}

// SetPassword replaces the user's password hash, revokes the user's
// tokens other than keepToken (the key of the request that changes it, so
// a user changing their own password stays logged in; "" revokes all) and
// emits ev, in one transaction. Codes: not_found, throttled.
func (s *Store) SetPassword(ctx context.Context, userID int64, password, keepToken string, ev *models.Event) error {
	h, err := s.hasher().Hash(ctx, password)
	if err != nil {
		return err
	}
	return s.Tx(ctx, func(tx *Store) error {
		if err := tx.UpdateUserProfile(ctx, userID, map[string]any{"password": h}, []*models.Event{ev}); err != nil {
			return err
		}
		// A new password ends every browser session of the user (sessions.go).
		if err := tx.DeleteUserSessions(ctx, userID); err != nil {
			return err
		}
		return translate(tx.DB.WithContext(ctx).Where("user_id = ? AND key <> ?", userID, keepToken).Delete(&tokenRow{}).Error, "Token")
	})
}

// DeleteUser removes the user with their token, keys and role grants (the
// foreign keys cascade, as in Waldur), recounts nc_user_count of every
// customer they had a role in, and emits ev, all in one transaction.
// Codes: not_found.
func (s *Store) DeleteUser(ctx context.Context, userID int64, ev *models.Event) error {
	return s.Tx(ctx, func(tx *Store) error {
		var customers []int64
		err := tx.DB.WithContext(ctx).Raw(`SELECT scope_id FROM user_roles WHERE user_id = ? AND scope_type = 'customer'
			UNION SELECT p.customer_id FROM user_roles ur JOIN projects p ON p.id = ur.scope_id WHERE ur.user_id = ? AND ur.scope_type = 'project'`,
			userID, userID).Scan(&customers).Error
		if err != nil {
			return models.Internal(err)
		}
		res := tx.DB.WithContext(ctx).Where("id = ?", userID).Delete(&UserProfile{})
		if res.Error != nil {
			return translate(res.Error, "User")
		}
		if res.RowsAffected == 0 {
			return models.Errorf(models.CodeNotFound, "User not found.")
		}
		for _, c := range customers {
			if err := tx.RecountUserQuota(ctx, c); err != nil {
				return err
			}
		}
		return tx.EmitEvent(ctx, ev)
	})
}

// LoginToken is DRF's get_or_create of the user's token with Waldur's
// RefreshTokenMixin: a token past the user's lifetime is replaced by a new
// one, a live one has its creation time moved to now.
func (s *Store) LoginToken(ctx context.Context, u *models.User) (*models.Token, error) {
	var out models.Token
	err := s.Tx(ctx, func(tx *Store) error {
		now := tx.Now()
		var t tokenRow
		err := tx.DB.WithContext(ctx).Where("user_id = ?", u.ID).Take(&t).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
		case err != nil:
			return translate(err, "Token")
		case u.TokenLifetime != nil && t.Created.Add(time.Duration(*u.TokenLifetime)*time.Second).Before(now):
			if err := tx.DB.WithContext(ctx).Where("user_id = ?", u.ID).Delete(&tokenRow{}).Error; err != nil {
				return translate(err, "Token")
			}
		default:
			if err := tx.TouchToken(ctx, t.Key, now); err != nil {
				return err
			}
			out = models.Token{Key: t.Key, UserID: u.ID, Created: now}
			return nil
		}
		t = tokenRow{Key: newTokenKey(), UserID: u.ID, Created: now}
		if err := tx.DB.WithContext(ctx).Create(&t).Error; err != nil {
			return translate(err, "Token")
		}
		out = models.Token{Key: t.Key, UserID: u.ID, Created: now}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// RefreshToken replaces the user's token with a new key (Waldur's
// users/{uuid}/refresh_token/).
func (s *Store) RefreshToken(ctx context.Context, userID int64) (*models.Token, error) {
	var out models.Token
	err := s.Tx(ctx, func(tx *Store) error {
		if err := tx.DB.WithContext(ctx).Where("user_id = ?", userID).Delete(&tokenRow{}).Error; err != nil {
			return translate(err, "Token")
		}
		t := tokenRow{Key: newTokenKey(), UserID: userID, Created: tx.Now()}
		if err := tx.DB.WithContext(ctx).Create(&t).Error; err != nil {
			return translate(err, "Token")
		}
		out = models.Token{Key: t.Key, UserID: t.UserID, Created: t.Created}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteToken removes the user's token (logout) and emits ev in the same
// transaction; it is not an error when there is none.
func (s *Store) DeleteToken(ctx context.Context, userID int64, ev *models.Event) error {
	return s.Tx(ctx, func(tx *Store) error {
		if err := tx.DB.WithContext(ctx).Where("user_id = ?", userID).Delete(&tokenRow{}).Error; err != nil {
			return translate(err, "Token")
		}
		if ev == nil {
			return nil
		}
		return tx.EmitEvent(ctx, ev)
	})
}

// Login lockout (Waldur's ObtainAuthToken): attempts are counted per
// username and client address; each one restarts a 10-minute window, and
// once 4 have accumulated the pair is refused until the window ends. An
// attempt is counted before its password is compared, by one conditional
// statement (ReserveLoginAttempt), so parallel requests, on any number of
// API replicas, never get more than 4 passwords of a pair compared in a
// window. The rows live in the database so every API replica sees them.
const (
	LoginFailureLimit  = 4
	LoginLockoutWindow = 10 * time.Minute
)

// ReserveLoginAttempt counts an attempt of username from ip, to be made
// before the password is compared; false (nothing counted) when the pair
// is locked out: LoginFailureLimit attempts, the last one less than
// LoginLockoutWindow ago. A window that has ended starts the count again,
// as Waldur's cache entry expires. The insert-or-increment is one atomic
// statement on both databases (ON CONFLICT … DO UPDATE … WHERE).
func (s *Store) ReserveLoginAttempt(ctx context.Context, username, ip string) (bool, error) {
	now := s.Now()
	ended := now.Add(-LoginLockoutWindow)
	res := s.DB.WithContext(ctx).Exec(`INSERT INTO login_attempts (username, ip, attempts, last_attempt) VALUES (?, ?, 1, ?)
		ON CONFLICT (username, ip) DO UPDATE SET
			attempts = CASE WHEN login_attempts.last_attempt <= ? THEN 1 ELSE login_attempts.attempts + 1 END,
			last_attempt = excluded.last_attempt
		WHERE login_attempts.attempts < ? OR login_attempts.last_attempt <= ?`,
		username, ip, now, ended, LoginFailureLimit, ended)
	if res.Error != nil {
		return false, models.Internal(res.Error)
	}
	return res.RowsAffected > 0, nil
}

// ReleaseLoginAttempt gives back an attempt that was reserved but not
// evaluated (no hashing slot was free, or the request failed first).
func (s *Store) ReleaseLoginAttempt(ctx context.Context, username, ip string) error {
	err := s.DB.WithContext(ctx).Exec(`UPDATE login_attempts SET attempts = attempts - 1 WHERE username = ? AND ip = ? AND attempts > 0`,
		username, ip).Error
	if err != nil {
		return models.Internal(err)
	}
	return nil
}

// RecordLoginFailure emits ev for a failed login whose attempt
// ReserveLoginAttempt counted, and removes the counts whose window has
// ended (they count as none), in one transaction.
func (s *Store) RecordLoginFailure(ctx context.Context, ev *models.Event) error {
	return s.Tx(ctx, func(tx *Store) error {
		if err := tx.DB.WithContext(ctx).Exec(`DELETE FROM login_attempts WHERE last_attempt <= ?`,
			tx.Now().Add(-LoginLockoutWindow)).Error; err != nil {
			return models.Internal(err)
		}
		if ev == nil {
			return nil
		}
		return tx.EmitEvent(ctx, ev)
	})
}

// ClearLoginFailures forgets the attempts of username from ip (a successful login).
func (s *Store) ClearLoginFailures(ctx context.Context, username, ip string) error {
	if err := s.DB.WithContext(ctx).Exec(`DELETE FROM login_attempts WHERE username = ? AND ip = ?`, username, ip).Error; err != nil {
		return models.Internal(err)
	}
	return nil
}
