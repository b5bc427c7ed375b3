package openstack

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/waldur-go/waldur/providers/openstack/openstacktest"
)

// emulatorCommand is `waldur openstack-emulator`: it runs the in-memory
// OpenStack cloud (openstacktest: Keystone, Nova, Cinder, Neutron, Glance)
// that the OpenStack offerings can be tried against.
func emulatorCommand() *cobra.Command {
	var addr string
	var o openstacktest.Options
	c := &cobra.Command{
		Use:   "openstack-emulator [--addr HOST:PORT]",
		Short: "Serve an in-memory OpenStack cloud (Keystone v3, Nova, Cinder v3, Neutron, Glance v2) for trying the OpenStack offerings",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return openstacktest.ListenAndServe(cmd.Context(), addr, o, func(s *openstacktest.HTTPServer) {
				user, password, project, domain := s.AdminCredentials()
				fmt.Printf("OpenStack emulator on %s (Ctrl-C stops it; state is in memory)\n", s.URL)
				fmt.Printf("  OS_AUTH_URL=%s OS_USERNAME=%s OS_PASSWORD=%s OS_PROJECT_NAME=%s OS_USER_DOMAIN_NAME=%s OS_PROJECT_DOMAIN_NAME=%s\n",
					s.IdentityURL(), user, password, project, domain, domain)
				fmt.Printf("  external network %q: %s; state: %s/_emulator/state; faults: POST %s/_emulator/faults\n",
					"public", s.ExternalNetworkID(), s.URL, s.URL)
			})
		},
	}
	f := c.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:5000", "listen address")
	f.StringVar(&o.PublicURL, "public-url", "", "base URL in the service catalog (default: the URL clients use to reach the emulator)")
	f.StringVar(&o.AdminUser, "admin-user", "admin", "admin user name")
	f.StringVar(&o.AdminPassword, "admin-password", "admin", "admin password")
	f.StringVar(&o.AdminProject, "admin-project", "admin", "admin project name")
	f.StringVar(&o.Region, "region", "RegionOne", "region of the catalog endpoints")
	f.DurationVar(&o.BuildDelay, "build-delay", 0, "time a server stays in BUILD (default 2s)")
	f.DurationVar(&o.VolumeDelay, "volume-delay", 0, "time a volume is creating, attaching, detaching or extending (default 1s)")
	f.DurationVar(&o.ActionDelay, "action-delay", 0, "time a server start, stop, reboot or resize takes (default 1s)")
	f.DurationVar(&o.DeleteDelay, "delete-delay", 0, "time a deleted server or volume stays visible (default 500ms)")
	f.Uint64Var(&o.Seed, "seed", 1, "seed of fault decisions")
	return c
}
