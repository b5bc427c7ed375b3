package preset

// The marketplace sections of a preset file: category groups, categories,
// service providers, offerings, offering components, plans and plan
// components, with their given UUIDs, so the preset's offerings take orders
// as soon as the file is loaded; offering_users gives users their accounts on offerings.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

func init() {
	Register(Section{Name: "category_groups", Order: 50, Load: loadCategoryGroups})
	Register(Section{Name: "categories", Order: 52, Load: loadCategories})
	Register(Section{Name: "service_providers", Order: 54, Load: loadServiceProviders})
	Register(Section{Name: "offerings", Order: 56, Load: loadOfferings})
	Register(Section{Name: "offering_components", Order: 58, Load: loadOfferingComponents})
	Register(Section{Name: "plans", Order: 60, Load: loadPlans})
	Register(Section{Name: "plan_components", Order: 62, Load: loadPlanComponents})
	Register(Section{Name: "offering_users", Order: 64, Load: loadOfferingUsers})

	offering := ScopeTables["customer"]
	offering.Type, offering.Table = models.ScopeOffering, "offerings"
	ScopeTables["marketplace.offering"] = offering
	ScopeTables["offering"] = offering
}

// known reports whether a row of table has the UUID (a zero UUID is an error naming what).
func known(ctx context.Context, tx *store.Store, table, what string, id models.UUID) (bool, error) {
	if id.IsZero() {
		return false, fmt.Errorf("%s has no uuid", what)
	}
	n, err := IDOf(ctx, tx, table, id)
	return n != 0, err
}

// ref resolves a reference to a row of table; an unknown one is an error
// naming the object that refers (what) and the kind of the referred (kind).
func ref(ctx context.Context, tx *store.Store, table, what, kind string, id models.UUID) (int64, error) {
	if id.IsZero() {
		return 0, fmt.Errorf("%s: no %s_uuid", what, strings.ReplaceAll(kind, " ", "_"))
	}
	n, err := IDOf(ctx, tx, table, id)
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, fmt.Errorf("%s: unknown %s %s", what, kind, id)
	}
	return n, nil
}

// optRef is ref for an optional reference (nil when absent).
func optRef(ctx context.Context, tx *store.Store, table, what, kind string, id *models.UUID) (*int64, error) {
	if id == nil || id.IsZero() {
		return nil, nil
	}
	n, err := ref(ctx, tx, table, what, kind, *id)
	if err != nil {
		return nil, err
	}
	return &n, nil
}

// jsonObject turns an optional JSON object of the file into the column value
// (JSON text; NULL when absent unless def is given).
func jsonObject(raw json.RawMessage, what, field string, def store.JSONObject) (any, error) {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		if def == nil {
			return nil, nil
		}
		return def, nil
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%s: %s must be a JSON object", what, field)
	}
	return store.JSONObject(m), nil
}

func orDefault(b *bool, def bool) bool {
	if b == nil {
		return def
	}
	return *b
}

func decimalOr(d *decimal.Decimal, def int64) decimal.Decimal {
	if d == nil {
		return decimal.NewFromInt(def)
	}
	return *d
}

