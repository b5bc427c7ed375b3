package policies

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm/clause"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// The actions of Waldur's policies.
const (
	ActNotifyOwners              = "notify_organization_owners"
	ActNotifyExternal            = "notify_external_user"
	ActBlockCreation             = "block_creation_of_new_resources"
	ActBlockModification         = "block_modification_of_existing_resources"
	ActTerminate                 = "terminate_resources"
	ActDownscale                 = "request_downscaling"
	ActPause                     = "request_pausing"
	ActRestrictMembers           = "restrict_members"
	ActSlurmDownscale            = "request_slurm_resource_downscaling"
	ActSlurmPause                = "request_slurm_resource_pausing"
	EventPolicyNotify            = "policy_notification"
	levelLimit                   = "limit"
	levelDownscale               = "downscale"
	levelPause                   = "pause"
	figureNotApplicable          = ""
	msgOrderBlockedPrefix        = "Creation of new resources is blocked by "
	msgModificationBlockedPrefix = "Modification of existing resources is blocked by "
)

// actionsOf are the actions a family accepts (Waldur's get_all_actions).
func actionsOf(k Kind) []string {
	switch k {
	case KindSlurm:
		return []string{ActNotifyOwners, ActNotifyExternal, ActSlurmDownscale, ActSlurmPause}
	case KindOfferingCost, KindOfferingUsage:
		return []string{ActNotifyOwners, ActNotifyExternal, ActBlockCreation, ActBlockModification}
	}
	return []string{ActNotifyOwners, ActNotifyExternal, ActBlockCreation, ActBlockModification, ActTerminate,
		ActDownscale, ActPause, ActRestrictMembers}
}

