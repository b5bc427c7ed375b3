package saml2

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// IdentityProvider is a known IdP (Waldur's IdentityProvider): its entity
// ID (Waldur's url), display name and metadata (one EntityDescriptor).
type IdentityProvider struct {
	ID       int64
	EntityID string
	Name     string
	Metadata string
	Source   string
	Modified time.Time
}

// TableName is the IdPs' table.
func (IdentityProvider) TableName() string { return "saml2_identity_providers" }

type requestRow struct {
	ID      string
	IdP     string `gorm:"column:idp"`
	Expires time.Time
	// WantSession: the login asked for a browser session too.
	WantSession bool
}

func (requestRow) TableName() string { return "saml2_requests" }

type assertionRow struct {
	ID      string
	Expires time.Time
}

func (assertionRow) TableName() string { return "saml2_assertions" }

// Session is a SAML2 login a single logout ends: the user, the IdP and
// the subject the IdP named.
type Session struct {
	ID           int64
	UserID       int64
	IdP          string `gorm:"column:idp"`
	NameID       string
	NameIDFormat string
	SessionIndex string
	Created      time.Time
}

// TableName is the sessions' table.
func (Session) TableName() string { return "saml2_sessions" }

// Store keeps the SAML2 tables.
type Store struct{ st *store.Store }

// NewStore returns the SAML2 store over st.
func NewStore(st *store.Store) *Store { return &Store{st: st} }

func (s *Store) db(ctx context.Context) *gorm.DB { return s.st.DB.WithContext(ctx) }

// errReplayed is a consumed id used again.
var errReplayed = errors.New("already used")

// Providers is the IdPs whose name contains name (case-insensitive; empty:
// all), for a list endpoint to order and page.
func (s *Store) Providers(ctx context.Context, name string) store.Query {
	q := s.db(ctx).Model(&IdentityProvider{}).Select("id", "entity_id", "name")
	if name = strings.TrimSpace(name); name != "" {
		r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
		q = q.Where(`LOWER(name) LIKE ? ESCAPE '\'`, "%"+r.Replace(strings.ToLower(name))+"%")
	}
	return store.QueryOf(q)
}

// Provider returns the IdP with this entity ID. Codes: not_found.
func (s *Store) Provider(ctx context.Context, entityID string) (*IdentityProvider, error) {
	var p IdentityProvider
	err := s.db(ctx).Where("entity_id = ?", entityID).Take(&p).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, models.Errorf(models.CodeNotFound, "Identity provider not found.")
	}
	if err != nil {
		return nil, models.Internal(err)
	}
	return &p, nil
}

// SyncProviders makes the IdPs of source exactly ps: new ones inserted,
// known ones updated, the source's others deleted. Rows are written in
// batches, so a federation's thousands of IdPs take a few statements.
func (s *Store) SyncProviders(ctx context.Context, source string, ps []IdentityProvider) (added, removed int, err error) {
	err = s.st.Tx(ctx, func(tx *store.Store) error {
		db := tx.DB.WithContext(ctx)
		now := tx.Now()
		keep := make(map[string]bool, len(ps))
		rows := make([]IdentityProvider, 0, len(ps))
		for _, p := range ps {
			if keep[p.EntityID] {
				continue
			}
			keep[p.EntityID] = true
			p.ID, p.Source, p.Modified = 0, source, now
			rows = append(rows, p)
		}
		var before int64
		if err := db.Model(&IdentityProvider{}).Count(&before).Error; err != nil {
			return models.Internal(err)
		}
		if len(rows) > 0 {
			if err := db.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "entity_id"}},
				DoUpdates: clause.AssignmentColumns([]string{"name", "metadata", "source", "modified"})}).
				CreateInBatches(&rows, 200).Error; err != nil {
				return models.Internal(err)
			}
		}
		// The source's IdPs not in ps are gone from it.
		var had []string
		if err := db.Model(&IdentityProvider{}).Where("source = ?", source).Pluck("entity_id", &had).Error; err != nil {
			return models.Internal(err)
		}
		var gone []string
		for _, id := range had {
			if !keep[id] {
				gone = append(gone, id)
			}
		}
		for len(gone) > 0 {
			n := min(len(gone), 500)
			res := db.Where("source = ? AND entity_id IN ?", source, gone[:n]).Delete(&IdentityProvider{})
			if res.Error != nil {
				return models.Internal(res.Error)
			}
			removed += int(res.RowsAffected)
			gone = gone[n:]
		}
		var after int64
		if err := db.Model(&IdentityProvider{}).Count(&after).Error; err != nil {
			return models.Internal(err)
		}
		added = int(after - before + int64(removed))
		return nil
	})
	return added, removed, err
}

// AddRequest records an AuthnRequest sent to idp, answerable until expires.
func (s *Store) AddRequest(ctx context.Context, id, idp string, expires time.Time) error {
	if err := s.db(ctx).Create(&requestRow{ID: id, IdP: idp, Expires: expires}).Error; err != nil {
		return models.Internal(err)
	}
	return nil
}

// AddLoginRequest records a login's AuthnRequest, and whether the login
// asked for a browser session.
func (s *Store) AddLoginRequest(ctx context.Context, id, idp string, expires time.Time, wantSession bool) error {
	if err := s.db(ctx).Create(&requestRow{ID: id, IdP: idp, Expires: expires, WantSession: wantSession}).Error; err != nil {
		return models.Internal(err)
	}
	return nil
}

