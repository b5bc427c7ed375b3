package openstack_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/providers/openstack"
	"github.com/waldur-go/waldur/providers/openstack/openstacktest"
	"github.com/waldur-go/waldur/workflows"
)

// TestAcceptanceChain: the acceptance of issue 16, end to end through the
// API on a real Temporal server and the emulator: a tenant; a network, a
// subnet and a router to the external network with the subnet connected;
// a security group with rules; an instance on that subnet and group; a
// floating IP attached to its port; the instance renamed, stopped,
// resized, started; a volume attached, extended while in use,
// snapshotted, the snapshot restored into a new volume; a backup of the
// instance and its restore; then everything deleted (the restored objects,
// billed as their sources, with the tenant's teardown, which ends their
// marketplace resources): the emulator is empty.
func TestAcceptanceChain(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Temporal")
	}
	cl := newCloud(t, []string{workflows.QueueCore, openstack.Queue}, openstacktest.Options{BuildDelay: 100 * time.Millisecond,
		VolumeDelay: 50 * time.Millisecond, DeleteDelay: 50 * time.Millisecond, ActionDelay: 50 * time.Millisecond})
	started := time.Now()
	step := func(what string) { t.Logf("%6.1fs %s", time.Since(started).Seconds(), what) }

	// The tenant.
	torder, tenant := cl.tenant("chain")
	tid := tenant["uuid"].(string)
	q := "?tenant_uuid=" + tid
	tPath := "/api/openstack-tenants/" + tid + "/"
	project := tenant["backend_id"].(string)
	inProject := func() bool {
		for _, p := range cl.emu.Projects() {
			if p.ID == project {
				return true
			}
		}
		return false
	}
	require.True(t, inProject(), "the Keystone project")
	step("tenant")

	// A network, a subnet, a router to the external network with the subnet connected.
	var net, sub map[string]any
	cl.do("POST", tPath+"create_network/", map[string]any{"name": "chain-net"}, 201, &net)
	net = cl.settle("openstack-networks", net["uuid"].(string))
	nPath := "/api/openstack-networks/" + net["uuid"].(string) + "/"
	netBackend := net["backend_id"].(string)
	cl.do("POST", nPath+"create_subnet/", map[string]any{"name": "chain-sub", "cidr": "10.50.0.0/24"}, 201, &sub)
	sub = cl.settle("openstack-subnets", sub["uuid"].(string))
	subBackend := sub["backend_id"].(string)
	cloudNet := false
	for _, n := range cl.emu.Networks() {
		if n.ID == netBackend {
			cloudNet = n.ProjectID == project
		}
	}
	require.True(t, cloudNet, "the network in the tenant's project")
	cloudSub := false
	for _, s := range cl.emu.State().Subnets {
		if s.ID == subBackend {
			cloudSub = s.NetworkID == netBackend && s.CIDR == "10.50.0.0/24"
		}
	}
	require.True(t, cloudSub, "the subnet in the network")

	var router map[string]any
	cl.do("POST", "/api/openstack-routers/", map[string]any{"tenant": tenant["url"], "name": "chain-edge"}, 201, &router)
	rid := router["uuid"].(string)
	rPath := "/api/openstack-routers/" + rid + "/"
	router = cl.settle("openstack-routers", rid)
	routerBackend := router["backend_id"].(string)
	cloudRouter := func() (openstacktest.Router, bool) {
		for _, r := range cl.emu.Routers() {
			if r.ID == routerBackend {
				return r, true
			}
		}
		return openstacktest.Router{}, false
	}
	br, ok := cloudRouter()
	require.True(t, ok)
	require.NotNil(t, br.Gateway)
	require.Equal(t, cl.emu.ExternalNetworkID(), br.Gateway.NetworkID)
	interfaces := func() map[string]bool {
		out := map[string]bool{}
		for _, p := range cl.emu.Ports() {
			if p.DeviceID == routerBackend && p.DeviceOwner == "network:router_interface" {
				for _, ip := range p.FixedIPs {
					out[ip.SubnetID] = true
				}
			}
		}
		return out
	}
	cl.do("POST", rPath+"add_router_interface/", map[string]any{"subnet": sub["url"]}, 202, nil)
	router = cl.settle("openstack-routers", rid)
	require.True(t, interfaces()[subBackend], "the subnet connected in the cloud")
	require.Len(t, router["ports"], 1)
	step("network, subnet, router")

	// A security group with rules.
	var sg map[string]any
	cl.do("POST", tPath+"create_security_group/", map[string]any{"name": "chain-app", "description": "app", "rules": []any{
		map[string]any{"protocol": "tcp", "from_port": 22, "to_port": 22, "cidr": "0.0.0.0/0"},
	}}, 201, &sg)
	sgid := sg["uuid"].(string)
	sgPath := "/api/openstack-security-groups/" + sgid + "/"
	sg = cl.settle("openstack-security-groups", sgid)
	cl.do("POST", sgPath+"set_rules/", []any{map[string]any{"protocol": "icmp", "cidr": "0.0.0.0/0"},
		map[string]any{"protocol": "tcp", "from_port": 80, "to_port": 80, "cidr": "0.0.0.0/0"}}, 202, nil)
	sg = cl.settle("openstack-security-groups", sgid)
	sgBackend := sg["backend_id"].(string)
	require.Len(t, sg["rules"], 2)
	cloudRules := func() (bool, []string) {
		st := cl.emu.State()
		var protocols []string
		for _, r := range st.SecurityGroupRules {
			if r.SecurityGroupID == sgBackend {
				protocols = append(protocols, r.Protocol)
			}
		}
		for _, g := range st.SecurityGroups {
			if g.ID == sgBackend {
				return true, protocols
			}
		}
		return false, nil
	}
	found, protocols := cloudRules()
	require.True(t, found)
	require.ElementsMatch(t, []string{"icmp", "tcp"}, protocols)
	step("security group")

	// The instance on that subnet and group.
	small := cl.first("/api/openstack-flavors/" + q + "&name_exact=m1.small")
	medium := cl.first("/api/openstack-flavors/" + q + "&name_exact=m1.medium")
	image := cl.first("/api/openstack-images/" + q + "&name_exact=cirros-0.6.2-x86_64-disk")
	vt := cl.first("/api/openstack-volume-types/" + q + "&name_exact=ssd")
	iorder := cl.order(cl.vmOffering, map[string]any{"name": "chain-vm", "tenant": tenant["url"], "flavor": small["url"], "image": image["url"],
		"system_volume_size": 10 * 1024, "data_volume_size": 5 * 1024, "data_volume_type": vt["url"],
		"ports": []any{map[string]any{"subnet": sub["url"]}}, "security_groups": []any{map[string]any{"url": sg["url"]}}}, nil)
	vmUUID := iorder["resource_uuid"].(string)
	vmPath := "/api/openstack-instances/" + vmUUID + "/"
	vm := cl.settle("openstack-instances", vmUUID)
	require.Equal(t, "ACTIVE", vm["runtime_state"])
	require.Equal(t, "m1.small", vm["flavor_name"])
	server := func() openstacktest.Server {
		s, ok := cl.emu.Server(vm["backend_id"].(string))
		require.True(t, ok, "the server in the cloud")
		return s
	}
	sv := server()
	require.Equal(t, project, sv.ProjectID)
	require.Len(t, sv.Ports, 1)
	var vmPort openstacktest.Port
	for _, p := range cl.emu.Ports() {
		if p.ID == sv.Ports[0] {
			vmPort = p
		}
	}
	require.Len(t, vmPort.FixedIPs, 1)
	require.Equal(t, subBackend, vmPort.FixedIPs[0].SubnetID, "a port on the subnet")
	require.Equal(t, []string{sgBackend}, vmPort.SecurityGroups, "with the group")
	step("instance")

	// A floating IP attached to the instance's port (recorded by the tenant's pull).
	cl.do("POST", tPath+"pull_floating_ips/", nil, 202, nil)
	var vmPorts []map[string]any
	poll(t, "the instance's port pulled", func() bool {
		cl.do("GET", vmPath+"ports/", nil, 200, &vmPorts)
		return len(vmPorts) == 1
	})
	require.Equal(t, vmPort.ID, vmPorts[0]["backend_id"])
	var fip map[string]any
	cl.do("POST", tPath+"create_floating_ip/", map[string]any{"description": "chain"}, 201, &fip)
	fid := fip["uuid"].(string)
	fPath := "/api/openstack-floating-ips/" + fid + "/"
	fip = cl.settle("openstack-floating-ips", fid)
	fipBackend := fip["backend_id"].(string)
	cloudFIP := func() (openstacktest.FloatingIP, bool) {
		for _, f := range cl.emu.FloatingIPs() {
			if f.ID == fipBackend {
				return f, true
			}
		}
		return openstacktest.FloatingIP{}, false
	}
	cl.do("POST", fPath+"attach_to_port/", map[string]any{"port": vmPorts[0]["url"]}, 202, nil)
	fip = cl.settle("openstack-floating-ips", fid)
	bf, ok := cloudFIP()
	require.True(t, ok)
	require.Equal(t, vmPort.ID, bf.PortID, "associated in the cloud")
	require.NotEmpty(t, fip["port"])
	step("floating IP")

	// The instance renamed, stopped, resized, started.
	cl.do("PATCH", vmPath, map[string]any{"name": "chain-vm-2"}, 200, nil)
	vm = cl.settle("openstack-instances", vmUUID)
	require.Equal(t, "chain-vm-2", vm["name"])
	require.Equal(t, "chain-vm-2", server().Name)
	cl.do("POST", vmPath+"stop/", nil, 202, nil)
	vm = cl.settle("openstack-instances", vmUUID)
	require.Equal(t, "SHUTOFF", vm["runtime_state"])
	require.Equal(t, "SHUTOFF", server().Status)
	cl.do("POST", vmPath+"change_flavor/", map[string]any{"flavor": medium["url"]}, 202, nil)
	vm = cl.settle("openstack-instances", vmUUID)
	require.Equal(t, "m1.medium", vm["flavor_name"])
	require.Equal(t, medium["backend_id"], server().FlavorID)
	cl.do("POST", vmPath+"start/", nil, 202, nil)
	vm = cl.settle("openstack-instances", vmUUID)
	require.Equal(t, "ACTIVE", vm["runtime_state"])
	require.Equal(t, "ACTIVE", server().Status)
	bf, _ = cloudFIP()
	require.Equal(t, vmPort.ID, bf.PortID, "the floating IP stays through the resize")
	step("rename, stop, resize, start")

	// A volume ordered, attached, extended in use, snapshotted; the snapshot restored.
	vorder := cl.order(cl.volumeOffering, map[string]any{"name": "chain-vol", "tenant": tenant["url"], "size": 2048}, nil)
	volUUID := vorder["resource_uuid"].(string)
	volPath := "/api/openstack-volumes/" + volUUID + "/"
	vol := cl.settle("openstack-volumes", volUUID)
	volBackend := vol["backend_id"].(string)
	cl.do("POST", volPath+"attach/", map[string]any{"instance": vm["url"]}, 202, nil)
	vol = cl.settle("openstack-volumes", volUUID)
	require.Equal(t, "in-use", vol["runtime_state"])
	require.Equal(t, vm["url"], vol["instance"])
	bv, ok := cl.emu.Volume(volBackend)
	require.True(t, ok)
	require.Equal(t, "in-use", bv.Status)
	require.Len(t, bv.Attachments, 1)
	cl.do("POST", volPath+"extend/", map[string]any{"disk_size": 4096}, 202, nil)
	vol = cl.settle("openstack-volumes", volUUID)
	require.EqualValues(t, 4096, vol["size"])
	require.Equal(t, "in-use", vol["runtime_state"])
	bv, _ = cl.emu.Volume(volBackend)
	require.Equal(t, 4, bv.Size, "GiB in the cloud")
	require.Equal(t, "in-use", bv.Status)

	var sn map[string]any
	cl.do("POST", volPath+"snapshot/", map[string]any{"name": "chain-snap"}, 201, &sn)
	snid := sn["uuid"].(string)
	snPath := "/api/openstack-snapshots/" + snid + "/"
	sn = cl.settle("openstack-snapshots", snid)
	snBackend := sn["backend_id"].(string)
	cloudSnap := func(id string) (openstacktest.Snapshot, bool) {
		for _, s := range cl.emu.Snapshots() {
			if s.ID == id {
				return s, true
			}
		}
		return openstacktest.Snapshot{}, false
	}
	cs, ok := cloudSnap(snBackend)
	require.True(t, ok)
	require.Equal(t, volBackend, cs.VolumeID)
	require.Equal(t, 4, cs.Size)
	var nv map[string]any
	cl.do("POST", snPath+"restore/", map[string]any{"name": "chain-from-snap"}, 201, &nv)
	require.EqualValues(t, 4096, nv["size"])
	nv = cl.settle("openstack-volumes", nv["uuid"].(string))
	require.Equal(t, "available", nv["runtime_state"])
	cl.settle("openstack-snapshots", snid)
	rv, ok := cl.emu.Volume(nv["backend_id"].(string))
	require.True(t, ok, "made in Cinder")
	require.Equal(t, snBackend, rv.SnapshotID)
	require.Equal(t, 4, rv.Size)
	require.NotNil(t, nv["marketplace_resource_uuid"], "the restored volume's marketplace resource")
	step("volume, snapshot, restore")

	// A backup of the instance and its restore (on the tenant's own subnet and group,
	// so that the restored instance, which only the tenant's teardown removes, holds
	// none of the objects deleted below).
	var vmVols []map[string]any
	cl.do("GET", "/api/openstack-volumes/?instance_uuid="+vmUUID, nil, 200, &vmVols)
	require.Len(t, vmVols, 3, "system, data and the attached volume")
	var b map[string]any
	cl.do("POST", vmPath+"backup/", map[string]any{"name": "chain-backup"}, 201, &b)
	bid := b["uuid"].(string)
	bPath := "/api/openstack-backups/" + bid + "/"
	cl.settle("openstack-backups", bid)
	var bsnaps []map[string]any
	cl.do("GET", "/api/openstack-snapshots/?backup_uuid="+bid, nil, 200, &bsnaps)
	require.Len(t, bsnaps, len(vmVols), "a snapshot of each of its volumes")
	for _, s := range bsnaps {
		require.Equal(t, "OK", s["state"])
		_, ok := cloudSnap(s["backend_id"].(string))
		require.True(t, ok, "in Cinder")
	}
	require.Len(t, cl.emu.Snapshots(), len(vmVols)+1)
	internal := cl.first("/api/openstack-subnets/" + q + "&name_exact=chain-sub-net")
	ssh := cl.first("/api/openstack-security-groups/" + q + "&name_exact=ssh")
	var in map[string]any
	cl.do("POST", bPath+"restore/", map[string]any{"flavor": small["url"], "name": "chain-restored",
		"ports": []any{map[string]any{"subnet": internal["url"]}}, "security_groups": []any{map[string]any{"url": ssh["url"]}}}, 200, &in)
	in = cl.settle("openstack-instances", in["uuid"].(string))
	require.Equal(t, "ACTIVE", in["runtime_state"])
	require.Equal(t, "m1.small", in["flavor_name"])
	rsv, ok := cl.emu.Server(in["backend_id"].(string))
	require.True(t, ok)
	require.Len(t, rsv.Volumes, len(vmVols), "a volume from each snapshot of the backup")
	require.Len(t, cl.emu.Servers(), 2)
	require.NotNil(t, in["marketplace_resource_uuid"], "the restored instance's marketplace resource")
	step("backup, restore")

	// Everything deleted.
	cl.do("DELETE", fPath, nil, 202, nil)
	cl.gone("/api/openstack-floating-ips/"+q, fid)
	_, ok = cloudFIP()
	require.False(t, ok, "the floating IP gone from the cloud")

	cl.do("DELETE", bPath, nil, 202, nil)
	cl.gone("/api/openstack-backups/"+q, bid)
	for _, s := range bsnaps {
		_, ok := cloudSnap(s["backend_id"].(string))
		require.False(t, ok, "the backup's snapshots gone from Cinder")
	}
	cl.do("DELETE", snPath, nil, 202, nil)
	cl.gone("/api/openstack-snapshots/"+q, snid)
	require.Empty(t, cl.emu.Snapshots())

	cl.terminate(vorder["marketplace_resource_uuid"].(string))
	_, ok = cl.emu.Volume(volBackend)
	require.False(t, ok, "the volume gone from Cinder")
	cl.terminate(iorder["marketplace_resource_uuid"].(string))
	_, ok = cl.emu.Server(vm["backend_id"].(string))
	require.False(t, ok, "the server gone")
	for _, p := range cl.emu.Ports() {
		require.NotEqual(t, vmPort.ID, p.ID, "the instance's port gone")
	}
	step("floating IP, backup, snapshot, volume, instance")

	cl.do("POST", rPath+"remove_router_interface/", map[string]any{"subnet": sub["url"]}, 202, nil)
	cl.settle("openstack-routers", rid)
	require.Empty(t, interfaces())
	cl.do("DELETE", rPath, nil, 202, nil)
	cl.gone("/api/openstack-routers/"+q, rid)
	_, ok = cloudRouter()
	require.False(t, ok, "the router gone from the cloud")

	cl.do("DELETE", sgPath, nil, 202, nil)
	cl.gone("/api/openstack-security-groups/"+q, sgid)
	found, _ = cloudRules()
	require.False(t, found, "the group gone from the cloud")

	cl.do("DELETE", nPath, nil, 202, nil)
	cl.gone("/api/openstack-networks/"+q, net["uuid"].(string))
	for _, n := range cl.emu.Networks() {
		require.NotEqual(t, netBackend, n.ID, "the network gone from the cloud")
	}
	for _, s := range cl.emu.State().Subnets {
		require.NotEqual(t, subBackend, s.ID, "the subnet gone from the cloud")
	}
	step("router, security group, network")

	// Left: the restored instance and volumes, and the tenant's own objects.
	require.Len(t, cl.emu.Servers(), 1)
	require.Equal(t, rsv.ID, cl.emu.Servers()[0].ID)
	cl.terminate(torder["marketplace_resource_uuid"].(string))
	require.False(t, inProject(), "the Keystone project gone")
	require.Zero(t, cl.emu.Counts().Total(), "the emulator is empty: %+v", cl.emu.Counts())
	var left []map[string]any
	for _, c := range []string{"openstack-tenants", "openstack-instances", "openstack-volumes", "openstack-snapshots", "openstack-backups",
		"openstack-networks", "openstack-subnets", "openstack-routers", "openstack-floating-ips", "openstack-security-groups", "openstack-ports"} {
		cl.do("GET", "/api/"+c+"/", nil, 200, &left)
		require.Empty(t, left, c)
	}
	var mres map[string]any
	cl.do("GET", "/api/marketplace-resources/"+torder["marketplace_resource_uuid"].(string)+"/", nil, 200, &mres)
	require.Equal(t, "Terminated", mres["state"])
	step("tenant")
}