func insert(ctx context.Context, tx *store.Store, table, what string, row map[string]any) error {
	if err := tx.DB.WithContext(ctx).Table(table).Create(row).Error; err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

type presetCategoryGroup struct {
	UUID        models.UUID `json:"uuid"`
	Title       string      `json:"title"`
	Description string      `json:"description"`
	Icon        string      `json:"icon"`
}

func loadCategoryGroups(ctx context.Context, tx *store.Store, raw json.RawMessage) (int, int, error) {
	gs, err := decode[presetCategoryGroup](raw)
	if err != nil {
		return 0, 0, err
	}
	created, existing := 0, 0
	for _, p := range gs {
		what := fmt.Sprintf("category group %q", p.Title)
		if ok, err := known(ctx, tx, "category_groups", what, p.UUID); err != nil {
			return created, existing, err
		} else if ok {
			existing++
			continue
		}
		if strings.TrimSpace(p.Title) == "" {
			return created, existing, fmt.Errorf("category group %s has no title", p.UUID)
		}
		if err := insert(ctx, tx, "category_groups", what, map[string]any{"uuid": p.UUID, "title": p.Title,
			"description": p.Description, "icon": p.Icon}); err != nil {
			return created, existing, err
		}
		created++
	}
	return created, existing, nil
}

type presetCategory struct {
	UUID                  models.UUID  `json:"uuid"`
	Title                 string       `json:"title"`
	Description           string       `json:"description"`
	Icon                  string       `json:"icon"`
	BackendID             string       `json:"backend_id"`
	GroupUUID             *models.UUID `json:"group_uuid"`
	DefaultVMCategory     bool         `json:"default_vm_category"`
	DefaultVolumeCategory bool         `json:"default_volume_category"`
	DefaultTenantCategory bool         `json:"default_tenant_category"`
}

func loadCategories(ctx context.Context, tx *store.Store, raw json.RawMessage) (int, int, error) {
	cs, err := decode[presetCategory](raw)
	if err != nil {
		return 0, 0, err
	}
	created, existing := 0, 0
	for _, p := range cs {
		what := fmt.Sprintf("category %q", p.Title)
		if ok, err := known(ctx, tx, "categories", what, p.UUID); err != nil {
			return created, existing, err
		} else if ok {
			existing++
			continue
		}
		if strings.TrimSpace(p.Title) == "" {
			return created, existing, fmt.Errorf("category %s has no title", p.UUID)
		}
		gid, err := optRef(ctx, tx, "category_groups", what, "category group", p.GroupUUID)
		if err != nil {
			return created, existing, err
		}
		now := tx.Now()
		if err := insert(ctx, tx, "categories", what, map[string]any{"uuid": p.UUID, "group_id": gid, "title": p.Title,
			"description": p.Description, "icon": p.Icon, "backend_id": p.BackendID,
			"default_vm_category": p.DefaultVMCategory, "default_volume_category": p.DefaultVolumeCategory,
			"default_tenant_category": p.DefaultTenantCategory, "created": now, "modified": now}); err != nil {
			return created, existing, err
		}
		created++
	}
	return created, existing, nil
}

type presetServiceProvider struct {
	UUID                models.UUID `json:"uuid"`
	CustomerUUID        models.UUID `json:"customer_uuid"`
	Description         string      `json:"description"`
	EnableNotifications *bool       `json:"enable_notifications"`
	APISecretCode       string      `json:"api_secret_code"`
}

func loadServiceProviders(ctx context.Context, tx *store.Store, raw json.RawMessage) (int, int, error) {
	sps, err := decode[presetServiceProvider](raw)
	if err != nil {
		return 0, 0, err
	}
	created, existing := 0, 0
	for _, p := range sps {
		what := fmt.Sprintf("service provider %s", p.UUID)
		if ok, err := known(ctx, tx, "service_providers", "a service provider", p.UUID); err != nil {
			return created, existing, err
		} else if ok {
			existing++
			continue
		}
		cid, err := ref(ctx, tx, "customers", what, "customer", p.CustomerUUID)
		if err != nil {
			return created, existing, err
		}
		var n int64
		if err := tx.DB.WithContext(ctx).Table("service_providers").Where("customer_id = ?", cid).Count(&n).Error; err != nil {
			return created, existing, err
		}
		if n > 0 {
			return created, existing, fmt.Errorf("%s: customer %s is already a service provider under another uuid", what, p.CustomerUUID)
		}
		now := tx.Now()
		if err := insert(ctx, tx, "service_providers", what, map[string]any{"uuid": p.UUID, "customer_id": cid,
			"description": p.Description, "enable_notifications": orDefault(p.EnableNotifications, true),
			"api_secret_code": p.APISecretCode, "created": now, "modified": now}); err != nil {
			return created, existing, err
		}
		created++
	}
	return created, existing, nil
}

type presetOffering struct {
	UUID            models.UUID     `json:"uuid"`
	Name            string          `json:"name"`
	Slug            string          `json:"slug"`
	Description     string          `json:"description"`
	FullDescription string          `json:"full_description"`
	Type            string          `json:"type"`
	State           json.RawMessage `json:"state"`
	PausedReason    string          `json:"paused_reason"`
	Shared          *bool           `json:"shared"`
	Billable        *bool           `json:"billable"`
	CategoryUUID    models.UUID     `json:"category_uuid"`
	CustomerUUID    models.UUID     `json:"customer_uuid"`
	ProjectUUID     *models.UUID    `json:"project_uuid"`
	ParentUUID      *models.UUID    `json:"parent_uuid"`
	Attributes      json.RawMessage `json:"attributes"`
	Options         json.RawMessage `json:"options"`
	ResourceOptions json.RawMessage `json:"resource_options"`
	PluginOptions   json.RawMessage `json:"plugin_options"`
	SecretOptions   json.RawMessage `json:"secret_options"`
	BackendMetadata json.RawMessage `json:"backend_metadata"`
	BackendID       string          `json:"backend_id"`
	TermsOfService  string          `json:"terms_of_service"`
	Country         string          `json:"country"`
}

// offeringStates are Waldur's OfferingStates choices (the integer in a dump).
var offeringStates = map[int]models.OfferingState{1: models.OfferingDraft, 2: models.OfferingActive,
	3: models.OfferingPaused, 4: models.OfferingArchived}

// offeringState reads a state given as Waldur's integer or its display name (Draft when absent).
func offeringState(raw json.RawMessage) (models.OfferingState, bool) {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return models.OfferingDraft, true
	}
	var n int
	if err := json.Unmarshal(raw, &n); err == nil {
		st, ok := offeringStates[n]
		return st, ok
	}
	var name string
	if err := json.Unmarshal(raw, &name); err == nil {
		for _, st := range offeringStates {
			if strings.EqualFold(string(st), name) {
				return st, true
			}
		}
	}
	return "", false
}

