package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/waldur-go/waldur/models"
)

// The Identity Bridge's writes (Waldur's create_or_update_bridge_user and
// remove_user_from_isd) and its statistics (get_identity_bridge_stats).
// Each write runs in one transaction holding the user's row: a push
// updates the user's attributes, attribute_sources and active_isds
// together, and two pushes for the same new username create one user
// (the insert skips a username taken meanwhile and the push updates the
// user it then finds).

// ErrBridgeUserDeactivated is wrapped by the error of a push for a user who
// is deactivated (Waldur's ParseError, 400 {"detail": …}).
var ErrBridgeUserDeactivated = errors.New("identity bridge: the user is deactivated")

// BridgePush is one ISD's assertion of a user (POST /api/identity-bridge/).
type BridgePush struct {
	// Username names the user (created when missing).
	Username string
	// Source is the ISD ("isd:puhuri"), already validated.
	Source string
	// Attributes are the pushed attributes (names of
	// models.BridgeAttributes, validated and allowed by the caller):
	// string for the text ones (civil_number "" is none), []string for
	// affiliations, nationalities and eduperson_assurance, *int for
	// gender and *time.Time for birth_date (nil: none).
	Attributes map[string]any
	// ByStaff: staff push. Anyone else (an identity manager) may not touch
	// a staff, support or identity manager account (forbidden): an ISD
	// asserts its federated users, not the platform's operators.
	ByStaff bool
}

// BridgeRemove is one ISD's removal of a user (POST /api/identity-bridge/remove/).
type BridgeRemove struct {
	Username, Source string
	// Policy is models.DeactivateOnAnyISDRemoved or DeactivateOnAllISDsRemoved.
	Policy string
	// ByStaff: as BridgePush.ByStaff.
	ByStaff bool
}

// MsgBridgePrivileged refuses an identity manager's push or removal of an
// operator's account.
const MsgBridgePrivileged = "Staff, support and identity manager accounts are not managed through the Identity Bridge."

// bridgeGuard refuses a non-staff caller's change of a privileged account.
func bridgeGuard(p *UserProfile, byStaff bool) error {
	if !byStaff && (p.IsStaff || p.IsSupport || p.IsIdentityManager) {
		return models.Errorf(models.CodeForbidden, MsgBridgePrivileged)
	}
	return nil
}

// BridgePushResult is what a push did.
type BridgePushResult struct {
	User    *UserProfile
	Created bool
	// UpdatedFields are the attributes whose value changed (on creation:
	// every pushed attribute), and active_isds when the source was added
	// to an existing user; sorted.
	UpdatedFields []string
}

// bridgeValue is an attribute of p in a comparable form: text as a
// string, lists as non-nil slices, gender as an int or nil, the birth date
// as YYYY-MM-DD or nil.
func bridgeValue(p *UserProfile, field string) any {
	switch field {
	case "first_name":
		return p.FirstName
	case "last_name":
		return p.LastName
	case "email":
		return p.Email
	case "organization":
		return p.Organization
	case "civil_number":
		if p.CivilNumber == nil {
			return ""
		}
		return *p.CivilNumber
	case "phone_number":
		return p.PhoneNumber
	case "identity_source":
		return p.IdentitySource
	case "personal_title":
		return p.PersonalTitle
	case "place_of_birth":
		return p.PlaceOfBirth
	case "country_of_residence":
		return p.CountryOfResidence
	case "nationality":
		return p.Nationality
	case "organization_country":
		return p.OrganizationCountry
	case "organization_type":
		return p.OrganizationType
	case "affiliations":
		return nonNil(p.Affiliations)
	case "nationalities":
		return nonNil(p.Nationalities)
	case "eduperson_assurance":
		return nonNil(p.EdupersonAssurance)
	case "gender":
		if p.Gender == nil {
			return nil
		}
		return *p.Gender
	case "birth_date":
		if p.BirthDate == nil {
			return nil
		}
		return p.BirthDate.Format(time.DateOnly)
	}
	return nil
}

