package openstack

import (
	"context"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/waldur-go/waldur/activities"
)

// The cloud side of a tenant's migration (workflow_migrations.go): the
// source's networks and subnets made in the destination tenant's project.

// MigrationBackend holds the migrations' cloud activity (openstack queue).
type MigrationBackend struct {
	Provider *Provider
}

// CopyOpenStackNetworksInput is the input of CopyOpenStackNetworks.
type CopyOpenStackNetworksInput struct {
	SecretOptions map[string]any
	ProjectID     string // the destination tenant's
	Networks      []MigrationNetwork
}

// CopyOpenStackNetworks makes the networks and their subnets in the
// destination project; what an earlier attempt made (a network of the same
// name, a subnet of the same CIDR in it) is kept, so a retry does not make
// them twice.
func (a *MigrationBackend) CopyOpenStackNetworks(ctx context.Context, in CopyOpenStackNetworksInput) error {
	conn, err := ConnectionFrom(in.SecretOptions)
	if err != nil {
		return activities.Classify(err)
	}
	p := a.Provider
	s, err := p.session(ctx, conn, in.ProjectID)
	if err != nil {
		return classify(err)
	}
	for _, n := range in.Networks {
		net, err := p.ensureNamedNetwork(ctx, s, "copying network "+n.Name, in.ProjectID, n.Name, n.Description)
		if err != nil {
			return classify(err)
		}
		for _, sb := range n.Subnets {
			opts := subnets.CreateOpts{NetworkID: net.ID, Name: sb.Name, Description: sb.Description, CIDR: sb.CIDR,
				IPVersion: gophercloud.IPVersion(max(sb.IPVersion, 4)), EnableDHCP: &sb.EnableDHCP, DNSNameservers: sb.DNSNameservers}
			if sb.GatewayIP != "" {
				opts.GatewayIP = &sb.GatewayIP
			}
			if _, err := p.ensureSubnet(ctx, s, "copying subnet "+sb.CIDR, subnets.ListOpts{NetworkID: net.ID, CIDR: sb.CIDR}, opts); err != nil {
				return classify(err)
			}
		}
	}
	return nil
}
