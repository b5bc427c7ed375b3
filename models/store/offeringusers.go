package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/waldur-go/waldur/models"
)

// offeringUserRow is a row of offering_users.
type offeringUserRow struct {
	ID                        int64 `gorm:"primaryKey"`
	UUID                      models.UUID
	OfferingID                int64
	UserID                    int64
	Username                  string
	State                     models.OfferingUserState
	IsRestricted              bool
	ServiceProviderComment    string
	ServiceProviderCommentURL string `gorm:"column:service_provider_comment_url"`
	Created                   time.Time
	Modified                  time.Time
}

func (offeringUserRow) TableName() string { return "offering_users" }

func (r *offeringUserRow) model() *models.OfferingUser {
	return &models.OfferingUser{ID: r.ID, UUID: r.UUID, OfferingID: r.OfferingID, UserID: r.UserID, Username: r.Username,
		State: r.State, IsRestricted: r.IsRestricted, ServiceProviderComment: r.ServiceProviderComment,
		ServiceProviderCommentURL: r.ServiceProviderCommentURL, Created: r.Created, Modified: r.Modified}
}

// OfferingUserView is an offering user joined with what its API rendering
// shows about the offering (f), the offering's customer (c) and the user (u).
type OfferingUserView struct {
	ID                        int64
	UUID                      models.UUID
	OfferingID                int64
	UserID                    int64
	Username                  string
	State                     models.OfferingUserState
	IsRestricted              bool
	ServiceProviderComment    string
	ServiceProviderCommentURL string
	Created                   time.Time
	Modified                  time.Time
	OfferingUUID              models.UUID
	OfferingName              string
	OfferingCustomerID        int64
	CustomerUUID              models.UUID
	CustomerName              string
	UserUUID                  models.UUID
	UserUsername              string
	UserFirstName             string
	UserLastName              string
	UserEmail                 string
	UserPhoneNumber           string
	UserOrganization          string
	UserJobTitle              string
	// The user's profile attributes the offering user copies (shown to the
	// provider as the offering's attribute exposure says).
	UserAffiliations             []string `gorm:"serializer:json"`
	UserGender                   *int
	UserPersonalTitle            string
	UserPlaceOfBirth             string
	UserCountryOfResidence       string
	UserNationality              string
	UserNationalities            []string `gorm:"serializer:json"`
	UserOrganizationCountry      string
	UserOrganizationType         string
	UserOrganizationRegistryCode string
	UserEdupersonAssurance       []string `gorm:"serializer:json"`
	UserCivilNumber              *string
	UserBirthDate                *time.Time
	UserIdentitySource           string
	UserActiveISDs               []string `gorm:"column:user_active_isds;serializer:json"`
}

// OfferingUserViews is the query over offering users joined for
// OfferingUserView (aliases: offering_users, f (offerings), c (the
// offering's customer), u (users)).
func (s *Store) OfferingUserViews(ctx context.Context) *gorm.DB {
	return s.DB.WithContext(ctx).Table("offering_users").Select(`offering_users.id, offering_users.uuid, offering_users.offering_id,
		offering_users.user_id, offering_users.username, offering_users.state, offering_users.is_restricted,
		offering_users.service_provider_comment, offering_users.service_provider_comment_url, offering_users.created,
		offering_users.modified, f.uuid AS offering_uuid, f.name AS offering_name, f.customer_id AS offering_customer_id,
		c.uuid AS customer_uuid, c.name AS customer_name, u.uuid AS user_uuid, u.username AS user_username,
		u.first_name AS user_first_name, u.last_name AS user_last_name, u.email AS user_email,
		u.phone_number AS user_phone_number, u.organization AS user_organization, u.job_title AS user_job_title,
		u.affiliations AS user_affiliations, u.gender AS user_gender, u.personal_title AS user_personal_title,
		u.place_of_birth AS user_place_of_birth, u.country_of_residence AS user_country_of_residence,
		u.nationality AS user_nationality, u.nationalities AS user_nationalities,
		u.organization_country AS user_organization_country, u.organization_type AS user_organization_type,
		u.organization_registry_code AS user_organization_registry_code, u.eduperson_assurance AS user_eduperson_assurance,
		u.civil_number AS user_civil_number, u.birth_date AS user_birth_date, u.identity_source AS user_identity_source,
		u.active_isds AS user_active_isds`).
		Joins("JOIN offerings f ON f.id = offering_users.offering_id").
		Joins("JOIN customers c ON c.id = f.customer_id").
		Joins("JOIN users u ON u.id = offering_users.user_id")
}

// OfferingUserFilter limits an OfferingUserViews query to what a user with
// these role scopes sees: the offering users of offerings whose customer
// they hold a role in, of offerings they hold a role on, and their own.
func (rs *RoleScopes) OfferingUserFilter(q *gorm.DB, userID int64) *gorm.DB {
	return q.Where("(f.customer_id IN ? OR offering_users.offering_id IN ? OR offering_users.user_id = ?)",
		nonEmpty(rs.Customers), nonEmpty(rs.Offerings), userID)
}

