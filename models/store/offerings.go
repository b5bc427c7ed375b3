package store

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/waldur-go/waldur/models"
)

// Offering is a marketplace offering of a service provider's customer.
type Offering struct {
	ID              int64 `gorm:"primaryKey"`
	UUID            models.UUID
	CustomerID      int64
	CategoryID      int64
	ProjectID       *int64
	ParentID        *int64
	Name            string
	Slug            string
	Description     string
	FullDescription string
	Type            string
	State           models.OfferingState
	PausedReason    string
	Shared          bool
	Billable        bool
	Attributes      JSONObject
	Options         JSONObject
	ResourceOptions JSONObject
	PluginOptions   JSONObject
	SecretOptions   JSONObject
	BackendMetadata JSONObject
	BackendID       string
	TermsOfService  string
	Country         string
	Created         time.Time
	Modified        time.Time
}

// TableName is the GORM table.
func (Offering) TableName() string { return "offerings" }

// Scope is the offering as a role scope.
func (o *Offering) Scope() models.Scope { return models.Scope{Type: models.ScopeOffering, ID: o.ID} }

// OfferingComponent is a billable component of an offering.
type OfferingComponent struct {
	ID                int64 `gorm:"primaryKey"`
	UUID              models.UUID
	OfferingID        int64
	Type              string
	Name              string
	Description       string
	MeasuredUnit      string
	BillingType       models.BillingType
	LimitPeriod       *string
	LimitAmount       *int64
	MinValue          *int64
	MaxValue          *int64
	MaxAvailableLimit *int64
	DefaultLimit      *int64
	IsBoolean         bool
	UnitFactor        decimal.Decimal
	ArticleCode       string
	BackendID         string
}

// TableName is the GORM table.
func (OfferingComponent) TableName() string { return "offering_components" }

// Plan is a price plan of an offering.
type Plan struct {
	ID          int64 `gorm:"primaryKey"`
	UUID        models.UUID
	OfferingID  int64
	Name        string
	Description string
	Unit        string
	UnitPrice   decimal.Decimal
	ArticleCode string
	BackendID   string
	MaxAmount   *int64
	Archived    bool
	Created     time.Time
	Modified    time.Time
}

// TableName is the GORM table.
func (Plan) TableName() string { return "plans" }

// PlanComponent is a plan's price and amount of one offering component.
type PlanComponent struct {
	PlanID      int64 `gorm:"primaryKey"`
	ComponentID int64 `gorm:"primaryKey"`
	Amount      int64
	Price       decimal.Decimal
	FuturePrice *decimal.Decimal
}

// TableName is the GORM table.
func (PlanComponent) TableName() string { return "plan_components" }

// NewPlan is a plan with its prices and quotas by component type.
type NewPlan struct {
	Plan   Plan
	Prices map[string]decimal.Decimal
	Quotas map[string]int64
}

// NewOffering is a validated offering with its components and plans.
type NewOffering struct {
	Offering   Offering
	Components []OfferingComponent
	Plans      []NewPlan
}

func offeringEvent(o *Offering, typ, verb string) *models.Event {
	return &models.Event{EventType: typ,
		Message: fmt.Sprintf("Offering %s has been %s.", o.Name, verb),
		Context: map[string]any{"offering_uuid": o.UUID.String(), "offering_name": o.Name, "offering_type": o.Type,
			"offering_state": string(o.State)},
		Scopes: []models.Scope{o.Scope(), {Type: models.ScopeCustomer, ID: o.CustomerID}}}
}

func planEvent(o *Offering, p *Plan, typ, verb string) *models.Event {
	return &models.Event{EventType: typ,
		Message: fmt.Sprintf("Plan %s of offering %s has been %s.", p.Name, o.Name, verb),
		Context: map[string]any{"plan_uuid": p.UUID.String(), "plan_name": p.Name, "offering_uuid": o.UUID.String(),
			"offering_name": o.Name},
		Scopes: []models.Scope{o.Scope(), {Type: models.ScopeCustomer, ID: o.CustomerID}}}
}