func loadOfferings(ctx context.Context, tx *store.Store, raw json.RawMessage) (int, int, error) {
	offs, err := decode[presetOffering](raw)
	if err != nil {
		return 0, 0, err
	}
	created, existing := 0, 0
	for _, p := range offs {
		what := fmt.Sprintf("offering %q", p.Name)
		if ok, err := known(ctx, tx, "offerings", what, p.UUID); err != nil {
			return created, existing, err
		} else if ok {
			existing++
			continue
		}
		if strings.TrimSpace(p.Name) == "" || strings.TrimSpace(p.Type) == "" {
			return created, existing, fmt.Errorf("offering %s needs a name and a type", p.UUID)
		}
		state, ok := offeringState(p.State)
		if !ok {
			return created, existing, fmt.Errorf("%s: unknown state %s", what, string(p.State))
		}
		cid, err := ref(ctx, tx, "customers", what, "customer", p.CustomerUUID)
		if err != nil {
			return created, existing, err
		}
		catID, err := ref(ctx, tx, "categories", what, "category", p.CategoryUUID)
		if err != nil {
			return created, existing, err
		}
		projectID, err := optRef(ctx, tx, "projects", what, "project", p.ProjectUUID)
		if err != nil {
			return created, existing, err
		}
		parentID, err := optRef(ctx, tx, "offerings", what, "parent offering", p.ParentUUID)
		if err != nil {
			return created, existing, err
		}
		now := tx.Now()
		if strings.TrimSpace(p.Slug) == "" {
			p.Slug = store.Slugify(p.Name) // as the API fills an offering's
		}
		row := map[string]any{"uuid": p.UUID, "customer_id": cid, "category_id": catID, "project_id": projectID,
			"parent_id": parentID, "name": p.Name, "slug": p.Slug, "description": p.Description,
			"full_description": p.FullDescription, "type": p.Type, "state": state, "paused_reason": p.PausedReason,
			"shared": orDefault(p.Shared, true), "billable": orDefault(p.Billable, true), "backend_id": p.BackendID,
			"terms_of_service": p.TermsOfService, "country": p.Country, "created": now, "modified": now}
		for _, f := range []struct {
			col string
			raw json.RawMessage
			def store.JSONObject
		}{
			{"attributes", p.Attributes, nil}, {"options", p.Options, nil}, {"resource_options", p.ResourceOptions, nil},
			{"plugin_options", p.PluginOptions, store.JSONObject{}}, {"secret_options", p.SecretOptions, nil},
			{"backend_metadata", p.BackendMetadata, nil},
		} {
			v, err := jsonObject(f.raw, what, f.col, f.def)
			if err != nil {
				return created, existing, err
			}
			row[f.col] = v
		}
		if err := insert(ctx, tx, "offerings", what, row); err != nil {
			return created, existing, err
		}
		created++
	}
	return created, existing, nil
}

