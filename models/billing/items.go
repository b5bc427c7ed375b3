package billing

import (
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/waldur-go/waldur/models"
)

// Plan is a price plan as billing sees it.
type Plan struct {
	ID          int64
	UUID        models.UUID
	Name        string
	Unit        models.PlanUnit
	UnitPrice   decimal.Decimal
	ArticleCode string
	Components  []Component
}

// Component is an offering component with this plan's price and amount.
type Component struct {
	ID           int64
	Type         string
	Name         string
	MeasuredUnit string
	ArticleCode  string
	BillingType  models.BillingType
	LimitPeriod  models.LimitPeriod
	// UnitFactor converts limits and usages into billed units (quantity =
	// amount / factor); zero means 1.
	UnitFactor decimal.Decimal
	Amount     int64
	Price      decimal.Decimal
}

func (c *Component) factor() decimal.Decimal {
	if c.UnitFactor.IsZero() {
		return one
	}
	return c.UnitFactor
}

// convert turns a limit or usage into billed units.
func (c *Component) convert(v decimal.Decimal) decimal.Decimal {
	return v.DivRound(c.factor(), QuantityPlaces)
}

// ChangeKind is one step in a resource's billed life.
type ChangeKind string

// The steps, each from a done order (its completed_at is the time).
const (
	// Activate: the create order is done; the resource starts on Plan with Limits.
	Activate ChangeKind = "activate"
	// SwitchPlan: an update order switched the plan (and maybe the limits).
	SwitchPlan ChangeKind = "switch_plan"
	// SetLimits: an update order changed the limits (the whole map).
	SetLimits ChangeKind = "set_limits"
	// Terminate: the terminate order is done.
	Terminate ChangeKind = "terminate"
	// Adopt: a resource that never became OK through a create order
	// (imported, or its creation failed and it was kept) is billed from
	// At, the start of the month after it was created, on its plan and
	// limits, with no one-time or total-limit charges (Waldur registers
	// items on the Creating → OK move; others join at the next month's
	// invoice).
	Adopt ChangeKind = "adopt"
)

// Change is one step of a resource's history.
type Change struct {
	At     time.Time
	Kind   ChangeKind
	PlanID int64            // Activate, SwitchPlan
	Limits map[string]int64 // Activate, SetLimits; SwitchPlan when it changed them (nil keeps them)
}

// Usage is a reported component usage of one billing month.
type Usage struct {
	ComponentID int64
	Month       Month
	Usage       decimal.Decimal
	// PlanID is the plan of the usage's plan period (0: the plan in force).
	PlanID int64
	// PeriodStart and PeriodEnd bound the plan period (nil: open).
	PeriodStart, PeriodEnd *time.Time
	Description            string
}

// Resource is a resource with everything its invoice items depend on.
type Resource struct {
	ID           int64
	UUID         models.UUID
	Name         string
	ProjectID    int64
	ProjectUUID  models.UUID
	ProjectName  string
	OfferingID   int64
	OfferingUUID models.UUID
	OfferingName string
	OfferingType string
	// ProviderName and ProviderUUID are the offering's customer and its service provider.
	ProviderName string
	ProviderUUID models.UUID
	Changes      []Change
	Usages       []Usage
	// ProrateLimits is the offering's plugin_options.prorate_limits: a
	// limit component of period month on a plan billed by month,
	// half-month, quarter or hour is prorated by the plan's unit over each
	// span of constant limit. Off (Waldur's rule), each span's limit is
	// billed whole, once in the month.
	ProrateLimits bool
	// WholeUsageUnits rounds a component's usage of the month up to whole
	// billed units (Waldur's SLURM plugin bills whole hours).
	WholeUsageUnits bool
}

// ItemKind says which rule produced an item.
type ItemKind string

// Item kinds.
const (
	KindPlan         ItemKind = "plan"         // the plan's own unit price (no longer billed; older invoices)
	KindFixed        ItemKind = "fixed"        // a fixed component
	KindLimit        ItemKind = "limit"        // a limit component (month, quarterly, annual)
	KindLimitTotal   ItemKind = "limit_total"  // a total-period limit, or a change of it
	KindOne          ItemKind = "one"          // one-time, on activation
	KindFew          ItemKind = "few"          // one-time, on a plan switch
	KindUsage        ItemKind = "usage"        // reported usage
	KindCompensation ItemKind = "compensation" // a credit compensation
	KindManual       ItemKind = "manual"       // made by staff
)