func componentEvent(o *Offering, c *OfferingComponent, typ, verb string) *models.Event {
	return &models.Event{EventType: typ,
		Message: fmt.Sprintf("Component %s of offering %s has been %s.", c.Type, o.Name, verb),
		Context: map[string]any{"component_uuid": c.UUID.String(), "component_type": c.Type, "component_name": c.Name,
			"offering_uuid": o.UUID.String(), "offering_name": o.Name},
		Scopes: []models.Scope{o.Scope(), {Type: models.ScopeCustomer, ID: o.CustomerID}}}
}

// CreateOffering stores the offering (state Draft unless set), its
// components and its plans with their plan components, and emits
// marketplace_offering_created and marketplace_plan_created, in one
// transaction. Component types must be unique (invalid otherwise); plan
// prices and quotas must name components of the offering.
func (s *Store) CreateOffering(ctx context.Context, in *NewOffering) error {
	now := s.Now()
	o := &in.Offering
	if o.UUID.IsZero() {
		o.UUID = models.NewUUID()
	}
	if o.State == "" {
		o.State = models.OfferingDraft
	}
	o.Created, o.Modified = now, now
	return s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		if err := db.Create(o).Error; err != nil {
			return translate(err, "Offering")
		}
		byType := map[string]*OfferingComponent{}
		for i := range in.Components {
			c := &in.Components[i]
			if byType[c.Type] != nil {
				return models.FieldError("components", fmt.Sprintf("Component type %q is not unique.", c.Type))
			}
			c.OfferingID = o.ID
			if c.UUID.IsZero() {
				c.UUID = models.NewUUID()
			}
			if c.UnitFactor.IsZero() {
				c.UnitFactor = decimal.NewFromInt(1)
			}
			if err := db.Create(c).Error; err != nil {
				return translate(err, "Offering component")
			}
			byType[c.Type] = c
		}
		if err := tx.EmitEvent(ctx, offeringEvent(o, "marketplace_offering_created", "created")); err != nil {
			return err
		}
		for i := range in.Plans {
			if err := tx.createPlan(ctx, o, &in.Plans[i], byType, now); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Store) createPlan(ctx context.Context, o *Offering, np *NewPlan, byType map[string]*OfferingComponent, now time.Time) error {
	db := s.DB.WithContext(ctx)
	p := &np.Plan
	p.OfferingID = o.ID
	if p.UUID.IsZero() {
		p.UUID = models.NewUUID()
	}
	if p.Unit == "" {
		p.Unit = string(models.UnitMonth)
	}
	p.Created, p.Modified = now, now
	for t := range np.Prices {
		if byType[t] == nil {
			return models.FieldError("plans", fmt.Sprintf("Component %q does not exist.", t))
		}
	}
	for t := range np.Quotas {
		if byType[t] == nil {
			return models.FieldError("plans", fmt.Sprintf("Component %q does not exist.", t))
		}
	}
	if err := db.Create(p).Error; err != nil {
		return translate(err, "Plan")
	}
	for t, c := range byType {
		pc := PlanComponent{PlanID: p.ID, ComponentID: c.ID, Amount: np.Quotas[t], Price: np.Prices[t]}
		if err := db.Create(&pc).Error; err != nil {
			return translate(err, "Plan component")
		}
	}
	return s.EmitEvent(ctx, planEvent(o, p, "marketplace_plan_created", "created"))
}

// CreatePlan adds a plan to the offering (prices and quotas by component type).
func (s *Store) CreatePlan(ctx context.Context, o *Offering, np *NewPlan) error {
	return s.Tx(ctx, func(tx *Store) error {
		byType, err := tx.componentsByType(ctx, o.ID)
		if err != nil {
			return err
		}
		return tx.createPlan(ctx, o, np, byType, tx.Now())
	})
}

func (s *Store) componentsByType(ctx context.Context, offeringID int64) (map[string]*OfferingComponent, error) {
	var cs []OfferingComponent
	if err := s.DB.WithContext(ctx).Where("offering_id = ?", offeringID).Find(&cs).Error; err != nil {
		return nil, models.Internal(err)
	}
	out := map[string]*OfferingComponent{}
	for i := range cs {
		out[cs[i].Type] = &cs[i]
	}
	return out, nil
}

// OfferingByUUID loads an offering (not_found when none).
func (s *Store) OfferingByUUID(ctx context.Context, id models.UUID) (*Offering, error) {
	var o Offering
	if err := s.DB.WithContext(ctx).Where("uuid = ?", id).Take(&o).Error; err != nil {
		return nil, translate(err, "Offering")
	}
	return &o, nil
}

// UpdateOffering changes columns of the offering and emits
// marketplace_offering_updated, in one transaction; o is reloaded.
func (s *Store) UpdateOffering(ctx context.Context, o *Offering, fields map[string]any) error {
	return s.Tx(ctx, func(tx *Store) error {
		fields["modified"] = tx.Now()
		if err := tx.UpdateRow(ctx, o, o.ID, fields, "Offering"); err != nil {
			return err
		}
		return tx.EmitEvent(ctx, offeringEvent(o, "marketplace_offering_updated", "updated"))
	})
}

// OfferingAction moves the offering through its state machine
// (models.OfferingTransition: activate, pause, unpause, archive, draft)
// under a row lock; pausedReason is kept by pause and cleared by unpause.
func (s *Store) OfferingAction(ctx context.Context, id models.UUID, action, pausedReason string) (*Offering, error) {
	var out *Offering
	err := s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		var o Offering
		if err := forUpdate(db).Where("uuid = ?", id).Take(&o).Error; err != nil {
			return translate(err, "Offering")
		}
		var plans int64
		if err := db.Model(&Plan{}).Where("offering_id IN ? AND archived = ?", offeringAndParent(&o), false).Count(&plans).Error; err != nil {
			return models.Internal(err)
		}
		to, err := models.OfferingTransition(action, o.State, plans > 0)
		if err != nil {
			return err
		}
		fields := map[string]any{"state": to, "modified": tx.Now()}
		switch action {
		case "pause":
			fields["paused_reason"] = pausedReason
		case "unpause", "activate":
			fields["paused_reason"] = ""
		}
		if err := tx.UpdateRow(ctx, &o, o.ID, fields, "Offering"); err != nil {
			return err
		}
		out = &o
		return tx.EmitEvent(ctx, offeringEvent(&o, "marketplace_offering_updated", "updated"))
	})
	return out, err
}