type presetComponent struct {
	UUID              models.UUID      `json:"uuid"`
	OfferingUUID      models.UUID      `json:"offering_uuid"`
	Type              string           `json:"type"`
	Name              string           `json:"name"`
	Description       string           `json:"description"`
	MeasuredUnit      string           `json:"measured_unit"`
	BillingType       string           `json:"billing_type"`
	LimitPeriod       *string          `json:"limit_period"`
	LimitAmount       *int64           `json:"limit_amount"`
	MinValue          *int64           `json:"min_value"`
	MaxValue          *int64           `json:"max_value"`
	MaxAvailableLimit *int64           `json:"max_available_limit"`
	DefaultLimit      *int64           `json:"default_limit"`
	IsBoolean         bool             `json:"is_boolean"`
	UnitFactor        *decimal.Decimal `json:"unit_factor"`
	ArticleCode       string           `json:"article_code"`
	BackendID         string           `json:"backend_id"`
}

func loadOfferingComponents(ctx context.Context, tx *store.Store, raw json.RawMessage) (int, int, error) {
	cs, err := decode[presetComponent](raw)
	if err != nil {
		return 0, 0, err
	}
	created, existing := 0, 0
	for _, p := range cs {
		what := fmt.Sprintf("offering component %q (%s)", p.Type, p.UUID)
		if ok, err := known(ctx, tx, "offering_components", what, p.UUID); err != nil {
			return created, existing, err
		} else if ok {
			existing++
			continue
		}
		if strings.TrimSpace(p.Type) == "" {
			return created, existing, fmt.Errorf("%s has no type", what)
		}
		oid, err := ref(ctx, tx, "offerings", what, "offering", p.OfferingUUID)
		if err != nil {
			return created, existing, err
		}
		bt := models.BillingType(p.BillingType)
		if !bt.Valid() {
			return created, existing, fmt.Errorf("%s: unknown billing_type %q", what, p.BillingType)
		}
		if p.LimitPeriod != nil {
			switch models.LimitPeriod(*p.LimitPeriod) {
			case models.LimitMonth, models.LimitQuarterly, models.LimitAnnual, models.LimitTotal:
			default:
				return created, existing, fmt.Errorf("%s: unknown limit_period %q", what, *p.LimitPeriod)
			}
		}
		var dup int64
		if err := tx.DB.WithContext(ctx).Table("offering_components").Where("offering_id = ? AND type = ?", oid, p.Type).Count(&dup).Error; err != nil {
			return created, existing, err
		}
		if dup > 0 {
			return created, existing, fmt.Errorf("%s: offering %s already has a component of this type", what, p.OfferingUUID)
		}
		name := p.Name
		if strings.TrimSpace(name) == "" {
			name = p.Type
		}
		if err := insert(ctx, tx, "offering_components", what, map[string]any{"uuid": p.UUID, "offering_id": oid,
			"type": p.Type, "name": name, "description": p.Description, "measured_unit": p.MeasuredUnit,
			"billing_type": string(bt), "limit_period": p.LimitPeriod, "limit_amount": p.LimitAmount,
			"min_value": p.MinValue, "max_value": p.MaxValue, "max_available_limit": p.MaxAvailableLimit,
			"default_limit": p.DefaultLimit, "is_boolean": p.IsBoolean, "unit_factor": decimalOr(p.UnitFactor, 1),
			"article_code": p.ArticleCode, "backend_id": p.BackendID}); err != nil {
			return created, existing, err
		}
		created++
	}
	return created, existing, nil
}

