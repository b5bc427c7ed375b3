package slurm

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/waldur-go/waldur/models"
)

// Account name defaults (Waldur's WALDUR_SLURM settings and the site
// agent's SLURM_ALLOCATION_NAME_MAX_LEN).
const (
	DefaultCustomerPrefix   = "waldur_customer_"
	DefaultProjectPrefix    = "waldur_project_"
	DefaultAllocationPrefix = "waldur_allocation_"
	// DefaultAllocationNameMaxLen bounds allocation account names.
	DefaultAllocationNameMaxLen = 34
	// allocationUUIDChars is how much of the resource UUID makes an
	// allocation account name unique (Waldur: uuid.hex[:5]).
	allocationUUIDChars = 5
	// maxAccountName is the longest account name this package creates or
	// accepts (prefixes and limits from options included).
	maxAccountName = 64
)

// Naming builds the account names of Waldur's hierarchy:
//
//	<customer prefix><customer uuid hex>     under root
//	<project prefix><project uuid hex>       under the customer account
//	<allocation prefix><uuid[:5]>_<name>     under the project account
//
// Names are lower case (Slurm lowercases them anyway) and the allocation
// name keeps only [a-z0-9_-] of the resource name, cut so that the whole
// name fits MaxLen. The UUID part comes first so that cutting never loses
// it. The zero value uses the defaults.
type Naming struct {
	CustomerPrefix, ProjectPrefix, AllocationPrefix string
	// MaxLen bounds allocation account names (DefaultAllocationNameMaxLen when zero).
	MaxLen int
}

func (n Naming) withDefaults() Naming {
	if n.CustomerPrefix == "" {
		n.CustomerPrefix = DefaultCustomerPrefix
	}
	if n.ProjectPrefix == "" {
		n.ProjectPrefix = DefaultProjectPrefix
	}
	if n.AllocationPrefix == "" {
		n.AllocationPrefix = DefaultAllocationPrefix
	}
	if n.MaxLen <= 0 {
		n.MaxLen = DefaultAllocationNameMaxLen
	}
	return n
}

// validate checks prefixes and the length bound.
func (n Naming) validate() error {
	n = n.withDefaults()
	for _, p := range []string{n.CustomerPrefix, n.ProjectPrefix, n.AllocationPrefix} {
		if !prefixRE.MatchString(p) {
			return fmt.Errorf("account prefix %q: only a-z, 0-9, _ and - are allowed, starting with a letter", p)
		}
		if len(p)+32 > maxAccountName {
			return fmt.Errorf("account prefix %q is too long", p)
		}
	}
	if least := len(n.AllocationPrefix) + allocationUUIDChars; n.MaxLen < least || n.MaxLen > maxAccountName {
		return fmt.Errorf("allocation name length must be between %d and %d", least, maxAccountName)
	}
	return nil
}

var (
	prefixRE   = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)
	invalidRE  = regexp.MustCompile(`[^a-z0-9_-]+`)
	accountRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	usernameRE = regexp.MustCompile(`^[a-z_][a-z0-9_.-]*\$?$`)
)

// Customer is the customer's account name.
func (n Naming) Customer(customer models.UUID) string {
	return n.withDefaults().CustomerPrefix + customer.String()
}

// Project is the project's account name.
func (n Naming) Project(project models.UUID) string {
	return n.withDefaults().ProjectPrefix + project.String()
}

// Allocation is the allocation (resource) account name.
func (n Naming) Allocation(resource models.UUID, name string) string {
	n = n.withDefaults()
	base := n.AllocationPrefix + resource.String()[:allocationUUIDChars]
	clean := invalidRE.ReplaceAllString(strings.ToLower(name), "")
	if clean == "" {
		return base
	}
	full := base + "_" + clean
	if len(full) > n.MaxLen {
		full = full[:n.MaxLen]
	}
	return strings.TrimRight(full, "_-")
}

// ValidAccount reports whether name is an account name this package
// accepts from callers (imports, SyncAssociations).
func ValidAccount(name string) bool {
	return len(name) <= maxAccountName && accountRE.MatchString(name)
}

// NormalizeUsername lowercases a Linux/Slurm user name and checks it.
func NormalizeUsername(u string) (string, error) {
	l := strings.ToLower(strings.TrimSpace(u))
	if len(l) == 0 || len(l) > 32 || !usernameRE.MatchString(l) {
		return "", models.Errorf(models.CodeInvalid, "%q is not a valid SLURM user name.", u)
	}
	return l, nil
}
