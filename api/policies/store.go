package policies

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// Kind is a policy family.
type Kind string

// The policy families (Waldur's policy models).
const (
	KindProjectCost   Kind = "project_estimated_cost"
	KindCustomerCost  Kind = "customer_estimated_cost"
	KindOfferingCost  Kind = "offering_estimated_cost"
	KindOfferingUsage Kind = "offering_usage"
	KindSlurm         Kind = "slurm_periodic_usage"
)

// The periods of a policy (Waldur's PolicyPeriodEnum): the figure is what
// accrued in the calendar period holding now.
const (
	PeriodTotal   = 1
	PeriodMonth   = 2
	PeriodQuarter = 3
	PeriodYear    = 4
)

// periodNames are Waldur's period_name values.
var periodNames = map[int]string{PeriodTotal: "Total", PeriodMonth: "1 month", PeriodQuarter: "3 month", PeriodYear: "12 month"}

// ComponentLimit is a usage limit of one offering component over the period.
type ComponentLimit struct {
	Type  string `json:"type"`
	Limit int64  `json:"limit"`
}

// SlurmSettings are the settings of a SLURM periodic usage policy.
type SlurmSettings struct {
	LimitType          string          `json:"limit_type"`
	TRESBillingEnabled bool            `json:"tres_billing_enabled"`
	TRESBillingWeights json.RawMessage `json:"tres_billing_weights"`
	CarryoverFactor    int64           `json:"carryover_factor"`
	GraceRatio         float64         `json:"grace_ratio"`
	CarryoverEnabled   bool            `json:"carryover_enabled"`
	RawUsageReset      bool            `json:"raw_usage_reset"`
	QoSStrategy        string          `json:"qos_strategy"`
}

// defaultSlurm are Waldur's defaults of a SLURM periodic policy.
func defaultSlurm() SlurmSettings {
	return SlurmSettings{LimitType: "GrpTRESMins", CarryoverFactor: 50, GraceRatio: 0.2, CarryoverEnabled: true,
		QoSStrategy: "threshold", TRESBillingWeights: json.RawMessage(`{}`)}
}

// Policy is one policy of any family.
type Policy struct {
	ID                 int64 `gorm:"primaryKey"`
	UUID               models.UUID
	Kind               Kind
	ScopeID            int64
	Actions            string
	Options            []byte
	LimitCost          int64
	Period             int
	ComponentLimits    []byte
	OrganizationGroups []byte
	ApplyToAll         bool
	Settings           []byte
	HasFired           bool
	FiredDatetime      *time.Time
	CreatedByID        *int64
	Created, Modified  time.Time
}

// TableName is the policies' table.
func (Policy) TableName() string { return "marketplace_policies" }

// Limits are the policy's component limits.
func (p *Policy) Limits() []ComponentLimit {
	out := []ComponentLimit{}
	_ = json.Unmarshal(p.ComponentLimits, &out)
	return out
}

// Slurm are the policy's SLURM settings (the defaults filled in).
func (p *Policy) Slurm() SlurmSettings {
	s := defaultSlurm()
	_ = json.Unmarshal(p.Settings, &s)
	if len(s.TRESBillingWeights) == 0 || string(s.TRESBillingWeights) == "null" {
		s.TRESBillingWeights = json.RawMessage(`{}`)
	}
	return s
}

// Firing is a crossing in force (marketplace_policy_firings).
type Firing struct {
	ID       int64 `gorm:"primaryKey"`
	PolicyID int64
	Period   string
	TargetID int64
	Level    string
	Figure   string
	Created  time.Time
}

// TableName is the firings' table.
func (Firing) TableName() string { return "marketplace_policy_firings" }

// Store keeps the policies.
type Store struct{ st *store.Store }

// NewStore returns the policies' store over st.
func NewStore(st *store.Store) *Store { return &Store{st: st} }

func (s *Store) db(ctx context.Context) *gorm.DB { return s.st.DB.WithContext(ctx) }

// scopeTable is the table of a family's scope.
func scopeTable(k Kind) string {
	switch k {
	case KindProjectCost:
		return "projects"
	case KindCustomerCost:
		return "customers"
	}
	return "offerings"
}

// visible limits q (over marketplace_policies) to the policies of kind the
// caller of ctx sees: every one for staff and support; else a project's
// policy to whoever holds a role on the project or its customer, a
// customer's to its team, an offering's to its provider's team and the
// offering's managers.
func (s *Store) visible(ctx context.Context, q *gorm.DB, k Kind) (*gorm.DB, error) {
	rs, err := s.st.CallerRoleScopes(ctx)
	if err != nil {
		return nil, err
	}
	if rs == nil {
		return q, nil
	}
	cs, ps, os := nz(rs.Customers), nz(rs.Projects), nz(rs.Offerings)
	switch k {
	case KindProjectCost:
		return q.Where("marketplace_policies.scope_id IN ? OR marketplace_policies.scope_id IN (SELECT id FROM projects WHERE customer_id IN ?)", ps, cs), nil
	case KindCustomerCost:
		return q.Where("marketplace_policies.scope_id IN ?", cs), nil
	}
	return q.Where("marketplace_policies.scope_id IN ? OR marketplace_policies.scope_id IN (SELECT id FROM offerings WHERE customer_id IN ?)", os, cs), nil
}

func nz(ids []int64) []int64 {
	if len(ids) == 0 {
		return []int64{0}
	}
	return ids
}