type presetPlan struct {
	UUID         models.UUID      `json:"uuid"`
	OfferingUUID models.UUID      `json:"offering_uuid"`
	Name         string           `json:"name"`
	Description  string           `json:"description"`
	Unit         string           `json:"unit"`
	UnitPrice    *decimal.Decimal `json:"unit_price"`
	ArticleCode  string           `json:"article_code"`
	BackendID    string           `json:"backend_id"`
	MaxAmount    *int64           `json:"max_amount"`
	Archived     bool             `json:"archived"`
}

func loadPlans(ctx context.Context, tx *store.Store, raw json.RawMessage) (int, int, error) {
	ps, err := decode[presetPlan](raw)
	if err != nil {
		return 0, 0, err
	}
	created, existing := 0, 0
	for _, p := range ps {
		what := fmt.Sprintf("plan %q", p.Name)
		if ok, err := known(ctx, tx, "plans", what, p.UUID); err != nil {
			return created, existing, err
		} else if ok {
			existing++
			continue
		}
		if strings.TrimSpace(p.Name) == "" {
			return created, existing, fmt.Errorf("plan %s has no name", p.UUID)
		}
		oid, err := ref(ctx, tx, "offerings", what, "offering", p.OfferingUUID)
		if err != nil {
			return created, existing, err
		}
		unit := models.PlanUnit(p.Unit)
		switch unit {
		case "":
			unit = models.UnitMonth
		case models.UnitMonth, models.UnitQuarter, models.UnitHalfMonth, models.UnitDay, models.UnitHour, models.UnitQuantity:
		default:
			return created, existing, fmt.Errorf("%s: unknown unit %q", what, p.Unit)
		}
		now := tx.Now()
		if err := insert(ctx, tx, "plans", what, map[string]any{"uuid": p.UUID, "offering_id": oid, "name": p.Name,
			"description": p.Description, "unit": string(unit), "unit_price": decimalOr(p.UnitPrice, 0),
			"article_code": p.ArticleCode, "backend_id": p.BackendID, "max_amount": p.MaxAmount, "archived": p.Archived,
			"created": now, "modified": now}); err != nil {
			return created, existing, err
		}
		created++
	}
	return created, existing, nil
}

type presetPlanComponent struct {
	PlanUUID      models.UUID      `json:"plan_uuid"`
	ComponentUUID *models.UUID     `json:"component_uuid"`
	ComponentType string           `json:"component_type"`
	Amount        int64            `json:"amount"`
	Price         *decimal.Decimal `json:"price"`
	FuturePrice   *decimal.Decimal `json:"future_price"`
}

