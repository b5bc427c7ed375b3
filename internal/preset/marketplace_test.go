package preset_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/internal/preset"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/rbac"
)

// editPreset returns the committed preset changed by edit.
func editPreset(t *testing.T, edit func(f map[string]any)) []byte {
	var f map[string]any
	require.NoError(t, json.Unmarshal(presetFile(t), &f))
	edit(f)
	out, err := json.Marshal(f)
	require.NoError(t, err)
	return out
}

// item is the i-th object of a section of a decoded preset.
func item(f map[string]any, section string, i int) map[string]any {
	return f[section].([]any)[i].(map[string]any)
}

var marketplaceTables = []string{"category_groups", "categories", "service_providers", "offerings",
	"offering_components", "plans", "plan_components"}

func tableCounts(t *testing.T, db *gorm.DB, tables ...string) map[string]int64 {
	out := map[string]int64{}
	for _, table := range tables {
		var n int64
		require.NoError(t, db.Table(table).Count(&n).Error)
		out[table] = n
	}
	return out
}

const (
	offeringManagerRole = "e2e00000000000000000000000000027"
	managedOffering     = "e2ef0000000000000000000000000002"
	managerUser         = "e2ea0000000000000000000000000006" // e2euser5
)

func TestLoadMarketplacePreset(t *testing.T) {
	require.Equal(t, models.ScopeOffering, preset.ScopeTables["marketplace.offering"].Type)
	require.Equal(t, "offerings", preset.ScopeTables["offering"].Table)

	data := editPreset(t, func(f map[string]any) {
		// A manager of one offering (the committed file has none).
		f["user_roles"] = append(f["user_roles"].([]any), map[string]any{"uuid": offeringManagerRole,
			"user_uuid": managerUser, "role_name": models.RoleOfferingManager, "scope_type": "marketplace.offering",
			"scope_uuid": managedOffering, "is_active": true})
		// A plan component given by its type only, as Waldur's dumps may.
		delete(item(f, "plan_components", 4), "component_uuid")
	})
	var file struct {
		Offerings []struct {
			UUID          models.UUID    `json:"uuid"`
			Name          string         `json:"name"`
			Type          string         `json:"type"`
			PluginOptions map[string]any `json:"plugin_options"`
		} `json:"offerings"`
		Components []struct {
			UUID         models.UUID `json:"uuid"`
			OfferingUUID models.UUID `json:"offering_uuid"`
			Type         string      `json:"type"`
			BillingType  string      `json:"billing_type"`
			LimitPeriod  *string     `json:"limit_period"`
		} `json:"offering_components"`
		Plans []struct {
			UUID         models.UUID `json:"uuid"`
			OfferingUUID models.UUID `json:"offering_uuid"`
			Name         string      `json:"name"`
		} `json:"plans"`
		PlanComponents []struct {
			PlanUUID      models.UUID `json:"plan_uuid"`
			ComponentType string      `json:"component_type"`
		} `json:"plan_components"`
	}
	require.NoError(t, json.Unmarshal(data, &file))
	require.Len(t, file.Offerings, 15)

	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		st := store.New(db)
		rep, err := preset.Load(ctx, st, data)
		require.NoError(t, err)
		got := map[string]preset.SectionReport{}
		for _, s := range rep.Sections {
			got[s.Name] = s
		}
		for name, n := range map[string]int{"category_groups": 1, "categories": 1, "service_providers": 1, "offerings": 15,
			"offering_components": 20, "plans": 15, "plan_components": 20, "user_roles": 7, "offering_users": 8} {
			require.Equal(t, preset.SectionReport{Name: name, Created: n}, got[name], name)
		}
		require.Empty(t, rep.Skipped, "every section of the preset is loaded")
		var ou []struct{ Username, State string }
		require.NoError(t, db.Raw(`SELECT ou.username, ou.state FROM offering_users ou JOIN users u ON u.id = ou.user_id
			WHERE ou.uuid = ?`, models.MustParseUUID("e2e00000000000000000000000000031")).Scan(&ou).Error)
		require.Equal(t, []struct{ Username, State string }{{"e2euser1", "OK"}}, ou, "the site's account, kept with its username")

		// The offerings keep their UUIDs, are Active (they take orders) with their components, plans and prices.
		var customerID int64
		require.NoError(t, db.Raw(`SELECT id FROM customers WHERE uuid = ?`, models.MustParseUUID("e2ec0000000000000000000000000001")).Scan(&customerID).Error)
		var spCustomer int64
		require.NoError(t, db.Raw(`SELECT customer_id FROM service_providers WHERE uuid = ?`, models.MustParseUUID("e2ee0000000000000000000000000001")).Scan(&spCustomer).Error)
		require.Equal(t, customerID, spCustomer)
		var category store.Category
		require.NoError(t, db.Where("uuid = ?", models.MustParseUUID("e2ed0000000000000000000000000002")).Take(&category).Error)
		require.NotNil(t, category.GroupID)

		byUUID := map[models.UUID]*store.Offering{}
		var ids []int64
		for _, fo := range file.Offerings {
			o, err := st.OfferingByUUID(ctx, fo.UUID)
			require.NoError(t, err, fo.Name)
			require.Equal(t, fo.Name, o.Name)
			require.Equal(t, fo.Type, o.Type)
			require.Equal(t, models.OfferingActive, o.State)
			require.True(t, o.State.OrdersAllowed(models.OrderCreate))
			require.Equal(t, customerID, o.CustomerID)
			require.Equal(t, category.ID, o.CategoryID)
			require.True(t, o.Shared)
			require.True(t, o.Billable)
			require.Equal(t, fo.PluginOptions, map[string]any(o.PluginOptions))
			byUUID[o.UUID] = o
			ids = append(ids, o.ID)
		}
		comps, err := st.ComponentsOf(ctx, ids)
		require.NoError(t, err)
		compByUUID := map[models.UUID]store.OfferingComponent{}
		for _, cs := range comps {
			for _, c := range cs {
				compByUUID[c.UUID] = c
			}
		}
		require.Len(t, compByUUID, len(file.Components))
		for _, fc := range file.Components {
			c, ok := compByUUID[fc.UUID]
			require.True(t, ok, fc.UUID)
			require.Equal(t, byUUID[fc.OfferingUUID].ID, c.OfferingID)
			require.Equal(t, fc.Type, c.Type)
			require.Equal(t, models.BillingType(fc.BillingType), c.BillingType)
			require.Equal(t, fc.LimitPeriod, c.LimitPeriod)
			require.True(t, c.UnitFactor.Equal(decimal.NewFromInt(1)))
		}
		plans, err := st.PlansOf(ctx, ids, false)
		require.NoError(t, err)
		planByUUID := map[models.UUID]store.Plan{}
		var planIDs []int64
		for _, ps := range plans {
			for _, p := range ps {
				planByUUID[p.UUID] = p
				planIDs = append(planIDs, p.ID)
			}
		}
		require.Len(t, planByUUID, len(file.Plans))
		for _, fp := range file.Plans {
			p, ok := planByUUID[fp.UUID]
			require.True(t, ok, fp.UUID)
			require.Equal(t, fp.Name, p.Name)
			require.Equal(t, byUUID[fp.OfferingUUID].ID, p.OfferingID)
			require.Equal(t, string(models.UnitMonth), p.Unit)
		}
		pcs, err := st.PlanComponentsOf(ctx, planIDs)
		require.NoError(t, err)
		compByID := map[int64]store.OfferingComponent{}
		for _, c := range compByUUID {
			compByID[c.ID] = c
		}
		for _, fpc := range file.PlanComponents {
			p := planByUUID[fpc.PlanUUID]
			var found bool
			for _, pc := range pcs[p.ID] {
				c := compByID[pc.ComponentID]
				if c.Type == fpc.ComponentType {
					found = true
					require.Equal(t, p.OfferingID, c.OfferingID)
					require.True(t, pc.Price.IsZero())
					require.Zero(t, pc.Amount)
				}
			}
			require.True(t, found, "%s %s", fpc.PlanUUID, fpc.ComponentType)
		}
		total := 0
		for _, l := range pcs {
			total += len(l)
		}
		require.Equal(t, len(file.PlanComponents), total)

		// The offering manager's role works through the checker; it does not count as a customer user.
		chk, err := rbac.NewChecker(db)
		require.NoError(t, err)
		manager, err := st.UserByUUID(ctx, models.MustParseUUID(managerUser))
		require.NoError(t, err)
		managed := byUUID[models.MustParseUUID(managedOffering)]
		ok, err := chk.Has(ctx, manager, models.Permission("OFFERING.UPDATE"), managed.Scope())
		require.NoError(t, err)
		require.True(t, ok)
		ok, err = chk.Has(ctx, manager, models.Permission("OFFERING.UPDATE"), byUUID[file.Offerings[0].UUID].Scope())
		require.NoError(t, err)
		require.False(t, ok, "the role is on one offering only")
		var roleScope struct {
			ScopeType string
			ScopeID   int64
		}
		require.NoError(t, db.Raw(`SELECT scope_type, scope_id FROM user_roles WHERE uuid = ?`, models.MustParseUUID(offeringManagerRole)).Scan(&roleScope).Error)
		require.Equal(t, string(models.ScopeOffering), roleScope.ScopeType)
		require.Equal(t, managed.ID, roleScope.ScopeID)
		quotas, err := st.Quotas(ctx, models.Scope{Type: models.ScopeCustomer, ID: customerID})
		require.NoError(t, err)
		require.Contains(t, quotas, models.Quota{Name: models.QuotaUserCount, Usage: 6, Limit: -1})

		// An offering of the preset takes an order at once.
		staff, err := st.UserByUsername(ctx, "e2e-staff")
		require.NoError(t, err)
		var projectID int64
		require.NoError(t, db.Raw(`SELECT id FROM projects WHERE uuid = ?`, models.MustParseUUID("e2eb0000000000000000000000000001")).Scan(&projectID).Error)
		usage := byUUID[file.Offerings[0].UUID]
		plan := planByUUID[file.Plans[0].UUID]
		order, err := st.CreateOrder(ctx, store.NewOrder{Type: models.OrderCreate, ProjectID: projectID, OfferingID: usage.ID,
			PlanID: &plan.ID, Attributes: map[string]any{"name": "preset-order"}, Limits: map[string]int64{"cpu": 10, "ram": 10},
			CreatedBy: staff, Review: models.ReviewContext{OrderType: models.OrderCreate, OfferingType: usage.Type, Shared: true,
				Billable: true, OfferingCustomerID: usage.CustomerID, ProjectCustomer: customerID, CreatorIsStaff: true}})
		require.NoError(t, err)
		require.Equal(t, usage.ID, order.OfferingID)

		quotas, err = st.Quotas(ctx, models.Scope{Type: models.ScopeCustomer, ID: customerID})
		require.NoError(t, err)

		// Loading again creates nothing and changes no row.
		tables := append([]string{"users", "tokens", "customers", "projects", "user_roles", "quotas", "resources", "orders"}, marketplaceTables...)
		before := tableCounts(t, db, tables...)
		rep, err = preset.Load(ctx, st, data)
		require.NoError(t, err)
		for _, s := range rep.Sections {
			require.Zero(t, s.Created, s.Name)
		}
		require.Equal(t, 15, got["offerings"].Created)
		for _, s := range rep.Sections {
			if s.Name == "offerings" {
				require.Equal(t, 15, s.Existing)
			}
			if s.Name == "plan_components" {
				require.Equal(t, 20, s.Existing)
			}
		}
		require.Equal(t, before, tableCounts(t, db, tables...))
		again, err := st.OfferingByUUID(ctx, usage.UUID)
		require.NoError(t, err)
		require.Equal(t, usage.Modified.UTC(), again.Modified.UTC())
		quotas2, err := st.Quotas(ctx, models.Scope{Type: models.ScopeCustomer, ID: customerID})
		require.NoError(t, err)
		require.Equal(t, quotas, quotas2)
	})
}

