package slurm

import (
	"context"
	"strings"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/providers"
)

var _ providers.Importer = (*Provider)(nil)

// Importable implements providers.Importer: the cluster's leaf accounts
// other than this naming's customer and project accounts (ImportAccounts).
func (p *Provider) Importable(ctx context.Context, r providers.Request) ([]providers.ImportableResource, error) {
	cl, err := p.Cluster(r.PluginOptions, r.SecretOptions)
	if err != nil {
		return nil, err
	}
	accs, err := cl.ImportAccounts(ctx)
	if err != nil {
		return nil, classify(err)
	}
	out := make([]providers.ImportableResource, 0, len(accs))
	for _, a := range accs {
		out = append(out, providers.ImportableResource{BackendID: a.Name, Name: a.Name, Type: OfferingType,
			Description: importDescription(a)})
	}
	return out, nil
}

// DescribeImport implements providers.Importer: the account's limits (as
// component amounts), parent and users. The account is the resource's
// backend id from then on; it stays under its parent.
func (p *Provider) DescribeImport(ctx context.Context, r providers.Request) (providers.ImportedResource, error) {
	cl, err := p.Cluster(r.PluginOptions, r.SecretOptions)
	if err != nil {
		return providers.ImportedResource{}, err
	}
	name := strings.ToLower(strings.TrimSpace(r.BackendID))
	if !ValidAccount(name) {
		return providers.ImportedResource{}, providers.Permanent(models.FieldError("backend_id", "Not a valid SLURM account name."))
	}
	acc, found, err := cl.GetAccount(ctx, name)
	if err != nil {
		return providers.ImportedResource{}, classify(err)
	}
	if !found {
		return providers.ImportedResource{}, providers.Permanent(models.Errorf(models.CodeNotFound, "SLURM account %s does not exist.", name))
	}
	users := acc.Users
	if users == nil {
		users = []string{}
	}
	return providers.ImportedResource{
		BackendID: acc.Name, Name: acc.Name, Description: importDescription(acc),
		Limits: acc.Limits.Components(),
		Metadata: map[string]any{"account": acc.Name, "parent_account": acc.Parent, "grp_tres_mins": acc.Limits.String(),
			"limits": acc.Limits.Components(), "users": users, "imported": true},
	}, nil
}

func importDescription(a Account) string {
	parts := []string{}
	if a.Description != "" && a.Description != a.Name {
		parts = append(parts, a.Description)
	}
	if a.Organization != "" && a.Organization != a.Name {
		parts = append(parts, "organization "+a.Organization)
	}
	if a.Parent != "" {
		parts = append(parts, "parent "+a.Parent)
	}
	return strings.Join(parts, "; ")
}

var _ providers.LimitTaker = (*Provider)(nil)

// AvailableLimits implements providers.LimitTaker: orders give the cpu,
// gpu and ram limits (the account's GrpTRESMins) of usage-based components.
func (*Provider) AvailableLimits(string) []string { return append([]string(nil), Components...) }