func splitActions(s string) []string {
	var out []string
	for _, a := range strings.Split(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

func hasAction(p *Policy, a string) bool {
	for _, x := range splitActions(p.Actions) {
		if x == a {
			return true
		}
	}
	return false
}

// Period is the calendar period of a policy holding a moment: its key
// (total, 2026-12, 2026-Q4, 2026) and its first and last months as
// year*100+month (0 and 999999 for total).
type Period struct {
	Key        string
	From, Upto int
}

// PeriodOf is the period of kind period (PolicyPeriodEnum) holding t.
func PeriodOf(period int, t time.Time) Period {
	y, m := t.Year(), int(t.Month())
	switch period {
	case PeriodTotal:
		return Period{Key: "total", From: 0, Upto: 999999}
	case PeriodQuarter:
		q := (m-1)/3 + 1
		return Period{Key: fmt.Sprintf("%d-Q%d", y, q), From: y*100 + (q-1)*3 + 1, Upto: y*100 + q*3}
	case PeriodYear:
		return Period{Key: fmt.Sprintf("%d", y), From: y*100 + 1, Upto: y*100 + 12}
	}
	return Period{Key: fmt.Sprintf("%d-%02d", y, m), From: y*100 + m, Upto: y*100 + m}
}

// Previous is the period before p (total has none: itself).
func (p Period) Previous(period int) Period {
	if period == PeriodTotal {
		return p
	}
	y, m := p.From/100, p.From%100
	t := time.Date(y, time.Month(m), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
	return PeriodOf(period, t)
}

// billingPeriods are the bounds of p as component_usages.billing_period values.
func (p Period) billingPeriods() (string, string) {
	return fmt.Sprintf("%04d-%02d-01", p.From/100, max(p.From%100, 1)), fmt.Sprintf("%04d-%02d-01", p.Upto/100, min(p.Upto%100, 12))
}

// crossing is a threshold a figure is over: the target (0: the policy's
// scope; a customer; a resource), the level and the figure.
type crossing struct {
	Target int64
	Level  string
	Figure string
}

// Evaluator computes the policies' figures and fires and ends their
// crossings.
type Evaluator struct {
	St  *store.Store
	Now func() time.Time
}

func (e *Evaluator) now() time.Time {
	if e.Now != nil {
		return e.Now().UTC()
	}
	return time.Now().UTC()
}

// Summary is what an evaluation did.
type Summary struct {
	Policies int `json:"policies"`
	Fired    int `json:"fired"`
	Ended    int `json:"ended"`
}

// EvaluateAll evaluates every policy.
func (e *Evaluator) EvaluateAll(ctx context.Context) (Summary, error) {
	var ps []Policy
	if err := e.St.DB.WithContext(ctx).Order("id").Find(&ps).Error; err != nil {
		return Summary{}, models.Internal(err)
	}
	var sum Summary
	for i := range ps {
		f, n, err := e.Evaluate(ctx, &ps[i])
		if err != nil {
			return sum, err
		}
		sum.Policies++
		sum.Fired += f
		sum.Ended += n
	}
	return sum, nil
}

// Evaluate computes the policy's figures for the period holding now and,
// in one transaction, fires each crossing not in force yet (its row, its
// notification, its flags) and ends each crossing in force that is not
// crossed any more or belongs to an earlier period (its row deleted, its
// flags lifted). The firing rows' unique key makes a replay fire nothing.
func (e *Evaluator) Evaluate(ctx context.Context, p *Policy) (fired, ended int, err error) {
	o, err := e.EvaluateOutcome(ctx, p)
	if err != nil {
		return 0, 0, err
	}
	return o.Fired, o.Ended, nil
}

// Outcome is what one evaluation of a policy did: the crossings fired and
// ended and, for a SLURM policy, each live resource's figures and the
// actions taken on it (logged in marketplace_policy_evaluation_logs when
// any).
type Outcome struct {
	Period       Period
	Fired, Ended int
	Resources    []*ResourceOutcome
}

// ResourceOutcome is a resource's part of a SLURM evaluation.
type ResourceOutcome struct {
	ID              int64
	UUID            models.UUID
	Name            string
	UsagePercentage float64
	// Level is what the usage reaches: "", downscale or pause.
	Level string
	// Actions taken by this evaluation: notify, downscale, pause, lift.
	Actions       []string
	Before, After Flags
}

// Flags are a resource's policy flags.
type Flags struct {
	Paused     bool `json:"paused"`
	Downscaled bool `json:"downscaled"`
}

// EvaluateOutcome is Evaluate with what it did.
func (e *Evaluator) EvaluateOutcome(ctx context.Context, p *Policy) (*Outcome, error) {
	now := e.now()
	per := PeriodOf(p.Period, now)
	want, res, err := e.crossings(ctx, p, per)
	if err != nil {
		return nil, err
	}
	out := &Outcome{Period: per, Resources: res}
	byID := map[int64]*ResourceOutcome{}
	for _, r := range res {
		byID[r.ID] = r
	}
	err = e.St.Tx(ctx, func(tx *store.Store) error {
		db := tx.DB.WithContext(ctx)
		var cur Policy
		if err := db.Clauses(clause.Locking{Strength: "UPDATE"}).Where("id = ?", p.ID).Take(&cur).Error; err != nil {
			return nil // deleted meanwhile
		}
		var in []Firing
		if err := db.Where("policy_id = ?", p.ID).Find(&in).Error; err != nil {
			return models.Internal(err)
		}
		if err := readFlags(ctx, tx, byID, func(r *ResourceOutcome) *Flags { return &r.Before }); err != nil {
			return err
		}
		key := func(period string, target int64, level string) string {
			return fmt.Sprintf("%s/%d/%s", period, target, level)
		}
		wanted := map[string]crossing{}
		for _, c := range want {
			wanted[key(per.Key, c.Target, c.Level)] = c
		}
		have := map[string]bool{}
		for i := range in {
			f := &in[i]
			if isMail(f) {
				continue
			}
			k := key(f.Period, f.TargetID, f.Level)
			if _, ok := wanted[k]; ok {
				have[k] = true
				continue
			}
			if err := endFiring(ctx, tx, &cur, f); err != nil {
				return err
			}
			if err := db.Where("id = ?", f.ID).Delete(&Firing{}).Error; err != nil {
				return models.Internal(err)
			}
			if r := byID[f.TargetID]; r != nil && p.Kind == KindSlurm {
				r.Actions = appendOnce(r.Actions, "lift")
			}
			out.Ended++
		}
		for _, c := range want {
			if have[key(per.Key, c.Target, c.Level)] {
				continue
			}
			f := Firing{PolicyID: p.ID, Period: per.Key, TargetID: c.Target, Level: c.Level, Figure: c.Figure, Created: now}
			res := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&f)
			if res.Error != nil {
				return models.Internal(res.Error)
			}
			if res.RowsAffected == 0 {
				continue // fired by a concurrent evaluation
			}
			if err := fire(ctx, tx, &cur, &f); err != nil {
				return err
			}
			if r := byID[f.TargetID]; r != nil && p.Kind == KindSlurm {
				if hasAction(&cur, ActNotifyOwners) || hasAction(&cur, ActNotifyExternal) {
					r.Actions = appendOnce(r.Actions, "notify")
				}
				r.Actions = appendOnce(r.Actions, f.Level)
			}
			out.Fired++
		}
		var n int64
		if err := db.Model(&Firing{}).Where("policy_id = ? AND level NOT LIKE ?", p.ID, mailLevelPrefix+"%").Count(&n).Error; err != nil {
			return models.Internal(err)
		}
		up := map[string]any{"has_fired": n > 0}
		if out.Fired > 0 {
			up["fired_datetime"] = now
		}
		if err := db.Model(&Policy{}).Where("id = ?", p.ID).Updates(up).Error; err != nil {
			return models.Internal(err)
		}
		if err := readFlags(ctx, tx, byID, func(r *ResourceOutcome) *Flags { return &r.After }); err != nil {
			return err
		}
		return writeLogs(ctx, tx, &cur, per, out.Resources, now)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func appendOnce(xs []string, x string) []string {
	for _, y := range xs {
		if y == x {
			return xs
		}
	}
	return append(xs, x)
}

// readFlags reads the flags of the resources into the field dst picks.
func readFlags(ctx context.Context, tx *store.Store, rs map[int64]*ResourceOutcome, dst func(*ResourceOutcome) *Flags) error {
	if len(rs) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(rs))
	for id := range rs {
		ids = append(ids, id)
	}
	var rows []struct {
		ID                 int64
		Paused, Downscaled bool
	}
	if err := tx.DB.WithContext(ctx).Table("resources").Select("id, paused, downscaled").Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return models.Internal(err)
	}
	for _, r := range rows {
		*dst(rs[r.ID]) = Flags{Paused: r.Paused, Downscaled: r.Downscaled}
	}
	return nil
}

// crossings computes the thresholds the policy's figures are over in per
// and, for a SLURM policy, each live resource's figures.
func (e *Evaluator) crossings(ctx context.Context, p *Policy, per Period) ([]crossing, []*ResourceOutcome, error) {
	if p.Kind == KindSlurm {
		rs, err := e.slurmResources(ctx, p, per)
		if err != nil {
			return nil, nil, err
		}
		return slurmCrossings(rs), rs, nil
	}
	cs, err := e.figures(ctx, p, per)
	return cs, nil, err
}

// figures computes the thresholds a cost or usage policy's figures are
// over in per.
func (e *Evaluator) figures(ctx context.Context, p *Policy, per Period) ([]crossing, error) {
	db := e.St.DB.WithContext(ctx)
	months := "(inv.year * 100 + inv.month) BETWEEN ? AND ?"
	switch p.Kind {
	case KindProjectCost, KindCustomerCost:
		col := "ii.project_id"
		if p.Kind == KindCustomerCost {
			col = "inv.customer_id"
		}
		var cost decimal.Decimal
		if err := db.Table("invoice_items ii").Joins("JOIN invoices inv ON inv.id = ii.invoice_id").
			Select("COALESCE(SUM(ii.price), 0)").Where(col+" = ? AND "+months, p.ScopeID, per.From, per.Upto).Row().Scan(&cost); err != nil {
			return nil, models.Internal(err)
		}
		if cost.GreaterThan(decimal.NewFromInt(p.LimitCost)) {
			return []crossing{{Target: 0, Level: levelLimit, Figure: cost.StringFixed(2)}}, nil
		}
		return nil, nil
	case KindOfferingCost:
		var rows []struct {
			CustomerID int64
			Cost       decimal.Decimal
		}
		if err := db.Table("invoice_items ii").Joins("JOIN invoices inv ON inv.id = ii.invoice_id").
			Select("inv.customer_id, COALESCE(SUM(ii.price), 0) AS cost").Where("ii.offering_id = ? AND "+months, p.ScopeID, per.From, per.Upto).
			Group("inv.customer_id").Find(&rows).Error; err != nil {
			return nil, models.Internal(err)
		}
		var out []crossing
		for _, r := range rows {
			if r.Cost.GreaterThan(decimal.NewFromInt(p.LimitCost)) {
				out = append(out, crossing{Target: r.CustomerID, Level: levelLimit, Figure: r.Cost.StringFixed(2)})
			}
		}
		return out, nil
	case KindOfferingUsage:
		usage, err := e.usages(ctx, p.ScopeID, per, "p.customer_id")
		if err != nil {
			return nil, err
		}
		var out []crossing
		for target, byType := range usage {
			for _, l := range p.Limits() {
				if u := byType[l.Type]; u.GreaterThan(decimal.NewFromInt(l.Limit)) {
					out = append(out, crossing{Target: target, Level: levelLimit, Figure: l.Type + "=" + u.String()})
					break
				}
			}
		}
		return out, nil
	}
	return nil, nil
}

// usages sums the component usages of the offering's resources in per by
// group (a column: p.customer_id or r.id) and component type.
func (e *Evaluator) usages(ctx context.Context, offeringID int64, per Period, group string) (map[int64]map[string]decimal.Decimal, error) {
	from, upto := per.billingPeriods()
	var rows []struct {
		Target int64
		Type   string
		Usage  decimal.Decimal
	}
	err := e.St.DB.WithContext(ctx).Table("component_usages cu").
		Joins("JOIN resources r ON r.id = cu.resource_id").Joins("JOIN projects p ON p.id = r.project_id").
		Joins("JOIN offering_components oc ON oc.id = cu.component_id").
		Select(group+" AS target, oc.type AS type, COALESCE(SUM(cu.usage), 0) AS usage").
		Where("r.offering_id = ? AND cu.billing_period BETWEEN ? AND ?", offeringID, from, upto).
		Group(group + ", oc.type").Find(&rows).Error
	if err != nil {
		return nil, models.Internal(err)
	}
	out := map[int64]map[string]decimal.Decimal{}
	for _, r := range rows {
		if out[r.Target] == nil {
			out[r.Target] = map[string]decimal.Decimal{}
		}
		out[r.Target][r.Type] = r.Usage
	}
	return out, nil
}

// SlurmFigures are the thresholds of one component of a resource under a
// SLURM periodic policy in a period: the base allocation (the limit), the
// carry-over from the previous period (unused allocation, at most
// carryover_factor percent of the base), the effective allocation (base +
// carry-over: past it the resource is downscaled) and the hard limit
// (effective × (1 + grace_ratio): past it the resource is paused).
type SlurmFigures struct {
	Base, PreviousUsage, Carryover, Effective, Hard, Usage decimal.Decimal
}

// SlurmThresholds computes the figures of a component from its limit, its
// usage in the period and in the previous one.
func SlurmThresholds(s SlurmSettings, limit int64, usage, previous decimal.Decimal) SlurmFigures {
	return slurmThresholds(s, decimal.NewFromInt(limit), usage, previous)
}

func slurmThresholds(s SlurmSettings, base, usage, previous decimal.Decimal) SlurmFigures {
	f := SlurmFigures{Base: base, PreviousUsage: previous, Usage: usage}
	if s.CarryoverEnabled {
		unused := base.Sub(previous)
		if unused.IsNegative() {
			unused = decimal.Zero
		}
		maxCarry := base.Mul(decimal.NewFromInt(s.CarryoverFactor)).Div(decimal.NewFromInt(100))
		f.Carryover = decimal.Min(unused, maxCarry)
	}
	f.Effective = base.Add(f.Carryover)
	f.Hard = f.Effective.Mul(decimal.NewFromFloat(1 + s.GraceRatio))
	return f
}

// Level is the level the usage reaches: "", downscale or pause.
func (f SlurmFigures) Level() string {
	switch {
	case f.Usage.GreaterThanOrEqual(f.Hard) && f.Hard.IsPositive():
		return levelPause
	case f.Usage.GreaterThanOrEqual(f.Effective) && f.Effective.IsPositive():
		return levelDownscale
	}
	return ""
}

// slurmResources computes, for each live resource of the offering, the
// usage percentage of its most used component (usage / effective
// allocation) and the level it reaches: downscale past the effective
// allocation, pause past the hard limit.
func (e *Evaluator) slurmResources(ctx context.Context, p *Policy, per Period) ([]*ResourceOutcome, error) {
	cur, err := e.usages(ctx, p.ScopeID, per, "r.id")
	if err != nil {
		return nil, err
	}
	prev := map[int64]map[string]decimal.Decimal{}
	if p.Period != PeriodTotal {
		if prev, err = e.usages(ctx, p.ScopeID, per.Previous(p.Period), "r.id"); err != nil {
			return nil, err
		}
	}
	var rows []struct {
		ID   int64
		UUID models.UUID
		Name string
	}
	if err := e.St.DB.WithContext(ctx).Table("resources").Select("id, uuid, name").Where("offering_id = ? AND state NOT IN ?", p.ScopeID,
		[]string{string(models.ResourceTerminated)}).Order("id").Find(&rows).Error; err != nil {
		return nil, models.Internal(err)
	}
	s := p.Slurm()
	out := make([]*ResourceOutcome, 0, len(rows))
	for _, row := range rows {
		r := &ResourceOutcome{ID: row.ID, UUID: row.UUID, Name: row.Name, Actions: []string{}}
		for _, l := range p.Limits() {
			f := SlurmThresholds(s, l.Limit, cur[row.ID][l.Type], prev[row.ID][l.Type])
			if pc := f.Percentage(); pc > r.UsagePercentage {
				r.UsagePercentage = pc
			}
			lv := f.Level()
			if lv == levelPause || (lv == levelDownscale && r.Level == "") {
				r.Level = lv
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// Percentage is the usage in percent of the effective allocation.
func (f SlurmFigures) Percentage() float64 {
	if !f.Effective.IsPositive() {
		return 0
	}
	v, _ := f.Usage.Mul(decimal.NewFromInt(100)).Div(f.Effective).Round(2).Float64()
	return v
}

// slurmCrossings are the crossings of the resources' levels (a paused
// resource is downscaled too).
func slurmCrossings(rs []*ResourceOutcome) []crossing {
	var out []crossing
	for _, r := range rs {
		figure := fmt.Sprintf("%.2f%%", r.UsagePercentage)
		switch r.Level {
		case levelPause:
			out = append(out, crossing{Target: r.ID, Level: levelDownscale, Figure: figure}, crossing{Target: r.ID, Level: levelPause, Figure: figure})
		case levelDownscale:
			out = append(out, crossing{Target: r.ID, Level: levelDownscale, Figure: figure})
		}
	}
	return out
}

// targetScopes are the events' scopes of a crossing and the resources its
// flags apply to.
func targetResources(ctx context.Context, tx *store.Store, p *Policy, target int64) ([]models.UUID, error) {
	q := tx.DB.WithContext(ctx).Table("resources r").Joins("JOIN projects p ON p.id = r.project_id").
		Where("r.state NOT IN ?", []string{string(models.ResourceTerminated)})
	switch p.Kind {
	case KindProjectCost:
		q = q.Where("r.project_id = ?", p.ScopeID)
	case KindCustomerCost:
		q = q.Where("p.customer_id = ?", p.ScopeID)
	case KindOfferingCost, KindOfferingUsage:
		q = q.Where("r.offering_id = ? AND p.customer_id = ?", p.ScopeID, target)
	case KindSlurm:
		q = q.Where("r.id = ?", target)
	}
	var ids []models.UUID
	if err := q.Order("r.id").Pluck("r.uuid", &ids).Error; err != nil {
		return nil, models.Internal(err)
	}
	return ids, nil
}

// flagsOf are the resource flags a crossing's level sets under p's actions.
func flagsOf(p *Policy, level string) []store.ResourceFlag {
	var out []store.ResourceFlag
	switch level {
	case levelLimit:
		if hasAction(p, ActDownscale) {
			out = append(out, store.FlagDownscaled)
		}
		if hasAction(p, ActPause) {
			out = append(out, store.FlagPaused)
		}
		if hasAction(p, ActRestrictMembers) {
			out = append(out, store.FlagRestrictMemberAccess)
		}
	case levelDownscale:
		if hasAction(p, ActSlurmDownscale) {
			out = append(out, store.FlagDownscaled)
		}
	case levelPause:
		if hasAction(p, ActSlurmPause) {
			out = append(out, store.FlagPaused)
		}
	}
	return out
}

// eventScopes are the scopes a policy's events are shown under: the
// policy's scope, the scope's customer and for a target customer or
// resource that one too.
func eventScopes(ctx context.Context, tx *store.Store, p *Policy, target int64) []models.Scope {
	db := tx.DB.WithContext(ctx)
	var out []models.Scope
	switch p.Kind {
	case KindProjectCost:
		var cust int64
		_ = db.Table("projects").Select("customer_id").Where("id = ?", p.ScopeID).Row().Scan(&cust)
		out = append(out, models.Scope{Type: models.ScopeProject, ID: p.ScopeID}, models.Scope{Type: models.ScopeCustomer, ID: cust})
	case KindCustomerCost:
		out = append(out, models.Scope{Type: models.ScopeCustomer, ID: p.ScopeID})
	case KindOfferingCost, KindOfferingUsage:
		out = append(out, models.Scope{Type: models.ScopeOffering, ID: p.ScopeID})
		if target != 0 {
			out = append(out, models.Scope{Type: models.ScopeCustomer, ID: target})
		}
	case KindSlurm:
		out = append(out, models.Scope{Type: models.ScopeOffering, ID: p.ScopeID})
		var r struct{ ProjectID, CustomerID int64 }
		_ = db.Table("resources r").Select("r.project_id, p.customer_id").Joins("JOIN projects p ON p.id = r.project_id").
			Where("r.id = ?", target).Take(&r).Error
		if r.ProjectID != 0 {
			out = append(out, models.Scope{Type: models.ScopeProject, ID: r.ProjectID}, models.Scope{Type: models.ScopeCustomer, ID: r.CustomerID})
		}
	}
	return out
}

// fire applies a new crossing's actions: the notification (one
// policy_notification event: the hooks and e-mails subscribed to it follow
// it through the event outbox) and the flags. Blocking actions need
// nothing more: orders look for the crossing.
func fire(ctx context.Context, tx *store.Store, p *Policy, f *Firing) error {
	ctx = models.WithActor(ctx, models.Actor{})
	if hasAction(p, ActNotifyOwners) || hasAction(p, ActNotifyExternal) {
		err := tx.EmitEvent(ctx, &models.Event{EventType: EventPolicyNotify,
			Message: fmt.Sprintf("Policy %s (%s) has been triggered: %s is over its threshold (%s) in period %s.",
				p.UUID, strings.ReplaceAll(string(p.Kind), "_", " "), figureText(f), f.Level, f.Period),
			Context: map[string]any{"policy_uuid": p.UUID.String(), "policy_kind": string(p.Kind), "period": f.Period,
				"level": f.Level, "figure": f.Figure, "actions": p.Actions},
			Scopes: eventScopes(ctx, tx, p, f.TargetID)})
		if err != nil {
			return err
		}
	}
	if err := setFlags(ctx, tx, p, f, true); err != nil {
		return err
	}
	if hasAction(p, ActNotifyExternal) && len(externalEmails(p)) > 0 {
		// the e-mail's outbox row: sent and deleted by SendExternalMails
		m := Firing{PolicyID: p.ID, Period: f.Period, TargetID: f.TargetID, Level: mailLevelPrefix + f.Level, Figure: f.Figure, Created: f.Created}
		if err := tx.DB.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&m).Error; err != nil {
			return models.Internal(err)
		}
	}
	if hasAction(p, ActTerminate) && f.Level == levelLimit {
		return terminateResources(ctx, tx, p, f)
	}
	return nil
}

// terminateResources places, in the crossing's transaction (so once per
// crossing: a replay finds the firing row and fires nothing), a Terminate
// order by the system for every resource in use (OK or Erred) of the
// crossing's scope, as the project-end termination does
// (store.TerminateForProjectEnd): staff-like creator, no consumer review,
// provider review when the offering asks for it. A resource with an order
// in flight is skipped (CreateOrder refuses it). The order dispatcher
// starts the orders' workflows.
func terminateResources(ctx context.Context, tx *store.Store, p *Policy, f *Firing) error {
	q := tx.DB.WithContext(ctx).Table("resources r").Joins("JOIN projects p ON p.id = r.project_id").
		Where("r.state IN ?", []models.ResourceState{models.ResourceOK, models.ResourceErred})
	switch p.Kind {
	case KindProjectCost:
		q = q.Where("r.project_id = ?", p.ScopeID)
	case KindCustomerCost:
		q = q.Where("p.customer_id = ?", p.ScopeID)
	default:
		return nil // Waldur offers terminate_resources to project and customer cost policies only
	}
	var rows []struct {
		ID, ProjectID, OfferingID int64
		PlanID                    *int64
		OfferingType              string
		PluginOptions             store.JSONObject
	}
	if err := q.Select("r.id, r.project_id, r.offering_id, r.plan_id, f.type AS offering_type, f.plugin_options").
		Joins("JOIN offerings f ON f.id = r.offering_id").Order("r.id").Find(&rows).Error; err != nil {
		return models.Internal(err)
	}
	reason := fmt.Sprintf("Policy %s (%s) has been triggered: %s is over its threshold in period %s.",
		p.UUID, strings.ReplaceAll(string(p.Kind), "_", " "), figureText(f), f.Period)
	for _, r := range rows {
		review, _ := r.PluginOptions["provider_review_required"].(bool)
		_, err := tx.CreateOrder(ctx, store.NewOrder{Type: models.OrderTerminate, ProjectID: r.ProjectID, OfferingID: r.OfferingID,
			PlanID: r.PlanID, ResourceID: r.ID, Attributes: map[string]any{"termination_reason": reason},
			Review: models.ReviewContext{OrderType: models.OrderTerminate, OfferingType: r.OfferingType, CreatorIsStaff: true,
				ProviderReviewRequested: review}})
		if err != nil && !models.IsCode(err, models.CodeInvalid) && !models.IsCode(err, models.CodeConflict) {
			return err
		}
	}
	return nil
}

func figureText(f *Firing) string {
	if f.Figure == figureNotApplicable {
		return "the figure"
	}
	return f.Figure
}

// endFiring lifts the flags a crossing in force set.
func endFiring(ctx context.Context, tx *store.Store, p *Policy, f *Firing) error {
	return setFlags(models.WithActor(ctx, models.Actor{}), tx, p, f, false)
}

func setFlags(ctx context.Context, tx *store.Store, p *Policy, f *Firing, v bool) error {
	flags := flagsOf(p, f.Level)
	if len(flags) == 0 {
		return nil
	}
	ids, err := targetResources(ctx, tx, p, f.TargetID)
	if err != nil {
		return err
	}
	for _, id := range ids {
		for _, fl := range flags {
			if _, err := tx.SetResourceFlag(ctx, id, fl, v); err != nil && !models.IsCode(err, models.CodeNotFound) {
				return err
			}
		}
	}
	return nil
}

// CheckCreate refuses a Create order of the project and offering while a
// policy with block_creation_of_new_resources is crossed for them: the
// project's, its customer's, or the offering's for the project's customer.
// The message names the policy. Codes: invalid.
func (s *Store) CheckCreate(ctx context.Context, projectID, offeringID int64) error {
	return s.checkBlocked(ctx, ActBlockCreation, msgOrderBlockedPrefix, projectID, offeringID)
}

// CheckModify refuses an Update order of a resource of the project and
// offering while a policy with block_modification_of_existing_resources is
// crossed for them (as CheckCreate). Codes: invalid.
func (s *Store) CheckModify(ctx context.Context, projectID, offeringID int64) error {
	return s.checkBlocked(ctx, ActBlockModification, msgModificationBlockedPrefix, projectID, offeringID)
}

func (s *Store) checkBlocked(ctx context.Context, action, prefix string, projectID, offeringID int64) error {
	var cust int64
	if err := s.db(ctx).Table("projects").Select("customer_id").Where("id = ?", projectID).Row().Scan(&cust); err != nil {
		return nil // the order's own checks report the project
	}
	var rows []struct {
		UUID      models.UUID
		Kind      Kind
		LimitCost int64
		Figure    string
	}
	err := s.db(ctx).Table("marketplace_policy_firings f").Joins("JOIN marketplace_policies mp ON mp.id = f.policy_id").
		Select("mp.uuid, mp.kind, mp.limit_cost, f.figure").
		Where("mp.actions LIKE ? AND f.level NOT LIKE ?", "%"+action+"%", mailLevelPrefix+"%").
		Where("(mp.kind = ? AND mp.scope_id = ?) OR (mp.kind = ? AND mp.scope_id = ?) OR (mp.kind IN ? AND mp.scope_id = ? AND f.target_id = ?)",
			KindProjectCost, projectID, KindCustomerCost, cust, []Kind{KindOfferingCost, KindOfferingUsage}, offeringID, cust).
		Order("mp.id").Limit(1).Find(&rows).Error
	if err != nil {
		return models.Internal(err)
	}
	if len(rows) == 0 {
		return nil
	}
	r := rows[0]
	what := fmt.Sprintf("%s policy %s", strings.ReplaceAll(string(r.Kind), "_", " "), r.UUID)
	if r.Kind == KindOfferingUsage {
		return models.Errorf(models.CodeInvalid, "%s%s: usage %s is over its limit.", prefix, what, r.Figure)
	}
	return models.Errorf(models.CodeInvalid, "%s%s: estimated cost %s is over the limit %d.", prefix, what, r.Figure, r.LimitCost)
}

// ModificationCheck is marketplace.Service.CheckModification: Update
// orders refused by block_modification_of_existing_resources.
func ModificationCheck(st *store.Store) func(ctx context.Context, o *store.NewOrder) error {
	ps := NewStore(st)
	return func(ctx context.Context, o *store.NewOrder) error {
		return ps.CheckModify(ctx, o.ProjectID, o.OfferingID)
	}
}

// OrderCheck wraps an order check (plugin.Set.OrderCheck; nil: none) with
// the policies' block_creation_of_new_resources: the inner check runs first.
func OrderCheck(st *store.Store, inner func(ctx context.Context, offeringType string, o *store.NewOrder) error) func(ctx context.Context, offeringType string, o *store.NewOrder) error {
	ps := NewStore(st)
	return func(ctx context.Context, offeringType string, o *store.NewOrder) error {
		if inner != nil {
			if err := inner(ctx, offeringType, o); err != nil {
				return err
			}
		}
		if o.Type != models.OrderCreate && o.Type != "" {
			return nil
		}
		return ps.CheckCreate(ctx, o.ProjectID, o.OfferingID)
	}
}