func offeringAndParent(o *Offering) []int64 {
	if o.ParentID != nil {
		return []int64{o.ID, *o.ParentID}
	}
	return []int64{o.ID}
}

// DeleteOffering deletes the offering. Unless force (staff), only a Draft
// offering may go; one with resources never (conflict).
func (s *Store) DeleteOffering(ctx context.Context, o *Offering, force bool) error {
	return s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		var n int64
		if err := db.Table("resources").Where("offering_id = ?", o.ID).Count(&n).Error; err != nil {
			return models.Internal(err)
		}
		if !force && o.State != models.OfferingDraft {
			return models.Errorf(models.CodeConflict, "Only draft offerings can be deleted.")
		}
		if n > 0 {
			return models.Errorf(models.CodeConflict, "Offering with resources cannot be deleted.")
		}
		if err := db.Where("id = ?", o.ID).Delete(&Offering{}).Error; err != nil {
			return models.Errorf(models.CodeConflict, "Offering is in use and cannot be deleted.")
		}
		return nil
	})
}

// CreateComponent adds a component to the offering (unique type, invalid
// otherwise) with a zero price in every plan, and emits
// marketplace_offering_component_created.
func (s *Store) CreateComponent(ctx context.Context, o *Offering, c *OfferingComponent) error {
	return s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		byType, err := tx.componentsByType(ctx, o.ID)
		if err != nil {
			return err
		}
		if byType[c.Type] != nil {
			return models.FieldError("type", fmt.Sprintf("Component type %q is not unique.", c.Type))
		}
		c.OfferingID = o.ID
		if c.UUID.IsZero() {
			c.UUID = models.NewUUID()
		}
		if c.UnitFactor.IsZero() {
			c.UnitFactor = decimal.NewFromInt(1)
		}
		if err := db.Create(c).Error; err != nil {
			return translate(err, "Offering component")
		}
		var planIDs []int64
		if err := db.Model(&Plan{}).Where("offering_id = ?", o.ID).Pluck("id", &planIDs).Error; err != nil {
			return models.Internal(err)
		}
		for _, pid := range planIDs {
			if err := db.Create(&PlanComponent{PlanID: pid, ComponentID: c.ID}).Error; err != nil {
				return translate(err, "Plan component")
			}
		}
		return tx.EmitEvent(ctx, componentEvent(o, c, "marketplace_offering_component_created", "created"))
	})
}