// normalizeBridgeValue is v (as BridgePush.Attributes holds it) in
// bridgeValue's form.
func normalizeBridgeValue(v any) any {
	switch t := v.(type) {
	case []string:
		return nonNil(t)
	case *int:
		if t == nil {
			return nil
		}
		return *t
	case *time.Time:
		if t == nil {
			return nil
		}
		return t.Format(time.DateOnly)
	}
	return v
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// emptyBridgeValue is Waldur's "empty" value: none, "" or [].
func emptyBridgeValue(v any) bool {
	switch t := normalizeBridgeValue(v).(type) {
	case nil:
		return true
	case string:
		return t == ""
	case []string:
		return len(t) == 0
	}
	return false
}

// setBridgeValue sets the attribute on p and returns its column value.
func setBridgeValue(p *UserProfile, field string, v any) any {
	text := map[string]*string{
		"first_name": &p.FirstName, "last_name": &p.LastName, "email": &p.Email, "organization": &p.Organization,
		"phone_number": &p.PhoneNumber, "identity_source": &p.IdentitySource, "personal_title": &p.PersonalTitle,
		"place_of_birth": &p.PlaceOfBirth, "country_of_residence": &p.CountryOfResidence, "nationality": &p.Nationality,
		"organization_country": &p.OrganizationCountry, "organization_type": &p.OrganizationType,
	}
	lists := map[string]*[]string{
		"affiliations": &p.Affiliations, "nationalities": &p.Nationalities, "eduperson_assurance": &p.EdupersonAssurance,
	}
	if dst, ok := text[field]; ok {
		s, _ := v.(string)
		*dst = s
		return s
	}
	if dst, ok := lists[field]; ok {
		l, _ := v.([]string)
		*dst = nonNil(l)
		return jsonText(*dst)
	}
	switch field {
	case "civil_number":
		// NULL, not "": the column is unique.
		if s, _ := v.(string); s != "" {
			p.CivilNumber = &s
			return s
		}
		p.CivilNumber = nil
		return nil
	case "gender":
		g, _ := v.(*int)
		p.Gender = g
		return g
	case "birth_date":
		d, _ := v.(*time.Time)
		p.BirthDate = d
		return d
	}
	return nil
}

// jsonText is v as the text of a JSON column.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // lists of strings and maps of AttributeSource always marshal
	}
	return string(b)
}

// clearBridgeValue empties the attribute on p (Waldur's remove: "" or []; a
// gender, birth date or civil number becomes none) and returns its column value.
func clearBridgeValue(p *UserProfile, field string) any {
	switch field {
	case "affiliations", "nationalities", "eduperson_assurance":
		return setBridgeValue(p, field, []string{})
	case "gender":
		return setBridgeValue(p, field, (*int)(nil))
	case "birth_date":
		return setBridgeValue(p, field, (*time.Time)(nil))
	}
	return setBridgeValue(p, field, "")
}

// lockUserByUsername loads the user (active or not) and locks its row
// until the transaction ends. Codes: not_found.
func (s *Store) lockUserByUsername(ctx context.Context, username string) (*UserProfile, error) {
	var p UserProfile
	if err := forUpdate(s.DB.WithContext(ctx)).Where("username = ?", username).Take(&p).Error; err != nil {
		return nil, translate(err, "User")
	}
	return &p, nil
}

