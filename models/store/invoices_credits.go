package store

import (
	"context"
	"database/sql/driver"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/billing"
)

// Date is a DATE column: written as "YYYY-MM-DD" (no time zone conversion
// on either database), read from a time or its text.
type Date struct{ time.Time }

// Value implements driver.Valuer.
func (d Date) Value() (driver.Value, error) { return d.UTC().Format("2006-01-02"), nil }

// Scan implements sql.Scanner.
func (d *Date) Scan(src any) error {
	switch v := src.(type) {
	case time.Time:
		d.Time = time.Date(v.Year(), v.Month(), v.Day(), 0, 0, 0, 0, time.UTC)
		return nil
	case string:
		return d.parse(v)
	case []byte:
		return d.parse(string(v))
	}
	return fmt.Errorf("Date: cannot scan %T", src)
}

func (d *Date) parse(s string) error {
	if len(s) < 10 {
		return fmt.Errorf("Date: %q", s)
	}
	t, err := time.Parse("2006-01-02", s[:10])
	d.Time = t
	return err
}

// CustomerCredit is a customer's credit (one per customer).
type CustomerCredit struct {
	ID                        int64 `gorm:"primaryKey"`
	UUID                      models.UUID
	CustomerID                int64
	Value                     decimal.Decimal
	EndDate                   *Date
	ExpectedConsumption       decimal.Decimal
	MinimalConsumptionLogic   billing.MinimalConsumptionLogic
	GraceCoefficient          decimal.Decimal
	ApplyAsMinimalConsumption bool
	Created                   time.Time
	Modified                  time.Time
}

// TableName is the GORM table.
func (CustomerCredit) TableName() string { return "customer_credits" }

// Domain is the credit as billing computes with it.
func (c *CustomerCredit) Domain(offerings []int64) billing.Credit {
	out := billing.Credit{Value: c.Value, Offerings: offerings, ExpectedConsumption: c.ExpectedConsumption,
		Logic: c.MinimalConsumptionLogic, GraceCoefficient: c.GraceCoefficient, ApplyAsMinimal: c.ApplyAsMinimalConsumption}
	if c.EndDate != nil {
		t := c.EndDate.Time
		out.EndDate = &t
	}
	return out
}

// ProjectCredit is a project's share of its customer's credit.
type ProjectCredit struct {
	ID                                          int64 `gorm:"primaryKey"`
	UUID                                        models.UUID
	ProjectID                                   int64
	Value                                       decimal.Decimal
	EndDate                                     *Date
	ExpectedConsumption                         decimal.Decimal
	MinimalConsumptionLogic                     billing.MinimalConsumptionLogic
	GraceCoefficient                            decimal.Decimal
	ApplyAsMinimalConsumption                   bool
	MarkUnusedCreditAsSpentOnProjectTermination bool
	Created                                     time.Time
	Modified                                    time.Time
}

// TableName is the GORM table.
func (ProjectCredit) TableName() string { return "project_credits" }

// CustomerCreditView is a customer credit with its customer.
type CustomerCreditView struct {
	CustomerCredit
	CustomerUUID models.UUID
	CustomerName string
	CustomerSlug string
}

// customerCreditViews is the query over customer credits joined with their
// customer (c).
func (s *Store) customerCreditViews(ctx context.Context) *gorm.DB {
	return s.DB.WithContext(ctx).Table("customer_credits").Select(`customer_credits.*, c.uuid AS customer_uuid, c.name AS customer_name,
		c.slug AS customer_slug`).Joins("JOIN customers c ON c.id = customer_credits.customer_id")
}

// CustomerCreditByUUID loads one credit view. Codes: not_found.
func (s *Store) CustomerCreditByUUID(ctx context.Context, id models.UUID) (*CustomerCreditView, error) {
	var v CustomerCreditView
	if err := s.customerCreditViews(ctx).Where("customer_credits.uuid = ?", id).Take(&v).Error; err != nil {
		return nil, translate(err, "Customer credit")
	}
	return &v, nil
}

// CreditOffering is an offering a customer credit is limited to.
type CreditOffering struct {
	CreditID int64
	ID       int64
	UUID     models.UUID
	Name     string
	Type     string
}