// LimitPeriodDetail is one span of constant limit within a limit item
// (Waldur's resource_limit_periods entry).
type LimitPeriodDetail struct {
	Start          time.Time       `json:"start"`
	End            time.Time       `json:"end"`
	Quantity       decimal.Decimal `json:"quantity"`
	BillingPeriods int64           `json:"billing_periods"`
	Total          string          `json:"total"`
}

// MarshalJSON renders the quantity as a JSON number (the OpenAPI's integer
// for whole limits) and the times in RFC 3339.
func (p LimitPeriodDetail) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Start          time.Time       `json:"start"`
		End            time.Time       `json:"end"`
		Quantity       json.RawMessage `json:"quantity"`
		BillingPeriods int64           `json:"billing_periods"`
		Total          string          `json:"total"`
	}{p.Start, p.End, json.RawMessage(p.Quantity.String()), p.BillingPeriods, p.Total})
}

// Item is one invoice line for a resource in a month.
type Item struct {
	// Key identifies the item among the resource's items of the month, so
	// registering again updates it in place.
	Key          string
	Kind         ItemKind
	Name         string
	PlanID       int64
	ComponentID  int64 // 0 for the plan's own price
	Start, End   time.Time
	Unit         models.PlanUnit
	UnitPrice    decimal.Decimal
	Quantity     decimal.Decimal
	Price        decimal.Decimal
	MeasuredUnit string
	ArticleCode  string
	Details      ItemDetails
}

// ItemDetails is an item's details (Waldur's InvoiceItemDetails): what it
// bills, kept on the item so it reads the same after the resource, plan
// or offering change or go.
type ItemDetails struct {
	ResourceName          string              `json:"resource_name"`
	ResourceUUID          string              `json:"resource_uuid"`
	PlanName              string              `json:"plan_name"`
	PlanUUID              string              `json:"plan_uuid"`
	OfferingType          string              `json:"offering_type"`
	OfferingName          string              `json:"offering_name"`
	OfferingUUID          string              `json:"offering_uuid"`
	ServiceProviderName   string              `json:"service_provider_name"`
	ServiceProviderUUID   string              `json:"service_provider_uuid,omitempty"`
	PlanComponentID       int64               `json:"plan_component_id,omitempty"`
	OfferingComponentType string              `json:"offering_component_type,omitempty"`
	OfferingComponentName string              `json:"offering_component_name,omitempty"`
	ResourceLimitPeriods  []LimitPeriodDetail `json:"resource_limit_periods,omitempty"`
}

// segment is a span of the resource's life on one plan.
type segment struct {
	plan      *Plan
	kind      ChangeKind // Activate or SwitchPlan
	start     time.Time
	end       time.Time // zero: still running
	limits    []Change  // the limits in force at start, then each SetLimits
	totalFrom map[string]int64
}

// segments replays the history: a segment per plan in force.
func segments(changes []Change, plans map[int64]*Plan) []*segment {
	cs := append([]Change(nil), changes...)
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].At.Before(cs[j].At) })
	var out []*segment
	var cur *segment
	limits := map[string]int64{}
	for _, c := range cs {
		switch c.Kind {
		case Activate, Adopt:
			if cur != nil {
				continue // already active
			}
			limits = copyLimits(c.Limits)
			cur = &segment{plan: plans[c.PlanID], kind: c.Kind, start: c.At, limits: []Change{{At: c.At, Limits: limits}}}
		case SwitchPlan:
			if cur == nil {
				continue
			}
			cur.end = c.At
			out = append(out, cur)
			if c.Limits != nil {
				limits = copyLimits(c.Limits)
			}
			cur = &segment{plan: plans[c.PlanID], kind: SwitchPlan, start: c.At, limits: []Change{{At: c.At, Limits: limits}}}
		case SetLimits:
			if cur == nil {
				continue
			}
			limits = copyLimits(c.Limits)
			cur.limits = append(cur.limits, Change{At: c.At, Kind: SetLimits, Limits: limits})
		case Terminate:
			if cur == nil {
				continue
			}
			cur.end = c.At
			out = append(out, cur)
			cur = nil
		}
	}
	if cur != nil {
		out = append(out, cur)
	}
	return out
}