// OfferingUserByUUID loads one offering user's view. Codes: not_found.
func (s *Store) OfferingUserByUUID(ctx context.Context, id models.UUID) (*OfferingUserView, error) {
	var v OfferingUserView
	if err := s.OfferingUserViews(ctx).Where("offering_users.uuid = ?", id).Take(&v).Error; err != nil {
		return nil, translate(err, "Offering user")
	}
	return &v, nil
}

// NewOfferingUser is an account of User on Offering to record.
type NewOfferingUser struct {
	Offering *Offering
	User     *models.User
	// Username is the account's name; nil generates it by the offering's
	// username policy (plugin_options.username_generation_policy).
	Username *string
}

func offeringUserEvent(o *Offering, u *models.User, ou *offeringUserRow, typ, verb string) *models.Event {
	return &models.Event{EventType: typ,
		Message: fmt.Sprintf("Account %q of user %s in offering %s has been %s.", ou.Username, u.Username, o.Name, verb),
		Context: map[string]any{"offering_user_uuid": ou.UUID.String(), "offering_uuid": o.UUID.String(), "offering_name": o.Name,
			"affected_user_uuid": u.UUID.String(), "affected_user_username": u.Username, "username": ou.Username,
			"state": string(ou.State), "is_restricted": ou.IsRestricted},
		Scopes: []models.Scope{o.Scope(), {Type: models.ScopeCustomer, ID: o.CustomerID}, {Type: models.ScopeUser, ID: u.ID}}}
}

// CreateOfferingUser records the account of in.User on in.Offering: state
// Requested, or OK when its username is known (given, or generated by the
// offering's policy). Generation numbers names per offering; the
// offering's row is locked meanwhile, so concurrent creations never pick
// the same number. Emits marketplace_offering_user_created.
// Codes: invalid (the user has an account on the offering already).
func (s *Store) CreateOfferingUser(ctx context.Context, in NewOfferingUser) (*models.OfferingUser, error) {
	var out *models.OfferingUser
	err := s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		var o Offering
		if err := forUpdate(db).Where("id = ?", in.Offering.ID).Take(&o).Error; err != nil {
			return translate(err, "Offering")
		}
		var n int64
		if err := db.Model(&offeringUserRow{}).Where("offering_id = ? AND user_id = ?", o.ID, in.User.ID).Count(&n).Error; err != nil {
			return models.Internal(err)
		}
		if n > 0 {
			return &models.Error{Code: models.CodeInvalid, Message: "The fields offering, user must make a unique set.",
				Fields: map[string][]string{"non_field_errors": {"The fields offering, user must make a unique set."}}}
		}
		username := ""
		if in.Username != nil {
			username = *in.Username
		} else {
			var err error
			if username, err = tx.generateUsername(ctx, &o, in.User); err != nil {
				return err
			}
		}
		now := tx.Now()
		row := offeringUserRow{UUID: models.NewUUID(), OfferingID: o.ID, UserID: in.User.ID, Username: username,
			State: models.OfferingUserRequested, Created: now, Modified: now}
		if username != "" {
			row.State = models.OfferingUserOK
		}
		if err := db.Create(&row).Error; err != nil {
			return translate(err, "Offering user")
		}
		out = row.model()
		return tx.EmitEvent(ctx, offeringUserEvent(&o, in.User, &row, "marketplace_offering_user_created", "created"))
	})
	return out, err
}

// generateUsername names u's account on o by o's policy, continuing the
// numbering of the names o has already given.
func (s *Store) generateUsername(ctx context.Context, o *Offering, u *models.User) (string, error) {
	policy, prefix := models.UsernameOptions(o.PluginOptions)
	var taken []string
	if stem := models.UsernameStem(policy, prefix, u); stem != "" {
		err := s.DB.WithContext(ctx).Model(&offeringUserRow{}).
			Where("offering_id = ? AND LOWER(SUBSTR(username, 1, ?)) = LOWER(?)", o.ID, len(stem), stem).
			Pluck("username", &taken).Error
		if err != nil {
			return "", models.Internal(err)
		}
	}
	return models.GenerateUsername(policy, prefix, u, taken), nil
}

// OfferingUserChange is one change of an offering user; nil fields stay.
type OfferingUserChange struct {
	// Username sets the account's name; a new non-empty name completes an
	// account still being created (state OK, see models.UsernameCompletes).
	Username *string
	// Action moves the state (models.OfferingUserTransition); Comment and
	// CommentURL go with the two pending actions.
	Action     string
	Comment    *string
	CommentURL *string
	// IsRestricted flags the account restricted or not.
	IsRestricted *bool
	// SetComments replaces the service provider's comment and URL by
	// Comment and CommentURL (when not nil), without a state change.
	SetComments bool
}