// CreditOfferings lists the offerings of the given credits.
func (s *Store) CreditOfferings(ctx context.Context, creditIDs []int64) (map[int64][]CreditOffering, error) {
	out := map[int64][]CreditOffering{}
	if len(creditIDs) == 0 {
		return out, nil
	}
	var rows []CreditOffering
	err := s.DB.WithContext(ctx).Table("customer_credit_offerings cco").Select("cco.credit_id, f.id, f.uuid, f.name, f.type").
		Joins("JOIN offerings f ON f.id = cco.offering_id").Where("cco.credit_id IN ?", creditIDs).Order("f.id").Scan(&rows).Error
	for _, r := range rows {
		out[r.CreditID] = append(out[r.CreditID], r)
	}
	return out, translate(err, "Customer credit")
}

// CreditSums are what the credit endpoints show beside a credit.
type CreditSums struct {
	// AllocatedToProjects is Σ of the customer's project credits.
	AllocatedToProjects map[int64]decimal.Decimal // by customer id
	// ConsumedLastMonth is what the credit compensated in last month's invoice.
	ConsumedLastMonth map[int64]decimal.Decimal // by credit id
}

// CreditSumsFor computes CreditSums for credits of customers, last month
// being the month before now.
func (s *Store) CreditSumsFor(ctx context.Context, customerIDs, creditIDs []int64, now time.Time) (CreditSums, error) {
	out := CreditSums{AllocatedToProjects: map[int64]decimal.Decimal{}, ConsumedLastMonth: map[int64]decimal.Decimal{}}
	db := s.DB.WithContext(ctx)
	if len(customerIDs) > 0 {
		var rows []struct {
			CustomerID int64
			Total      decimal.Decimal
		}
		if err := db.Table("project_credits pc").Select("p.customer_id, SUM(pc.value) AS total").Joins("JOIN projects p ON p.id = pc.project_id").
			Where("p.customer_id IN ?", customerIDs).Group("p.customer_id").Scan(&rows).Error; err != nil {
			return out, models.Internal(err)
		}
		for _, r := range rows {
			out.AllocatedToProjects[r.CustomerID] = r.Total
		}
	}
	if len(creditIDs) > 0 {
		last := billing.MonthOf(now).Prev()
		var rows []struct {
			CreditID int64
			Total    decimal.Decimal
		}
		if err := db.Table("invoice_items ii").Select("ii.credit_id, -SUM(ii.price) AS total").Joins("JOIN invoices inv ON inv.id = ii.invoice_id").
			Where("ii.credit_id IN ? AND inv.year = ? AND inv.month = ?", creditIDs, last.Year, int(last.Month)).Group("ii.credit_id").
			Scan(&rows).Error; err != nil {
			return out, models.Internal(err)
		}
		for _, r := range rows {
			out.ConsumedLastMonth[r.CreditID] = r.Total
		}
	}
	return out, nil
}

// CreditConsumption is what a credit compensated in one month.
type CreditConsumption struct {
	Year, Month int
	Price       decimal.Decimal // positive
}

// CreditConsumptions lists what the credit compensated per month, newest first.
func (s *Store) CreditConsumptions(ctx context.Context, creditID int64) ([]CreditConsumption, error) {
	var rows []CreditConsumption
	err := s.DB.WithContext(ctx).Table("invoice_items ii").Select("inv.year, inv.month, -SUM(ii.price) AS price").
		Joins("JOIN invoices inv ON inv.id = ii.invoice_id").Where("ii.credit_id = ?", creditID).
		Group("inv.year, inv.month").Order("inv.year DESC, inv.month DESC").Scan(&rows).Error
	return rows, translate(err, "Customer credit")
}