// ListQuery is the policies of kind the caller sees, filtered by the
// scope's uuid (scope) and by project and customer (of the scope).
func (s *Store) ListQuery(ctx context.Context, k Kind, f Filter) (*gorm.DB, error) {
	q := s.db(ctx).Model(&Policy{}).Where("marketplace_policies.kind = ?", k)
	q, err := s.visible(ctx, q, k)
	if err != nil {
		return nil, err
	}
	tbl := scopeTable(k)
	if len(f.Scope) > 0 {
		q = q.Where("marketplace_policies.scope_id IN (SELECT id FROM "+tbl+" WHERE uuid IN ?)", f.Scope)
	}
	if len(f.Project) > 0 && k == KindProjectCost {
		q = q.Where("marketplace_policies.scope_id IN (SELECT id FROM projects WHERE uuid IN ?)", f.Project)
	}
	if len(f.Customer) > 0 {
		switch k {
		case KindCustomerCost:
			q = q.Where("marketplace_policies.scope_id IN (SELECT id FROM customers WHERE uuid IN ?)", f.Customer)
		default:
			q = q.Where("marketplace_policies.scope_id IN (SELECT t.id FROM "+tbl+" t JOIN customers c ON c.id = t.customer_id WHERE c.uuid IN ?)", f.Customer)
		}
	}
	return q, nil
}

// Filter are a list's filters (UUIDs).
type Filter struct {
	Scope, Project, Customer []models.UUID
}

// Visible loads the policy of kind and uuid if the caller sees it. Codes:
// not_found.
func (s *Store) Visible(ctx context.Context, k Kind, id models.UUID) (*Policy, error) {
	q, err := s.visible(ctx, s.db(ctx).Model(&Policy{}).Where("kind = ? AND uuid = ?", k, id), k)
	if err != nil {
		return nil, err
	}
	var p Policy
	if err := q.Take(&p).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, models.Errorf(models.CodeNotFound, "Not found.")
		}
		return nil, models.Internal(err)
	}
	return &p, nil
}

// Create records a policy.
func (s *Store) Create(ctx context.Context, p *Policy) error {
	now := s.st.Now()
	p.UUID, p.Created, p.Modified = models.NewUUID(), now, now
	if err := s.db(ctx).Create(p).Error; err != nil {
		return models.Internal(err)
	}
	return nil
}

// Save writes a changed policy.
func (s *Store) Save(ctx context.Context, p *Policy) error {
	p.Modified = s.st.Now()
	err := s.db(ctx).Model(&Policy{}).Where("id = ?", p.ID).Updates(map[string]any{"scope_id": p.ScopeID, "actions": p.Actions,
		"options": p.Options, "limit_cost": p.LimitCost, "period": p.Period, "component_limits": p.ComponentLimits,
		"organization_groups": p.OrganizationGroups, "apply_to_all": p.ApplyToAll, "settings": p.Settings, "modified": p.Modified}).Error
	if err != nil {
		return models.Internal(err)
	}
	return nil
}

// Delete removes a policy, lifting the flags its crossings in force set.
func (s *Store) Delete(ctx context.Context, p *Policy) error {
	return s.st.Tx(ctx, func(tx *store.Store) error {
		var fs []Firing
		if err := tx.DB.WithContext(ctx).Where("policy_id = ?", p.ID).Find(&fs).Error; err != nil {
			return models.Internal(err)
		}
		for i := range fs {
			if isMail(&fs[i]) {
				continue
			}
			if err := endFiring(ctx, tx, p, &fs[i]); err != nil {
				return err
			}
		}
		if err := tx.DB.WithContext(ctx).Where("id = ?", p.ID).Delete(&Policy{}).Error; err != nil {
			return models.Internal(err)
		}
		return nil
	})
}

// Firings are a policy's crossings in force.
func (s *Store) Firings(ctx context.Context, policyID int64) ([]Firing, error) {
	var fs []Firing
	if err := s.db(ctx).Where("policy_id = ? AND level NOT LIKE ?", policyID, mailLevelPrefix+"%").Order("id").Find(&fs).Error; err != nil {
		return nil, models.Internal(err)
	}
	return fs, nil
}

// scopeInfo is what a policy's rendering says of its scope.
type scopeInfo struct {
	ID         int64
	UUID       models.UUID
	Name       string
	CustomerID int64
}

// scopes loads the scopes of kind by id.
func (s *Store) scopes(ctx context.Context, k Kind, ids []int64) (map[int64]scopeInfo, error) {
	out := map[int64]scopeInfo{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []scopeInfo
	sel := "id, uuid, name, customer_id"
	if k == KindCustomerCost {
		sel = "id, uuid, name, id AS customer_id"
	}
	if err := s.db(ctx).Table(scopeTable(k)).Select(sel).Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, models.Internal(err)
	}
	for _, r := range rows {
		out[r.ID] = r
	}
	return out, nil
}

// scopeByUUID finds the scope of kind by uuid. Codes: not_found.
func (s *Store) scopeByUUID(ctx context.Context, k Kind, id models.UUID) (*scopeInfo, error) {
	var rows []scopeInfo
	sel := "id, uuid, name, customer_id"
	if k == KindCustomerCost {
		sel = "id, uuid, name, id AS customer_id"
	}
	if err := s.db(ctx).Table(scopeTable(k)).Select(sel).Where("uuid = ?", id).Limit(1).Find(&rows).Error; err != nil {
		return nil, models.Internal(err)
	}
	if len(rows) == 0 {
		return nil, models.Errorf(models.CodeNotFound, "Not found.")
	}
	return &rows[0], nil
}

// users loads the creators' names by id.
func (s *Store) users(ctx context.Context, ids []int64) (map[int64]models.User, error) {
	out := map[int64]models.User{}
	if len(ids) == 0 {
		return out, nil
	}
	var us []models.User
	if err := s.db(ctx).Where("id IN ?", ids).Find(&us).Error; err != nil {
		return nil, models.Internal(err)
	}
	for _, u := range us {
		out[u.ID] = u
	}
	return out, nil
}