// ChangeOfferingUser applies ch to the offering user under a row lock and
// emits marketplace_offering_user_updated (or _restriction_updated for a
// restriction change). Codes: not_found, conflict (an action the state
// does not allow).
func (s *Store) ChangeOfferingUser(ctx context.Context, id models.UUID, ch OfferingUserChange) (*models.OfferingUser, error) {
	var out *models.OfferingUser
	err := s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		var row offeringUserRow
		if err := forUpdate(db).Where("uuid = ?", id).Take(&row).Error; err != nil {
			return translate(err, "Offering user")
		}
		before := row
		if ch.Action != "" {
			to, err := models.OfferingUserTransition(ch.Action, row.State)
			if err != nil {
				return err
			}
			row.State = to
			switch {
			case models.OfferingUserActionTakesComment(ch.Action):
				ch.SetComments = true
			case models.OfferingUserActionClearsComment(ch.Action):
				row.ServiceProviderComment, row.ServiceProviderCommentURL = "", ""
			}
		}
		if ch.SetComments {
			if ch.Comment != nil {
				row.ServiceProviderComment = *ch.Comment
			}
			if ch.CommentURL != nil {
				row.ServiceProviderCommentURL = *ch.CommentURL
			}
		}
		if ch.Username != nil && *ch.Username != row.Username {
			row.Username = *ch.Username
			if row.Username != "" && models.UsernameCompletes(row.State) {
				row.State = models.OfferingUserOK
			}
		}
		if ch.IsRestricted != nil {
			row.IsRestricted = *ch.IsRestricted
		}
		out = row.model()
		if row == before {
			return nil
		}
		row.Modified = tx.Now()
		err := db.Model(&offeringUserRow{}).Where("id = ?", row.ID).Updates(map[string]any{
			"username": row.Username, "state": row.State, "is_restricted": row.IsRestricted,
			"service_provider_comment": row.ServiceProviderComment, "service_provider_comment_url": row.ServiceProviderCommentURL,
			"modified": row.Modified}).Error
		if err != nil {
			return models.Internal(err)
		}
		out = row.model()
		o, u, err := tx.offeringAndUser(ctx, row.OfferingID, row.UserID)
		if err != nil {
			return err
		}
		typ := "marketplace_offering_user_updated"
		if row.IsRestricted != before.IsRestricted {
			typ = "marketplace_offering_user_restriction_updated"
		}
		return tx.EmitEvent(ctx, offeringUserEvent(o, u, &row, typ, "updated"))
	})
	return out, err
}

func (s *Store) offeringAndUser(ctx context.Context, offeringID, userID int64) (*Offering, *models.User, error) {
	var o Offering
	if err := s.DB.WithContext(ctx).Where("id = ?", offeringID).Take(&o).Error; err != nil {
		return nil, nil, translate(err, "Offering")
	}
	var u userRow
	if err := s.DB.WithContext(ctx).Where("id = ?", userID).Take(&u).Error; err != nil {
		return nil, nil, translate(err, "User")
	}
	return &o, u.model(), nil
}

// DeleteOfferingUser deletes the offering user and emits
// marketplace_offering_user_deleted. Codes: not_found.
func (s *Store) DeleteOfferingUser(ctx context.Context, id models.UUID) error {
	return s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		var row offeringUserRow
		if err := forUpdate(db).Where("uuid = ?", id).Take(&row).Error; err != nil {
			return translate(err, "Offering user")
		}
		// Usage reported per user keeps its username; the link goes (ON DELETE SET NULL).
		if err := db.Where("id = ?", row.ID).Delete(&offeringUserRow{}).Error; err != nil {
			return models.Internal(err)
		}
		o, u, err := tx.offeringAndUser(ctx, row.OfferingID, row.UserID)
		if err != nil {
			return err
		}
		return tx.EmitEvent(ctx, offeringUserEvent(o, u, &row, "marketplace_offering_user_deleted", "deleted"))
	})
}

// OfferingUsername is a user's account name on an offering and its state.
type OfferingUsername struct {
	Username string
	State    string
}

// OfferingUsernames returns the accounts of the users on the offering, by
// user id; users without one are absent. For the resource team/ view
// (offering_user_username, offering_user_state).
func (s *Store) OfferingUsernames(ctx context.Context, offeringID int64, userIDs []int64) (map[int64]OfferingUsername, error) {
	out := map[int64]OfferingUsername{}
	if len(userIDs) == 0 {
		return out, nil
	}
	var rows []offeringUserRow
	if err := s.DB.WithContext(ctx).Where("offering_id = ? AND user_id IN ?", offeringID, userIDs).Find(&rows).Error; err != nil {
		return nil, models.Internal(err)
	}
	for _, r := range rows {
		out[r.UserID] = OfferingUsername{Username: r.Username, State: string(r.State)}
	}
	return out, nil
}