func copyLimits(m map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// limitOf is a limit as billed: unset and unlimited (-1) bill nothing.
func limitOf(m map[string]int64, t string) int64 {
	v := m[t]
	if v < 0 {
		return 0
	}
	return v
}

// Items computes the invoice items of resource r for month m from its
// history (Waldur's registrators): every plan segment overlapping the
// month gives, clipped to the month (an item of a segment still running
// ends at m.End()):
//
//   - fixed components: price × amount per plan unit, prorated by the
//     plan's unit (Quantity); on a quarter plan, price × amount once, in the
//     first month of each quarter (January, April, July, October);
//   - one components (segments that began with the activation in m) and
//     few components (segments that began with a plan switch in m): price
//     once, unit quantity;
//   - limit components of period month: on a day plan, limit × days of each
//     span of constant limit; on other plans each span's limit once (so a
//     change mid-month bills both limits), or, with r.ProrateLimits, the
//     span prorated by the plan's unit; a decrease takes effect the next
//     day, an increase the same day;
//   - limit components of period quarterly: the limit once, in the first
//     month of each quarter; annual: once, in the month of the activation's
//     anniversary;
//   - limit components of period total: the limit once on activation, then
//     each change as an item of the difference (a negative unit price for
//     a decrease), unit quantity;
//
// and each usage reported for m of a usage component an item of usage /
// unit factor (rounded up to a whole unit with r.WholeUsageUnits) at the
// price of its plan period's plan, unit quantity, over the plan period
// clipped to the month. The plan's own unit_price is an estimate, never an
// item (Waldur). Items whose unit price or quantity is zero are left out.
// Plans are looked up in plans; a segment on an unknown plan bills nothing.
func Items(r *Resource, plans map[int64]*Plan, m Month) []Item {
	ms, me, next := m.Start(), m.End(), m.Next().Start()
	var out []Item
	segs := segments(r.Changes, plans)
	var activated time.Time // the start of the resource's life, for annual limits
	if len(segs) > 0 {
		activated = segs[0].start
	}
	quarterMonth := (m.Month-1)%3 == 0
	quarterEnd := Month{Year: m.Year, Month: m.Month + 2}.End()
	var lastPlan *Plan
	var lastStart, lastEnd time.Time
	for _, sg := range segs {
		if sg.plan == nil || !sg.start.Before(next) || (!sg.end.IsZero() && !sg.end.After(ms)) {
			continue
		}
		start := sg.start
		if start.Before(ms) {
			start = ms
		}
		end, endExcl := me, next
		if !sg.end.IsZero() && sg.end.Before(next) {
			end, endExcl = sg.end, sg.end
		}
		// Items of a quarter (or a year) end with it, or with the segment.
		periodEnd := func(to time.Time) time.Time {
			if !sg.end.IsZero() && sg.end.Before(to) {
				return sg.end
			}
			return to
		}
		lastPlan, lastStart, lastEnd = sg.plan, start, end
		p := sg.plan
		base := fmt.Sprintf("%s (%s / %s)", r.Name, r.OfferingName, p.Name)
		startedInMonth := !sg.start.Before(ms)
		mk := func(kind ItemKind, c *Component, key string, s, e time.Time, unit models.PlanUnit, unitPrice, qty decimal.Decimal) {
			if unitPrice.IsZero() || qty.IsZero() {
				return
			}
			it := Item{Key: key, Kind: kind, Name: base, PlanID: p.ID, Start: s, End: e, Unit: unit,
				UnitPrice: unitPrice, Quantity: qty, Price: Price(unitPrice, qty), ArticleCode: p.ArticleCode,
				Details: details(r, p, c)}
			if c != nil {
				it.Name += " / " + c.Name
				it.ComponentID, it.MeasuredUnit = c.ID, c.MeasuredUnit
				if c.ArticleCode != "" {
					it.ArticleCode = c.ArticleCode
				}
			}
			out = append(out, it)
		}
		key := func(kind ItemKind, compID int64, at time.Time) string {
			return fmt.Sprintf("%s:%d:%d:%d", kind, p.ID, compID, at.UnixMicro())
		}
		for i := range p.Components {
			c := &p.Components[i]
			switch c.BillingType {
			case models.BillingFixed:
				price := c.Price.Mul(decimal.NewFromInt(c.Amount))
				if p.Unit == models.UnitQuarter {
					if quarterMonth {
						mk(KindFixed, c, key(KindFixed, c.ID, sg.start), start, periodEnd(quarterEnd), p.Unit, price, one)
					}
					continue
				}
				mk(KindFixed, c, key(KindFixed, c.ID, sg.start), start, end, p.Unit, price, Quantity(p.Unit, start, end))
			case models.BillingOne:
				if sg.kind == Activate && startedInMonth {
					mk(KindOne, c, key(KindOne, c.ID, sg.start), start, me, models.UnitQuantity, c.Price, one)
				}
			case models.BillingFew:
				if sg.kind == SwitchPlan && startedInMonth {
					mk(KindFew, c, key(KindFew, c.ID, sg.start), start, me, models.UnitQuantity, c.Price, one)
				}
			case models.BillingLimit:
				itemEnd, rule := end, limitWhole
				switch c.LimitPeriod {
				case models.LimitTotal:
					totalItems(sg, c, ms, next, me, key, mk)
					continue
				case models.LimitQuarterly:
					if !quarterMonth {
						continue
					}
					itemEnd = periodEnd(quarterEnd)
				case models.LimitAnnual:
					if activated.IsZero() || m.Month != activated.UTC().Month() {
						continue
					}
					itemEnd = periodEnd(Month{Year: m.Year + 1, Month: m.Month}.Start().Add(-time.Microsecond))
				default: // month
					switch {
					case p.Unit == models.UnitDay:
						rule = limitProrated
					case r.ProrateLimits:
						rule = limitProrated
					}
				}
				periods, qty := limitPeriods(sg, c, p.Unit, rule, start, end, endExcl)
				before := len(out)
				mk(KindLimit, c, key(KindLimit, c.ID, sg.start), start, itemEnd, p.Unit, c.Price, qty)
				if len(out) > before {
					out[len(out)-1].Details.ResourceLimitPeriods = periods
				}
			}
		}
	}
	for _, u := range r.Usages {
		if u.Month != m || u.Usage.IsZero() {
			continue
		}
		p, s, e := lastPlan, lastStart, lastEnd
		if u.PlanID != 0 {
			p = plans[u.PlanID]
		}
		if p == nil && len(segs) > 0 {
			// Usage reported before the resource is billed on a plan (an
			// adopted resource's first month) is billed at its plan's price.
			p = segs[0].plan
		}
		if u.PeriodStart != nil || u.PeriodEnd != nil || p != lastPlan {
			s, e = ms, me
			if u.PeriodStart != nil && u.PeriodStart.After(s) {
				s = *u.PeriodStart
			}
			if u.PeriodEnd != nil && u.PeriodEnd.Before(e) {
				e = *u.PeriodEnd
			}
		}
		if p == nil {
			continue
		}
		var c *Component
		for i := range p.Components {
			if p.Components[i].ID == u.ComponentID {
				c = &p.Components[i]
			}
		}
		// Only usage components turn reported usage into items: a usage
		// reported on a limit (or fixed) component is information.
		if c == nil || c.BillingType != models.BillingUsage || c.Price.IsZero() {
			continue
		}
		qty := c.convert(u.Usage)
		if r.WholeUsageUnits {
			qty = qty.Ceil()
		}
		it := Item{Key: fmt.Sprintf("%s:%d:%d:%s", KindUsage, p.ID, c.ID, m), Kind: KindUsage,
			Name: fmt.Sprintf("%s (%s / %s) / %s", r.Name, r.OfferingName, p.Name, c.Name), PlanID: p.ID, ComponentID: c.ID,
			Start: s, End: e, Unit: models.UnitQuantity, UnitPrice: c.Price, Quantity: qty, Price: Price(c.Price, qty),
			MeasuredUnit: c.MeasuredUnit, ArticleCode: p.ArticleCode, Details: details(r, p, c)}
		if c.ArticleCode != "" {
			it.ArticleCode = c.ArticleCode
		}
		out = append(out, it)
	}
	return out
}

// totalItems bills a total-period limit: the limit on activation, then the
// difference of each change, in the month they happen.
func totalItems(sg *segment, c *Component, ms, next, me time.Time, key func(ItemKind, int64, time.Time) string,
	mk func(ItemKind, *Component, string, time.Time, time.Time, models.PlanUnit, decimal.Decimal, decimal.Decimal)) {
	in := func(t time.Time) bool { return !t.Before(ms) && t.Before(next) }
	prev := limitOf(sg.limits[0].Limits, c.Type)
	if sg.kind == Activate && in(sg.start) {
		mk(KindLimitTotal, c, key(KindLimitTotal, c.ID, sg.start), sg.start, me, models.UnitQuantity, c.Price,
			c.convert(decimal.NewFromInt(prev)))
	}
	for _, ch := range sg.limits[1:] {
		v := limitOf(ch.Limits, c.Type)
		delta := v - prev
		prev = v
		if delta == 0 || !in(ch.At) {
			continue
		}
		price := c.Price
		if delta < 0 {
			price, delta = price.Neg(), -delta
		}
		mk(KindLimitTotal, c, key(KindLimitTotal, c.ID, ch.At), ch.At, me, models.UnitQuantity, price,
			c.convert(decimal.NewFromInt(delta)))
	}
}

func dayStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// limitRule says how a span of constant limit counts.
type limitRule int

const (
	// limitWhole: the span's limit once (Waldur's rule but on day plans).
	limitWhole limitRule = iota
	// limitProrated: the limit × the span's quantity in the plan's unit
	// (day plans; month plans with prorate_limits).
	limitProrated
)

// limitPeriods splits [start, end] of a segment into spans of constant
// limit of component c and returns them with the item's quantity. endExcl
// is the first instant after the item.
func limitPeriods(sg *segment, c *Component, unit models.PlanUnit, rule limitRule, start, end, endExcl time.Time) ([]LimitPeriodDetail, decimal.Decimal) {
	type span struct {
		s, e time.Time // e exclusive
		q    int64
	}
	// The limit in force at start, then the changes within the item.
	q0 := limitOf(sg.limits[0].Limits, c.Type)
	var changes []Change
	for _, ch := range sg.limits[1:] {
		if !ch.At.After(start) {
			q0 = limitOf(ch.Limits, c.Type)
			continue
		}
		if ch.At.Before(endExcl) {
			changes = append(changes, ch)
		}
	}
	var spans []span
	cur := span{s: start, q: q0}
	requested := q0 // the direction of a change is against the last request
	for _, ch := range changes {
		q := limitOf(ch.Limits, c.Type)
		if q == requested {
			continue
		}
		b := dayStart(ch.At) // an increase counts from the day of the change
		if q < requested {
			b = b.Add(24 * time.Hour) // a decrease from the next day
		}
		requested = q
		switch {
		case !b.After(cur.s): // replaces the span that starts there
			cur.q = q
		case !b.Before(endExcl): // takes effect after the item ends
		default:
			spans = append(spans, span{s: cur.s, e: b, q: cur.q})
			cur = span{s: b, q: q}
		}
	}
	spans = append(spans, span{s: cur.s, e: endExcl, q: cur.q})

	var periods []LimitPeriodDetail
	total := decimal.Zero
	billed := false
	for _, sp := range spans {
		e := sp.e.Add(-time.Microsecond)
		if sp.e.Equal(endExcl) {
			e = end
		}
		q := c.convert(decimal.NewFromInt(sp.q))
		units, periodsBilled := one, int64(1)
		if rule == limitProrated {
			units, periodsBilled = Quantity(unit, sp.s, e), FullDays(sp.s, e)
		}
		t := q.Mul(units)
		total = total.Add(t)
		if sp.q != 0 {
			billed = true
		}
		periods = append(periods, LimitPeriodDetail{Start: sp.s, End: e, Quantity: q, BillingPeriods: periodsBilled, Total: t.String()})
	}
	if !billed {
		return nil, decimal.Zero
	}
	return periods, total
}

// details is the item's details (Waldur's InvoiceItemDetails).
func details(r *Resource, p *Plan, c *Component) ItemDetails {
	d := ItemDetails{ResourceName: r.Name, ResourceUUID: r.UUID.String(), PlanName: p.Name, PlanUUID: p.UUID.String(),
		OfferingType: r.OfferingType, OfferingName: r.OfferingName, OfferingUUID: r.OfferingUUID.String(),
		ServiceProviderName: r.ProviderName}
	if !r.ProviderUUID.IsZero() {
		d.ServiceProviderUUID = r.ProviderUUID.String()
	}
	if c != nil {
		d.OfferingComponentType, d.OfferingComponentName, d.PlanComponentID = c.Type, c.Name, c.ID
	}
	return d
}

// wholeUsageTypes are the offering types whose usage is billed in whole
// units, rounded up per component and month, as their plugins declare
// them (providers.Capabilities.WholeUsageUnits; Waldur's SLURM plugin
// bills whole hours).
var wholeUsageTypes sync.Map

// DeclareWholeUsageUnits makes offerings of these types bill usage in
// whole units. The providers registry calls it for the types registered
// with the WholeUsageUnits capability.
func DeclareWholeUsageUnits(offeringTypes ...string) {
	for _, t := range offeringTypes {
		wholeUsageTypes.Store(t, true)
	}
}

// WholeUsageUnits reports whether offerings of this type bill usage in
// whole units (DeclareWholeUsageUnits).
func WholeUsageUnits(offeringType string) bool {
	_, ok := wholeUsageTypes.Load(offeringType)
	return ok
}