// SaveCustomerCredit creates (ID 0) or updates a customer credit, and when
// offerings is not nil replaces the offerings it is limited to; it emits
// create_of_credit_by_staff or update_of_credit_by_staff. Lowering the
// credit below what its projects hold is refused. Codes: invalid,
// conflict (the customer has a credit already).
func (s *Store) SaveCustomerCredit(ctx context.Context, c *CustomerCredit, offerings []int64) error {
	return s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		now := tx.Now()
		c.Modified = now
		if c.MinimalConsumptionLogic == "" {
			c.MinimalConsumptionLogic = billing.LogicFixed
		}
		var allocated struct{ Total decimal.Decimal }
		if err := db.Table("project_credits pc").Select("COALESCE(SUM(pc.value), 0) AS total").Joins("JOIN projects p ON p.id = pc.project_id").
			Where("p.customer_id = ?", c.CustomerID).Scan(&allocated).Error; err != nil {
			return models.Internal(err)
		}
		if c.Value.LessThan(allocated.Total) {
			return models.FieldError("value", fmt.Sprintf("Projects of the organization hold %s of it already.", allocated.Total.StringFixed(2)))
		}
		evType, verb := "update_of_credit_by_staff", "updated"
		if c.ID == 0 {
			c.UUID, c.Created = models.NewUUID(), now
			var n int64
			if err := db.Model(&CustomerCredit{}).Where("customer_id = ?", c.CustomerID).Count(&n).Error; err != nil {
				return models.Internal(err)
			}
			if n > 0 {
				return models.FieldError("customer", "Credit for this organization already exists.")
			}
			if err := db.Create(c).Error; err != nil {
				return translate(err, "Customer credit")
			}
			evType, verb = "create_of_credit_by_staff", "created"
		} else if err := db.Select("*").Omit("id", "uuid", "created").Save(c).Error; err != nil {
			return translate(err, "Customer credit")
		}
		if offerings != nil {
			if err := db.Exec("DELETE FROM customer_credit_offerings WHERE credit_id = ?", c.ID).Error; err != nil {
				return models.Internal(err)
			}
			for _, id := range offerings {
				if err := db.Table("customer_credit_offerings").Create(map[string]any{"credit_id": c.ID, "offering_id": id}).Error; err != nil {
					return translate(err, "Customer credit offering")
				}
			}
		}
		return tx.EmitEvent(ctx, &models.Event{EventType: evType,
			Message: fmt.Sprintf("Credit of the organization has been %s: %s.", verb, c.Value.StringFixed(2)),
			Context: map[string]any{"customer_credit_uuid": c.UUID.String(), "value": c.Value.StringFixed(2)},
			Scopes:  []models.Scope{{Type: models.ScopeCustomer, ID: c.CustomerID}}})
	})
}

// DeleteCustomerCredit removes a customer credit. Codes: not_found.
func (s *Store) DeleteCustomerCredit(ctx context.Context, id int64) error {
	res := s.DB.WithContext(ctx).Where("id = ?", id).Delete(&CustomerCredit{})
	if res.Error != nil {
		return translate(res.Error, "Customer credit")
	}
	if res.RowsAffected == 0 {
		return models.Errorf(models.CodeNotFound, "Customer credit not found.")
	}
	return nil
}

// ProjectCreditView is a project credit with its project and customer.
type ProjectCreditView struct {
	ProjectCredit
	ProjectUUID    models.UUID
	ProjectName    string
	ProjectSlug    string
	CustomerID     int64
	CustomerUUID   models.UUID
	CustomerName   string
	CustomerSlug   string
	CustomerCredit *decimal.Decimal
}

// projectCreditViews is the query over project credits joined with their
// project (p), customer (c) and the customer's credit (cc).
func (s *Store) projectCreditViews(ctx context.Context) *gorm.DB {
	return s.DB.WithContext(ctx).Table("project_credits").Select(`project_credits.*, p.uuid AS project_uuid, p.name AS project_name,
		p.slug AS project_slug, c.id AS customer_id, c.uuid AS customer_uuid, c.name AS customer_name, c.slug AS customer_slug,
		cc.value AS customer_credit`).Joins("JOIN projects p ON p.id = project_credits.project_id").
		Joins("JOIN customers c ON c.id = p.customer_id").Joins("LEFT JOIN customer_credits cc ON cc.customer_id = c.id")
}

// ProjectCreditByUUID loads one project credit view. Codes: not_found.
func (s *Store) ProjectCreditByUUID(ctx context.Context, id models.UUID) (*ProjectCreditView, error) {
	var v ProjectCreditView
	if err := s.projectCreditViews(ctx).Where("project_credits.uuid = ?", id).Take(&v).Error; err != nil {
		return nil, translate(err, "Project credit")
	}
	return &v, nil
}

