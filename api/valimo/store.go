package valimo

import (
	"context"
	"crypto/rand"
	"errors"
	"math/big"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// The states of a login (Waldur's AuthResult.States).
const (
	StateScheduled  = "Scheduled"
	StateProcessing = "Processing"
	StateOK         = "OK"
	StateCanceled   = "Canceled"
	StateErred      = "Erred"
)

// Final tells whether a state ends the login.
func Final(state string) bool {
	return state == StateOK || state == StateCanceled || state == StateErred
}

// Result is a login asked for (Waldur's AuthResult): the phone, the code
// shown to the user (message), the state, the MSSP's transaction id, and
// on success the user and the token issued.
type Result struct {
	ID                   int64
	UUID                 models.UUID
	UserID               *int64
	Phone                string
	Message              string
	State                string
	Details              string
	ErrorMessage         string
	BackendTransactionID string
	Token                string
	Created, Modified    time.Time
}

// TableName is the results' table.
func (Result) TableName() string { return "valimo_auth_results" }

// Store keeps the Valimo results.
type Store struct{ st *store.Store }

// NewStore returns the Valimo store over st.
func NewStore(st *store.Store) *Store { return &Store{st: st} }

func (s *Store) db(ctx context.Context) *gorm.DB { return s.st.DB.WithContext(ctx) }

// code is a random four-digit code, shown on the phone and in the front end.
func code() string {
	n, err := rand.Int(rand.Reader, big.NewInt(10000))
	if err != nil {
		panic(err)
	}
	s := n.String()
	for len(s) < 4 {
		s = "0" + s
	}
	return s
}

// CreateThrottled records a new login of phone as Create does, unless the
// phone started limit logins or more within window already (limit 0: no
// limit): then it returns, with a throttled error, when the oldest of
// them leaves the window. On PostgreSQL the phone's count and insert are
// serialized by a transaction-scoped advisory lock, so concurrent starts
// cannot pass the limit together (SQLite serializes writers anyway).
func (s *Store) CreateThrottled(ctx context.Context, phone string, limit int, window time.Duration) (*Result, time.Time, error) {
	if limit <= 0 || window <= 0 {
		r, err := s.Create(ctx, phone)
		return r, time.Time{}, err
	}
	var out *Result
	var retry time.Time
	err := s.st.Tx(ctx, func(tx *store.Store) error {
		db := tx.DB.WithContext(ctx)
		if db.Dialector.Name() == "postgres" {
			if err := db.Exec("SELECT pg_advisory_xact_lock(hashtext(?))", "valimo:"+phone).Error; err != nil {
				return models.Internal(err)
			}
		}
		now := tx.Now()
		var created []time.Time
		if err := db.Model(&Result{}).Where("phone = ? AND created > ?", phone, now.Add(-window)).
			Order("created").Limit(limit).Pluck("created", &created).Error; err != nil {
			return models.Internal(err)
		}
		if len(created) >= limit {
			retry = created[0].Add(window)
			return models.Errorf(models.CodeThrottled, "Request was throttled.")
		}
		r, err := NewStore(tx).Create(ctx, phone)
		out = r
		return err
	})
	return out, retry, err
}

// Create records a new login of phone, Scheduled, with a fresh uuid and code.
func (s *Store) Create(ctx context.Context, phone string) (*Result, error) {
	now := s.st.Now()
	r := &Result{UUID: models.NewUUID(), Phone: phone, Message: code(), State: StateScheduled, Created: now, Modified: now}
	if err := s.db(ctx).Create(r).Error; err != nil {
		return nil, models.Internal(err)
	}
	return r, nil
}

// Get returns the result of uuid. Codes: not_found.
func (s *Store) Get(ctx context.Context, id models.UUID) (*Result, error) {
	var r Result
	err := s.db(ctx).Where("uuid = ?", id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, models.Errorf(models.CodeNotFound, "Not found.")
	}
	if err != nil {
		return nil, models.Internal(err)
	}
	return &r, nil
}

// SetProcessing records the MSSP's transaction id of a Scheduled login.
func (s *Store) SetProcessing(ctx context.Context, id models.UUID, txid string) error {
	err := s.db(ctx).Model(&Result{}).Where("uuid = ? AND state = ?", id, StateScheduled).
		Updates(map[string]any{"state": StateProcessing, "backend_transaction_id": txid, "modified": s.st.Now()}).Error
	if err != nil {
		return models.Internal(err)
	}
	return nil
}

// Finish ends a login not ended yet with state (Canceled or Erred), its
// details and error message; an ended one is left as it is.
func (s *Store) Finish(ctx context.Context, id models.UUID, state, details, errMsg string) error {
	err := s.db(ctx).Model(&Result{}).Where("uuid = ? AND state IN ?", id, []string{StateScheduled, StateProcessing}).
		Updates(map[string]any{"state": state, "details": clip(details, 255), "error_message": errMsg, "modified": s.st.Now()}).Error
	if err != nil {
		return models.Internal(err)
	}
	return nil
}

// Succeed provisions the user through provision and issues its token, and
// ends the login OK with them, in one transaction; a login ended already
// is left as it is (a retried activity). Codes: those of provision.
func (s *Store) Succeed(ctx context.Context, id models.UUID, provision func(tx *store.Store) (*models.User, error)) error {
	return s.st.Tx(ctx, func(tx *store.Store) error {
		db := tx.DB.WithContext(ctx)
		var r Result
		if err := db.Clauses(clause.Locking{Strength: "UPDATE"}).Where("uuid = ?", id).Take(&r).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return nil // deleted meanwhile: nobody waits for it
			}
			return models.Internal(err)
		}
		if Final(r.State) {
			return nil
		}
		u, err := provision(tx)
		if err != nil {
			return err
		}
		tok, err := tx.LoginToken(ctx, u)
		if err != nil {
			return err
		}
		err = db.Model(&Result{}).Where("id = ?", r.ID).Updates(map[string]any{"state": StateOK, "user_id": u.ID,
			"token": tok.Key, "details": "User authenticated.", "modified": tx.Now()}).Error
		if err != nil {
			return models.Internal(err)
		}
		return nil
	})
}

// Prune deletes the results created before cutoff; it returns how many.
func (s *Store) Prune(ctx context.Context, cutoff time.Time) (int64, error) {
	res := s.db(ctx).Where("created < ?", cutoff).Delete(&Result{})
	if res.Error != nil {
		return 0, models.Internal(res.Error)
	}
	return res.RowsAffected, nil
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}