// WantsSession tells whether the login of the request id asked for a
// browser session (false for an unknown request).
func (s *Store) WantsSession(ctx context.Context, id string) (bool, error) {
	var want []bool
	if err := s.db(ctx).Model(&requestRow{}).Where("id = ?", id).Pluck("want_session", &want).Error; err != nil {
		return false, models.Internal(err)
	}
	return len(want) > 0 && want[0], nil
}

// Request tells whether the AuthnRequest id was sent to idp and may still
// be answered.
func (s *Store) Request(ctx context.Context, id, idp string) (bool, error) {
	var n int64
	err := s.db(ctx).Model(&requestRow{}).Where("id = ? AND idp = ? AND expires > ?", id, idp, s.st.Now()).Count(&n).Error
	if err != nil {
		return false, models.Internal(err)
	}
	return n > 0, nil
}

// ConsumeAssertion records the assertion id as used until expires;
// errReplayed when it was recorded already.
func (s *Store) ConsumeAssertion(ctx context.Context, id string, expires time.Time) error {
	res := s.db(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&assertionRow{ID: id, Expires: expires})
	if res.Error != nil {
		return models.Internal(res.Error)
	}
	if res.RowsAffected == 0 {
		return errReplayed
	}
	return nil
}

// Login finishes a verified login in one transaction: the AuthnRequest
// answered (errReplayed if another login took it), the user written by
// write, the SAML2 session recorded and the user's token issued.
func (s *Store) Login(ctx context.Context, requestID string, sess Session, write func(tx *store.Store) (*models.User, error)) (*models.User, *models.Token, error) {
	var u *models.User
	var tok *models.Token
	err := s.st.Tx(ctx, func(tx *store.Store) error {
		if requestID != "" {
			res := tx.DB.WithContext(ctx).Where("id = ?", requestID).Delete(&requestRow{})
			if res.Error != nil {
				return models.Internal(res.Error)
			}
			if res.RowsAffected == 0 {
				return errReplayed
			}
		}
		var err error
		if u, err = write(tx); err != nil {
			return err
		}
		sess.ID, sess.UserID, sess.Created = 0, u.ID, tx.Now()
		if err := tx.DB.WithContext(ctx).Create(&sess).Error; err != nil {
			return models.Internal(err)
		}
		tok, err = tx.LoginToken(ctx, u)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return u, tok, nil
}

// LatestSession is the user's last SAML2 login. Codes: not_found.
func (s *Store) LatestSession(ctx context.Context, userID int64) (*Session, error) {
	var out Session
	err := s.db(ctx).Where("user_id = ?", userID).Order("created DESC, id DESC").Take(&out).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, models.Errorf(models.CodeNotFound, "No SAML2 session.")
	}
	if err != nil {
		return nil, models.Internal(err)
	}
	return &out, nil
}

// EndSessions deletes the sessions of the subject nameID at idp and the
// tokens of their users (an IdP's logout request); it returns the users.
func (s *Store) EndSessions(ctx context.Context, idp, nameID string, ev func(userID int64) *models.Event) ([]int64, error) {
	var ids []int64
	err := s.st.Tx(ctx, func(tx *store.Store) error {
		db := tx.DB.WithContext(ctx)
		if err := db.Model(&Session{}).Where("idp = ? AND name_id = ?", idp, nameID).Distinct().Pluck("user_id", &ids).Error; err != nil {
			return models.Internal(err)
		}
		for _, id := range ids {
			if err := endUser(ctx, tx, id, ev); err != nil {
				return err
			}
		}
		return nil
	})
	return ids, err
}

// EndUserSessions deletes the user's SAML2 sessions and token (a logout
// the user starts).
func (s *Store) EndUserSessions(ctx context.Context, userID int64, ev func(userID int64) *models.Event) error {
	return s.st.Tx(ctx, func(tx *store.Store) error { return endUser(ctx, tx, userID, ev) })
}

func endUser(ctx context.Context, tx *store.Store, userID int64, ev func(userID int64) *models.Event) error {
	if err := tx.DB.WithContext(ctx).Where("user_id = ?", userID).Delete(&Session{}).Error; err != nil {
		return models.Internal(err)
	}
	var e *models.Event
	if ev != nil {
		e = ev(userID)
	}
	return tx.DeleteToken(ctx, userID, e)
}

// Prune deletes the AuthnRequests and consumed assertion ids past their
// expiry.
func (s *Store) Prune(ctx context.Context) error {
	now := s.st.Now()
	if err := s.db(ctx).Where("expires < ?", now).Delete(&requestRow{}).Error; err != nil {
		return models.Internal(err)
	}
	if err := s.db(ctx).Where("expires < ?", now).Delete(&assertionRow{}).Error; err != nil {
		return models.Internal(err)
	}
	return nil
}

// DropRequest forgets a request once answered.
func (s *Store) DropRequest(ctx context.Context, id string) error {
	if err := s.db(ctx).Where("id = ?", id).Delete(&requestRow{}).Error; err != nil {
		return models.Internal(err)
	}
	return nil
}