// SaveProjectCredit creates (ID 0) or updates a project credit: the
// customer must have a credit and Σ of its project credits must stay
// within it. Codes: invalid.
func (s *Store) SaveProjectCredit(ctx context.Context, c *ProjectCredit) error {
	return s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		var p struct{ CustomerID int64 }
		if err := db.Table("projects").Select("customer_id").Where("id = ?", c.ProjectID).Take(&p).Error; err != nil {
			return translate(err, "Project")
		}
		var cc CustomerCredit
		if err := forUpdate(db).Where("customer_id = ?", p.CustomerID).Take(&cc).Error; err != nil {
			return models.FieldError("project", "The project's organization has no credit.")
		}
		var others struct{ Total decimal.Decimal }
		if err := db.Table("project_credits pc").Select("COALESCE(SUM(pc.value), 0) AS total").Joins("JOIN projects p ON p.id = pc.project_id").
			Where("p.customer_id = ? AND pc.id <> ?", p.CustomerID, c.ID).Scan(&others).Error; err != nil {
			return models.Internal(err)
		}
		if others.Total.Add(c.Value).GreaterThan(cc.Value) {
			return models.FieldError("value", fmt.Sprintf("Project credits of the organization would exceed its credit (%s).", cc.Value.StringFixed(2)))
		}
		now := tx.Now()
		c.Modified = now
		if c.MinimalConsumptionLogic == "" {
			c.MinimalConsumptionLogic = billing.LogicFixed
		}
		evType, verb := "update_of_credit_by_staff", "updated"
		if c.ID == 0 {
			c.UUID, c.Created = models.NewUUID(), now
			var n int64
			if err := db.Model(&ProjectCredit{}).Where("project_id = ?", c.ProjectID).Count(&n).Error; err != nil {
				return models.Internal(err)
			}
			if n > 0 {
				return models.FieldError("project", "Credit for this project already exists.")
			}
			if err := db.Create(c).Error; err != nil {
				return translate(err, "Project credit")
			}
			evType, verb = "create_of_credit_by_staff", "created"
		} else if err := db.Select("*").Omit("id", "uuid", "created").Save(c).Error; err != nil {
			return translate(err, "Project credit")
		}
		return tx.EmitEvent(ctx, &models.Event{EventType: evType,
			Message: fmt.Sprintf("Credit of the project has been %s: %s.", verb, c.Value.StringFixed(2)),
			Context: map[string]any{"project_credit_uuid": c.UUID.String(), "value": c.Value.StringFixed(2)},
			Scopes:  []models.Scope{{Type: models.ScopeProject, ID: c.ProjectID}, {Type: models.ScopeCustomer, ID: p.CustomerID}}})
	})
}

// DeleteProjectCredit removes a project credit. Codes: not_found.
func (s *Store) DeleteProjectCredit(ctx context.Context, id int64) error {
	res := s.DB.WithContext(ctx).Where("id = ?", id).Delete(&ProjectCredit{})
	if res.Error != nil {
		return translate(res.Error, "Project credit")
	}
	if res.RowsAffected == 0 {
		return models.Errorf(models.CodeNotFound, "Project credit not found.")
	}
	return nil
}

// OfferingIDsByUUID resolves offering UUIDs. Codes: invalid (naming the
// first unknown one on field).
func (s *Store) OfferingIDsByUUID(ctx context.Context, field string, ids []models.UUID) ([]int64, error) {
	out := []int64{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		ID   int64
		UUID models.UUID
	}
	if err := s.DB.WithContext(ctx).Table("offerings").Select("id, uuid").Where("uuid IN ?", ids).Scan(&rows).Error; err != nil {
		return nil, models.Internal(err)
	}
	byUUID := map[models.UUID]int64{}
	for _, r := range rows {
		byUUID[r.UUID] = r.ID
	}
	for _, u := range ids {
		id, ok := byUUID[u]
		if !ok {
			return nil, models.FieldError(field, "Invalid hyperlink - Object does not exist.")
		}
		out = append(out, id)
	}
	return out, nil
}