func TestBrokenMarketplacePresetLoadsNothing(t *testing.T) {
	const nowhere = "e2ef00000000000000000000000000ff"
	cases := []struct {
		name string
		edit func(f map[string]any)
		want []string // parts of the error: the object and what is wrong
	}{
		{"category of an unknown group", func(f map[string]any) { item(f, "categories", 0)["group_uuid"] = nowhere },
			[]string{`category "SLURM Compute"`, "unknown category group " + nowhere}},
		{"service provider of an unknown customer", func(f map[string]any) { item(f, "service_providers", 0)["customer_uuid"] = nowhere },
			[]string{"service provider e2ee0000000000000000000000000001", "unknown customer " + nowhere}},
		{"offering in an unknown category", func(f map[string]any) { item(f, "offerings", 3)["category_uuid"] = nowhere },
			[]string{`offering "E2E SLURM LDAP"`, "unknown category " + nowhere}},
		{"offering of an unknown customer", func(f map[string]any) { item(f, "offerings", 0)["customer_uuid"] = nowhere },
			[]string{`offering "E2E SLURM Usage"`, "unknown customer " + nowhere}},
		{"offering in an unknown state", func(f map[string]any) { item(f, "offerings", 0)["state"] = 9 },
			[]string{`offering "E2E SLURM Usage"`, "unknown state 9"}},
		{"offering with options not an object", func(f map[string]any) { item(f, "offerings", 0)["plugin_options"] = []any{1} },
			[]string{`offering "E2E SLURM Usage"`, "plugin_options must be a JSON object"}},
		{"component of an unknown offering", func(f map[string]any) { item(f, "offering_components", 5)["offering_uuid"] = nowhere },
			[]string{"offering component \"cpu\" (e2e30000000000000000000000000001)", "unknown offering " + nowhere}},
		{"component with an unknown billing type", func(f map[string]any) { item(f, "offering_components", 0)["billing_type"] = "monthly" },
			[]string{"offering component \"cpu\"", `unknown billing_type "monthly"`}},
		{"component type twice in an offering", func(f map[string]any) { item(f, "offering_components", 1)["type"] = "cpu" },
			[]string{"e2e10000000000000000000000000002", "already has a component of this type"}},
		{"plan of an unknown offering", func(f map[string]any) { item(f, "plans", 14)["offering_uuid"] = nowhere },
			[]string{`plan "E2E Policy t-g15-c15"`, "unknown offering " + nowhere}},
		{"plan component of an unknown plan", func(f map[string]any) { item(f, "plan_components", 0)["plan_uuid"] = nowhere },
			[]string{`plan component "cpu" of plan ` + nowhere, "unknown plan " + nowhere}},
		{"plan component of an unknown component", func(f map[string]any) { item(f, "plan_components", 1)["component_uuid"] = nowhere },
			[]string{`plan component "ram" of plan e2e00000000000000000000000000011`, "unknown offering component " + nowhere}},
		{"plan component of another offering's component", func(f map[string]any) {
			item(f, "plan_components", 0)["component_uuid"] = "e2e20000000000000000000000000003"
		}, []string{"plan e2e00000000000000000000000000011", "belongs to another offering"}},
		{"plan component of a type the offering lacks", func(f map[string]any) {
			pc := item(f, "plan_components", 0)
			delete(pc, "component_uuid")
			pc["component_type"] = "gpu"
		}, []string{`plan component "gpu"`, `no component of type "gpu"`}},
		{"role on an unknown offering", func(f map[string]any) {
			f["user_roles"] = append(f["user_roles"].([]any), map[string]any{"uuid": offeringManagerRole, "user_uuid": managerUser,
				"role_name": models.RoleOfferingManager, "scope_type": "marketplace.offering", "scope_uuid": nowhere})
		}, []string{"user role " + offeringManagerRole, "unknown marketplace.offering " + nowhere}},
		{"customer role on an offering", func(f map[string]any) {
			f["user_roles"] = append(f["user_roles"].([]any), map[string]any{"uuid": offeringManagerRole, "user_uuid": managerUser,
				"role_name": models.RoleCustomerOwner, "scope_type": "marketplace.offering", "scope_uuid": managedOffering})
		}, []string{"user role " + offeringManagerRole, "does not apply to a offering"}},
	}
	tables := append([]string{"users", "customers", "projects", "user_roles"}, marketplaceTables...)
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		st := store.New(db)
		empty := tableCounts(t, db, tables...)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, err := preset.Load(ctx, st, editPreset(t, tc.edit))
				require.Error(t, err)
				for _, w := range tc.want {
					require.ErrorContains(t, err, w)
				}
				require.Equal(t, empty, tableCounts(t, db, tables...), "one transaction: nothing of the file stays")
			})
		}
		// The unbroken file still loads afterwards.
		_, err := preset.Load(ctx, st, presetFile(t))
		require.NoError(t, err)
		require.Equal(t, int64(15), tableCounts(t, db, "offerings")["offerings"])
	})
}
