package models

import (
	"context"
	"time"

	"github.com/shopspring/decimal"
)

// ScopeType names the kind of object a role, quota, event feed or
// invitation is attached to (Waldur's content types; RoleType in the API).
type ScopeType string

const (
	ScopeCustomer ScopeType = "customer"
	ScopeProject  ScopeType = "project"
	ScopeOffering ScopeType = "offering"
	// ScopeUser feeds events that concern a user (not a role scope).
	ScopeUser ScopeType = "user"
)

// Scope identifies one object by type and internal id.
type Scope struct {
	Type ScopeType
	ID   int64
}

// Customer is an organization (Waldur's structure.Customer).
type Customer struct {
	ID                  int64
	UUID                UUID
	Name                string
	Slug                string
	NativeName          string
	Abbreviation        string
	Description         string
	ContactDetails      string
	AgreementNumber     string
	SponsorNumber       *int
	Email               string
	PhoneNumber         string
	AccessSubnets       string
	RegistrationCode    string
	Homepage            string
	Domain              string
	Address             string
	Postal              string
	BankName            string
	BankAccount         string
	VATCode             string `gorm:"column:vat_code"`
	Country             string
	BackendID           string
	Latitude            *float64
	Longitude           *float64
	DefaultTaxPercent   decimal.Decimal
	AccountingStartDate time.Time
	Blocked             bool
	Archived            bool
	Created             time.Time
	Modified            time.Time
}

// Scope returns the customer as a scope.
func (c *Customer) Scope() Scope { return Scope{ScopeCustomer, c.ID} }

// CheckNotBlocked refuses changes to a blocked or archived customer, with Waldur's message.
func (c *Customer) CheckNotBlocked() error {
	if c.Blocked || c.Archived {
		return Errorf(CodeInvalid, "Blocked/Archived organization is not available.")
	}
	return nil
}

// ProjectType is a category of project (Waldur's structure.ProjectType).
type ProjectType struct {
	ID          int64
	UUID        UUID
	Name        string
	Description string
}

// Project belongs to one customer and holds resources (Waldur's structure.Project).
type Project struct {
	ID                   int64
	UUID                 UUID
	CustomerID           int64
	TypeID               *int64
	Name                 string
	Slug                 string
	Description          string
	BackendID            string
	StartDate            *time.Time
	EndDate              *time.Time
	EndDateRequestedByID *int64
	OECDFOS2007Code      string `gorm:"column:oecd_fos_2007_code"`
	IsIndustry           bool
	IsRemoved            bool
	Created              time.Time
	Modified             time.Time
}

// Scope returns the project as a scope.
func (p *Project) Scope() Scope { return Scope{ScopeProject, p.ID} }

// Quota names (Waldur's).
const (
	QuotaProjectCount  = "nc_project_count"
	QuotaUserCount     = "nc_user_count"
	QuotaResourceCount = "nc_resource_count"
)

// Quota is one limit and its usage on a scope; Limit -1 means unlimited.
type Quota struct {
	Name  string `json:"name"`
	Usage int64  `json:"usage"`
	Limit int64  `json:"limit"`
}

// QuotaNames lists the quotas every scope type carries.
var QuotaNames = map[ScopeType][]string{
	ScopeCustomer: {QuotaProjectCount, QuotaUserCount, QuotaResourceCount},
	ScopeProject:  {QuotaResourceCount},
}

// QuotaStore changes quota usage atomically.
type QuotaStore interface {
	// AddQuotaUsage adds delta to the named quota of each scope inside tx
	// (nil: its own transaction), refusing the whole change when a positive
	// delta would pass a limit. Codes: quota_exceeded (Waldur's message
	// "One or more quotas were exceeded: …").
	AddQuotaUsage(ctx context.Context, deltas []QuotaDelta) error
	// SetQuotaLimit sets a limit (-1: unlimited). Codes: not_found.
	SetQuotaLimit(ctx context.Context, scope Scope, name string, limit int64) error
	// Quotas returns the quotas of a scope, ordered by name.
	Quotas(ctx context.Context, scope Scope) ([]Quota, error)
}

// QuotaDelta is one change of one quota.
type QuotaDelta struct {
	Scope Scope
	Name  string
	Delta int64
}