// UpdateComponent replaces the component's fields (by c.UUID within the
// offering; not_found when none) and emits
// marketplace_offering_component_updated.
func (s *Store) UpdateComponent(ctx context.Context, o *Offering, c *OfferingComponent) error {
	return s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		var old OfferingComponent
		if err := db.Where("uuid = ? AND offering_id = ?", c.UUID, o.ID).Take(&old).Error; err != nil {
			return translate(err, "Offering component")
		}
		if c.Type != old.Type {
			var n int64
			if err := db.Model(&OfferingComponent{}).Where("offering_id = ? AND type = ?", o.ID, c.Type).Count(&n).Error; err != nil {
				return models.Internal(err)
			}
			if n > 0 {
				return models.FieldError("type", fmt.Sprintf("Component type %q is not unique.", c.Type))
			}
		}
		c.ID, c.OfferingID, c.BackendID = old.ID, o.ID, old.BackendID
		if c.UnitFactor.IsZero() {
			c.UnitFactor = decimal.NewFromInt(1)
		}
		if err := db.Select("*").Omit("id", "uuid").Where("id = ?", old.ID).Updates(c).Error; err != nil {
			return translate(err, "Offering component")
		}
		return tx.EmitEvent(ctx, componentEvent(o, c, "marketplace_offering_component_updated", "updated"))
	})
}

// RemoveComponent deletes the component (by UUID within the offering) and
// emits marketplace_offering_component_deleted.
func (s *Store) RemoveComponent(ctx context.Context, o *Offering, id models.UUID) error {
	return s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		var c OfferingComponent
		if err := db.Where("uuid = ? AND offering_id = ?", id, o.ID).Take(&c).Error; err != nil {
			return translate(err, "Offering component")
		}
		if err := db.Where("component_id = ?", c.ID).Delete(&PlanComponent{}).Error; err != nil {
			return models.Internal(err)
		}
		if err := db.Where("id = ?", c.ID).Delete(&OfferingComponent{}).Error; err != nil {
			return models.Errorf(models.CodeConflict, "Offering component is in use and cannot be deleted.")
		}
		return tx.EmitEvent(ctx, componentEvent(o, &c, "marketplace_offering_component_deleted", "deleted"))
	})
}

// PlanByUUID loads a plan with its offering.
func (s *Store) PlanByUUID(ctx context.Context, id models.UUID) (*Plan, *Offering, error) {
	var p Plan
	if err := s.DB.WithContext(ctx).Where("uuid = ?", id).Take(&p).Error; err != nil {
		return nil, nil, translate(err, "Plan")
	}
	var o Offering
	if err := s.DB.WithContext(ctx).Where("id = ?", p.OfferingID).Take(&o).Error; err != nil {
		return nil, nil, translate(err, "Offering")
	}
	return &p, &o, nil
}

// UpdatePlan changes plan columns and emits marketplace_plan_updated (or
// marketplace_plan_archived when only archiving); p is reloaded.
func (s *Store) UpdatePlan(ctx context.Context, o *Offering, p *Plan, fields map[string]any) error {
	return s.Tx(ctx, func(tx *Store) error {
		fields["modified"] = tx.Now()
		if err := tx.UpdateRow(ctx, p, p.ID, fields, "Plan"); err != nil {
			return err
		}
		if a, ok := fields["archived"].(bool); ok && a && len(fields) == 2 {
			return tx.EmitEvent(ctx, planEvent(o, p, "marketplace_plan_archived", "archived"))
		}
		return tx.EmitEvent(ctx, planEvent(o, p, "marketplace_plan_updated", "updated"))
	})
}