// PushBridgeUser is a push of in.Source about in.Username (Waldur's
// create_or_update_bridge_user), in one transaction with the events ev
// returns for its outcome. A missing user is created: registration
// method the source, no password, notifications off, the pushed
// attributes set, the non-empty ones recorded as the source's in
// attribute_sources, active_isds [source]. An existing one gets Waldur's
// preserve-other-sources update: an empty value (none, "" or []) does
// not clear an attribute another ISD owns; any other pushed value is set
// and the attribute becomes the source's, its timestamp renewed even when
// the value is the same; the source is added to active_isds. Callers:
// the bridge handler, after checking the caller may push for the source.
// Codes: invalid (the user is deactivated: wraps
// ErrBridgeUserDeactivated; a civil number another user has).
func (s *Store) PushBridgeUser(ctx context.Context, in BridgePush, ev func(p *UserProfile, created bool, updated []string) []*models.Event) (*BridgePushResult, error) {
	if err := models.ValidateUsername(in.Username); err != nil {
		return nil, err
	}
	fields := make([]string, 0, len(in.Attributes))
	for k := range in.Attributes {
		if !models.IsBridgeAttribute(k) {
			return nil, models.Internal(fmt.Errorf("identity bridge: %q is not a bridge attribute", k))
		}
		fields = append(fields, k)
	}
	sort.Strings(fields)
	var out *BridgePushResult
	err := s.Tx(ctx, func(tx *Store) error {
		now := tx.Now()
		stamp := now.UTC().Format(time.RFC3339Nano)
		p, err := tx.lockUserByUsername(ctx, in.Username)
		switch {
		case models.IsCode(err, models.CodeNotFound):
			created, err := tx.insertBridgeUser(ctx, in, fields, now, stamp)
			if err != nil {
				return err
			}
			if created != nil {
				out = &BridgePushResult{User: created, Created: true, UpdatedFields: fields}
				break
			}
			// Created meanwhile by a concurrent push: update it.
			if p, err = tx.lockUserByUsername(ctx, in.Username); err != nil {
				return err
			}
			if err := bridgeGuard(p, in.ByStaff); err != nil {
				return err
			}
			if out, err = tx.updateBridgeUser(ctx, p, in, fields, now, stamp); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			if err := bridgeGuard(p, in.ByStaff); err != nil {
				return err
			}
			if out, err = tx.updateBridgeUser(ctx, p, in, fields, now, stamp); err != nil {
				return err
			}
		}
		if ev == nil {
			return nil
		}
		for _, e := range ev(out.User, out.Created, out.UpdatedFields) {
			if err := tx.EmitEvent(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// insertBridgeUser inserts the pushed user unless the username is taken
// (then nil, nil: a concurrent push created it; PostgreSQL's ON CONFLICT
// waits for that push to commit).
func (s *Store) insertBridgeUser(ctx context.Context, in BridgePush, fields []string, now time.Time, stamp string) (*UserProfile, error) {
	lifetime := models.DefaultTokenLifetime
	p := &UserProfile{}
	p.UUID, p.Username, p.IsActive, p.NotificationsEnabled = models.NewUUID(), in.Username, true, false
	p.TokenLifetime, p.DateJoined, p.Modified = &lifetime, now, now
	p.RegistrationMethod = in.Source
	p.ActiveISDs = []string{in.Source}
	p.AttributeSources = map[string]models.AttributeSource{}
	for _, f := range fields {
		v := in.Attributes[f]
		setBridgeValue(p, f, v)
		if !emptyBridgeValue(v) {
			p.AttributeSources[f] = models.AttributeSource{Source: in.Source, Timestamp: stamp}
		}
	}
	slug, err := s.userSlug(ctx, p.Username)
	if err != nil {
		return nil, err
	}
	p.Slug = slug
	res := s.DB.WithContext(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "username"}}, DoNothing: true}).Create(p)
	if res.Error != nil {
		return nil, bridgeWriteError(res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, nil
	}
	return p, nil
}

// bridgeWriteError turns a unique violation (the civil number, the only
// other unique column a push writes) into a field error.
func bridgeWriteError(err error) error {
	e := translate(err, "User")
	if models.IsCode(e, models.CodeConflict) {
		return models.FieldError("civil_number", "User with this civil number already exists.")
	}
	return e
}

// updateBridgeUser applies a push to the locked user p.
func (s *Store) updateBridgeUser(ctx context.Context, p *UserProfile, in BridgePush, fields []string, now time.Time, stamp string) (*BridgePushResult, error) {
	if !p.IsActive {
		return nil, &models.Error{Code: models.CodeInvalid, Message: fmt.Sprintf("User %s is deactivated.", p.Username), Err: ErrBridgeUserDeactivated}
	}
	sources := map[string]models.AttributeSource{}
	for k, v := range p.AttributeSources {
		sources[k] = v
	}
	cols := map[string]any{}
	var updated []string
	for _, f := range fields {
		v := in.Attributes[f]
		owner := sources[f].Source
		if emptyBridgeValue(v) && owner != "" && owner != in.Source {
			continue // preserve another ISD's value
		}
		if !reflect.DeepEqual(bridgeValue(p, f), normalizeBridgeValue(v)) {
			cols[f] = setBridgeValue(p, f, v)
			updated = append(updated, f)
		}
		sources[f] = models.AttributeSource{Source: in.Source, Timestamp: stamp}
	}
	active := nonNil(slices.Clone(p.ActiveISDs))
	if !slices.Contains(active, in.Source) {
		active = append(active, in.Source)
		updated = append(updated, "active_isds")
	}
	if len(cols) > 0 || len(fields) > 0 || len(active) != len(p.ActiveISDs) {
		p.ActiveISDs, p.AttributeSources, p.Modified = active, sources, now
		cols["active_isds"], cols["attribute_sources"], cols["modified"] = jsonText(active), jsonText(sources), now
		if err := s.DB.WithContext(ctx).Model(&UserProfile{}).Where("id = ?", p.ID).Updates(cols).Error; err != nil {
			return nil, bridgeWriteError(err)
		}
	}
	sort.Strings(updated)
	if updated == nil {
		updated = []string{}
	}
	return &BridgePushResult{User: p, UpdatedFields: updated}, nil
}

// RemoveBridgeUser is source's signal that username left it (Waldur's
// remove_user_from_isd), in one transaction with the events ev returns:
// the source leaves active_isds, the attributes it owns are cleared and
// leave attribute_sources, and the user is deactivated as policy says
// (models.DeactivateOnAnyISDRemoved: always; DeactivateOnAllISDsRemoved:
// when no ISD remains). deactivated reports whether the policy
// deactivated the user (also when it was inactive already). Callers: the
// bridge handler, after checking the caller may act for the source.
// Codes: not_found ("User <username> not found.").
func (s *Store) RemoveBridgeUser(ctx context.Context, in BridgeRemove, ev func(p *UserProfile, wasActive, deactivated bool) []*models.Event) (p *UserProfile, deactivated bool, err error) {
	username, source, policy := in.Username, in.Source, in.Policy
	err = s.Tx(ctx, func(tx *Store) error {
		var err error
		p, err = tx.lockUserByUsername(ctx, username)
		if models.IsCode(err, models.CodeNotFound) {
			return models.Errorf(models.CodeNotFound, "User %s not found.", username)
		}
		if err != nil {
			return err
		}
		if err := bridgeGuard(p, in.ByStaff); err != nil {
			return err
		}
		if !slices.Contains(p.ActiveISDs, source) {
			// The ISD does not assert this user (never did, or was removed
			// already: a retried removal): nothing changes, nobody is
			// deactivated by an ISD that is not theirs.
			deactivated = false
			return nil
		}
		wasActive := p.IsActive
		cols := map[string]any{}
		active := slices.DeleteFunc(nonNil(slices.Clone(p.ActiveISDs)), func(s string) bool { return s == source })
		sources := map[string]models.AttributeSource{}
		owned := []string{}
		for k, v := range p.AttributeSources {
			if v.Source == source {
				owned = append(owned, k)
				continue
			}
			sources[k] = v
		}
		sort.Strings(owned)
		for _, f := range owned {
			if models.IsBridgeAttribute(f) {
				cols[f] = clearBridgeValue(p, f)
			}
		}
		deactivated = policy == models.DeactivateOnAnyISDRemoved || len(active) == 0
		if deactivated {
			p.IsActive = false
		}
		p.ActiveISDs, p.AttributeSources, p.Modified = active, sources, tx.Now()
		cols["active_isds"], cols["attribute_sources"], cols["is_active"], cols["modified"] = jsonText(active), jsonText(sources), p.IsActive, p.Modified
		if err := tx.DB.WithContext(ctx).Model(&UserProfile{}).Where("id = ?", p.ID).Updates(cols).Error; err != nil {
			return translate(err, "User")
		}
		if deactivated {
			// A deactivated user's browser sessions end (sessions.go).
			if err := tx.DeleteUserSessions(ctx, p.ID); err != nil {
				return err
			}
		}
		if ev == nil {
			return nil
		}
		for _, e := range ev(p, wasActive, deactivated) {
			if err := tx.EmitEvent(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return p, deactivated, nil
}

// ISDUserCount is one ISD's users in the bridge's statistics.
type ISDUserCount struct {
	ISD string
	// Users: those whose active_isds holds the ISD.
	Users int
	// Stale: those of them whose latest attribute from the ISD is older
	// than the threshold, or who have none.
	Stale int
	// OldestSync: the oldest of those latest attribute times (nil: none).
	OldestSync *time.Time
}

// IdentityManagerInfo is an identity manager in the bridge's statistics.
type IdentityManagerInfo struct {
	UUID        models.UUID
	FullName    string // the username when the user has no name
	ManagedISDs []string
}

// BridgeStats are the Identity Bridge's statistics.
type BridgeStats struct {
	// Federated: users with an ISD in active_isds; Active: those active.
	Federated, ActiveFederated int
	PerISD                     []ISDUserCount // most users first, then by name
	Managers                   []IdentityManagerInfo
}

// IdentityBridgeStats counts the federated users per ISD at now, an ISD's
// user being stale when its latest attribute from the ISD is more than
// staleDays old (Waldur's get_identity_bridge_stats), and lists the
// active identity managers by name. It reads the users with an active_isds value
// in batches. Callers: staff (the handler checks).
func (s *Store) IdentityBridgeStats(ctx context.Context, now time.Time, staleDays int) (*BridgeStats, error) {
	type row struct {
		ID               int64
		IsActive         bool
		ActiveISDs       []string                          `gorm:"column:active_isds;serializer:json"`
		AttributeSources map[string]models.AttributeSource `gorm:"column:attribute_sources;serializer:json"`
	}
	out := &BridgeStats{PerISD: []ISDUserCount{}, Managers: []IdentityManagerInfo{}}
	per := map[string]*ISDUserCount{}
	threshold := time.Duration(staleDays) * 24 * time.Hour
	var rows []row
	err := s.DB.WithContext(ctx).Table("users").Select("id, is_active, active_isds, attribute_sources").
		Where("active_isds IS NOT NULL").FindInBatches(&rows, 500, func(*gorm.DB, int) error {
		for _, r := range rows {
			if len(r.ActiveISDs) == 0 {
				continue
			}
			out.Federated++
			if r.IsActive {
				out.ActiveFederated++
			}
			for _, isd := range r.ActiveISDs {
				c := per[isd]
				if c == nil {
					c = &ISDUserCount{ISD: isd}
					per[isd] = c
				}
				c.Users++
				var latest *time.Time
				for _, src := range r.AttributeSources {
					if src.Source != isd {
						continue
					}
					ts, err := time.Parse(time.RFC3339Nano, src.Timestamp)
					if err != nil {
						continue
					}
					if latest == nil || ts.After(*latest) {
						latest = &ts
					}
				}
				switch {
				case latest == nil:
					c.Stale++
				default:
					if now.Sub(*latest) > threshold {
						c.Stale++
					}
					if c.OldestSync == nil || latest.Before(*c.OldestSync) {
						c.OldestSync = latest
					}
				}
			}
		}
		return nil
	}).Error
	if err != nil {
		return nil, models.Internal(err)
	}
	for _, c := range per {
		out.PerISD = append(out.PerISD, *c)
	}
	sort.Slice(out.PerISD, func(i, j int) bool {
		a, b := out.PerISD[i], out.PerISD[j]
		if a.Users != b.Users {
			return a.Users > b.Users
		}
		return a.ISD < b.ISD
	})
	var managers []UserProfile
	if err := s.DB.WithContext(ctx).Where("is_identity_manager = ? AND is_active = ?", true, true).Order("first_name, last_name, username").
		Find(&managers).Error; err != nil {
		return nil, models.Internal(err)
	}
	for i := range managers {
		m := &managers[i]
		name := m.FullName()
		if name == "" {
			name = m.Username
		}
		out.Managers = append(out.Managers, IdentityManagerInfo{UUID: m.UUID, FullName: name, ManagedISDs: nonNil(m.ManagedISDs)})
	}
	return out, nil
}