func loadPlanComponents(ctx context.Context, tx *store.Store, raw json.RawMessage) (int, int, error) {
	pcs, err := decode[presetPlanComponent](raw)
	if err != nil {
		return 0, 0, err
	}
	created, existing := 0, 0
	db := tx.DB.WithContext(ctx)
	for _, p := range pcs {
		what := fmt.Sprintf("plan component %q of plan %s", p.ComponentType, p.PlanUUID)
		var plan []struct {
			ID         int64
			OfferingID int64
		}
		if p.PlanUUID.IsZero() {
			return created, existing, fmt.Errorf("%s: no plan_uuid", what)
		}
		if err := db.Table("plans").Select("id, offering_id").Where("uuid = ?", p.PlanUUID).Limit(1).Scan(&plan).Error; err != nil {
			return created, existing, err
		}
		if len(plan) == 0 {
			return created, existing, fmt.Errorf("%s: unknown plan %s", what, p.PlanUUID)
		}
		var comp []struct {
			ID         int64
			OfferingID int64
		}
		q := db.Table("offering_components").Select("id, offering_id")
		switch {
		case p.ComponentUUID != nil && !p.ComponentUUID.IsZero():
			q = q.Where("uuid = ?", *p.ComponentUUID)
		case p.ComponentType != "":
			q = q.Where("offering_id = ? AND type = ?", plan[0].OfferingID, p.ComponentType)
		default:
			return created, existing, fmt.Errorf("%s: needs component_uuid or component_type", what)
		}
		if err := q.Limit(1).Scan(&comp).Error; err != nil {
			return created, existing, err
		}
		if len(comp) == 0 {
			if p.ComponentUUID != nil && !p.ComponentUUID.IsZero() {
				return created, existing, fmt.Errorf("%s: unknown offering component %s", what, *p.ComponentUUID)
			}
			return created, existing, fmt.Errorf("%s: the plan's offering has no component of type %q", what, p.ComponentType)
		}
		if comp[0].OfferingID != plan[0].OfferingID {
			return created, existing, fmt.Errorf("%s: component %s belongs to another offering than the plan", what, *p.ComponentUUID)
		}
		var n int64
		if err := db.Table("plan_components").Where("plan_id = ? AND component_id = ?", plan[0].ID, comp[0].ID).Count(&n).Error; err != nil {
			return created, existing, err
		}
		if n > 0 {
			existing++
			continue
		}
		if err := insert(ctx, tx, "plan_components", what, map[string]any{"plan_id": plan[0].ID, "component_id": comp[0].ID,
			"amount": p.Amount, "price": decimalOr(p.Price, 0), "future_price": p.FuturePrice}); err != nil {
			return created, existing, err
		}
		created++
	}
	return created, existing, nil
}

type presetOfferingUser struct {
	UUID         models.UUID `json:"uuid"`
	OfferingUUID models.UUID `json:"offering_uuid"`
	UserUUID     models.UUID `json:"user_uuid"`
	Username     string      `json:"username"`
	State        string      `json:"state"`
	IsRestricted bool        `json:"is_restricted"`
}

// loadOfferingUsers gives users their accounts on offerings, keeping the
// given UUIDs; an account with a username and no state is OK (the site
// has it), without a username Requested.
func loadOfferingUsers(ctx context.Context, tx *store.Store, raw json.RawMessage) (int, int, error) {
	ous, err := decode[presetOfferingUser](raw)
	if err != nil {
		return 0, 0, err
	}
	created, existing := 0, 0
	for _, ou := range ous {
		what := fmt.Sprintf("offering user %s", ou.UUID)
		ok, err := known(ctx, tx, "offering_users", what, ou.UUID)
		if err != nil {
			return created, existing, err
		}
		if ok {
			existing++
			continue
		}
		offering, err := ref(ctx, tx, "offerings", what, "offering", ou.OfferingUUID)
		if err != nil {
			return created, existing, err
		}
		user, err := ref(ctx, tx, "users", what, "user", ou.UserUUID)
		if err != nil {
			return created, existing, err
		}
		state := models.OfferingUserState(ou.State)
		switch {
		case ou.State == "" && ou.Username != "":
			state = models.OfferingUserOK
		case ou.State == "":
			state = models.OfferingUserRequested
		case !state.Valid():
			return created, existing, fmt.Errorf("%s: unknown state %q", what, ou.State)
		}
		now := tx.Now()
		if err := insert(ctx, tx, "offering_users", what, map[string]any{"uuid": ou.UUID, "offering_id": offering, "user_id": user,
			"username": ou.Username, "state": string(state), "is_restricted": ou.IsRestricted, "created": now, "modified": now}); err != nil {
			return created, existing, err
		}
		created++
	}
	return created, existing, nil
}