// SetPlanComponents sets the prices (field "prices", column price) or the
// quotas (field "quotas", column amount) of the plan by component type;
// every type must be a component of the offering (400 on field otherwise).
// Emits marketplace_plan_updated.
func (s *Store) SetPlanComponents(ctx context.Context, o *Offering, p *Plan, field string, values map[string]any) error {
	column := map[string]string{"prices": "price", "quotas": "amount"}[field]
	if column == "" {
		return models.Errorf(models.CodeInvalid, "bad field")
	}
	return s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		byType, err := tx.componentsByType(ctx, o.ID)
		if err != nil {
			return err
		}
		for t := range values {
			if byType[t] == nil {
				return models.FieldError(field, fmt.Sprintf("Component %q does not exist.", t))
			}
		}
		for t, v := range values {
			c := byType[t]
			res := db.Model(&PlanComponent{}).Where("plan_id = ? AND component_id = ?", p.ID, c.ID).Update(column, v)
			if res.Error != nil {
				return models.Internal(res.Error)
			}
			if res.RowsAffected == 0 {
				if err := db.Create(&PlanComponent{PlanID: p.ID, ComponentID: c.ID}).Error; err != nil {
					return translate(err, "Plan component")
				}
				if err := db.Model(&PlanComponent{}).Where("plan_id = ? AND component_id = ?", p.ID, c.ID).Update(column, v).Error; err != nil {
					return models.Internal(err)
				}
			}
		}
		if err := db.Model(&Plan{}).Where("id = ?", p.ID).Update("modified", tx.Now()).Error; err != nil {
			return models.Internal(err)
		}
		return tx.EmitEvent(ctx, planEvent(o, p, "marketplace_plan_updated", "updated"))
	})
}

// ComponentsOf loads the components of the offerings, by offering id,
// ordered by id.
func (s *Store) ComponentsOf(ctx context.Context, offeringIDs []int64) (map[int64][]OfferingComponent, error) {
	out := map[int64][]OfferingComponent{}
	if len(offeringIDs) == 0 {
		return out, nil
	}
	var cs []OfferingComponent
	if err := s.DB.WithContext(ctx).Where("offering_id IN ?", offeringIDs).Order("id").Find(&cs).Error; err != nil {
		return nil, models.Internal(err)
	}
	for _, c := range cs {
		out[c.OfferingID] = append(out[c.OfferingID], c)
	}
	return out, nil
}

// PlansOf loads the plans of the offerings (archived ones too when
// withArchived), by offering id, ordered by id.
func (s *Store) PlansOf(ctx context.Context, offeringIDs []int64, withArchived bool) (map[int64][]Plan, error) {
	out := map[int64][]Plan{}
	if len(offeringIDs) == 0 {
		return out, nil
	}
	q := s.DB.WithContext(ctx).Where("offering_id IN ?", offeringIDs)
	if !withArchived {
		q = q.Where("archived = ?", false)
	}
	var ps []Plan
	if err := q.Order("id").Find(&ps).Error; err != nil {
		return nil, models.Internal(err)
	}
	for _, p := range ps {
		out[p.OfferingID] = append(out[p.OfferingID], p)
	}
	return out, nil
}

// PlanComponentsOf loads the plan components of the plans, by plan id.
func (s *Store) PlanComponentsOf(ctx context.Context, planIDs []int64) (map[int64][]PlanComponent, error) {
	out := map[int64][]PlanComponent{}
	if len(planIDs) == 0 {
		return out, nil
	}
	var pcs []PlanComponent
	if err := s.DB.WithContext(ctx).Where("plan_id IN ?", planIDs).Order("component_id").Find(&pcs).Error; err != nil {
		return nil, models.Internal(err)
	}
	for _, pc := range pcs {
		out[pc.PlanID] = append(out[pc.PlanID], pc)
	}
	return out, nil
}

// PlanResourceCounts counts the resources (not terminated) of each plan.
func (s *Store) PlanResourceCounts(ctx context.Context, planIDs []int64) (map[int64]int64, error) {
	out := map[int64]int64{}
	if len(planIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		PlanID int64
		N      int64
	}
	if err := s.DB.WithContext(ctx).Table("resources").Select("plan_id, COUNT(*) AS n").
		Where("plan_id IN ? AND state <> ?", planIDs, models.ResourceTerminated).Group("plan_id").Scan(&rows).Error; err != nil {
		return nil, models.Internal(err)
	}
	for _, r := range rows {
		out[r.PlanID] = r.N
	}
	return out, nil
}
