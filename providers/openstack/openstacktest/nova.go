package openstacktest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"golang.org/x/crypto/ssh"
)

// route registers a handler of one service under its base path.
type route func(method, path string, h handler)

func (e *Emulator) computeRoutes() {
	r := func(method, path string, h handler) {
		e.handle(method+" /compute/v2.1"+path, svcCompute, project, func(c *call) *apiError {
			mv, err := c.microversion("compute", "X-OpenStack-Nova-API-Version", 2, 1, novaMaxMinor)
			if err != nil {
				return err
			}
			c.mv = mv
			return h(c)
		})
	}
	r("GET", "/flavors", func(c *call) *apiError { return c.listFlavors(false) })
	r("GET", "/flavors/detail", func(c *call) *apiError { return c.listFlavors(true) })
	r("GET", "/flavors/{id}", (*call).getFlavor)
	r("GET", "/flavors/{id}/os-extra_specs", (*call).getFlavorExtraSpecs)

	r("GET", "/servers", func(c *call) *apiError { return c.listServers(false) })
	r("GET", "/servers/detail", func(c *call) *apiError { return c.listServers(true) })
	r("POST", "/servers", (*call).createServer)
	r("GET", "/servers/{id}", (*call).getServer)
	r("PUT", "/servers/{id}", (*call).updateServer)
	r("DELETE", "/servers/{id}", (*call).deleteServer)
	r("POST", "/servers/{id}/action", (*call).serverAction)
	r("GET", "/servers/{id}/metadata", (*call).getServerMetadata)
	r("GET", "/servers/{id}/os-volume_attachments", (*call).listVolumeAttachments)
	r("POST", "/servers/{id}/os-volume_attachments", (*call).attachVolume)
	r("GET", "/servers/{id}/os-volume_attachments/{volume}", (*call).getVolumeAttachment)
	r("DELETE", "/servers/{id}/os-volume_attachments/{volume}", (*call).detachVolume)
	r("POST", "/servers/{id}/remote-consoles", (*call).createRemoteConsole)
	e.serverGroupRoutes(r)
	e.interfaceRoutes(r)
	e.computeZoneRoutes(r)

	r("GET", "/os-keypairs", (*call).listKeypairs)
	r("POST", "/os-keypairs", (*call).createKeypair)
	r("GET", "/os-keypairs/{name}", (*call).getKeypair)
	r("DELETE", "/os-keypairs/{name}", (*call).deleteKeypair)

	r("GET", "/os-quota-sets/{project}", func(c *call) *apiError { return c.getComputeQuotas(false, false) })
	r("GET", "/os-quota-sets/{project}/detail", func(c *call) *apiError { return c.getComputeQuotas(true, false) })
	r("GET", "/os-quota-sets/{project}/defaults", func(c *call) *apiError { return c.getComputeQuotas(false, true) })
	r("PUT", "/os-quota-sets/{project}", (*call).updateComputeQuotas)
	r("DELETE", "/os-quota-sets/{project}", (*call).deleteComputeQuotas)
	r("GET", "/limits", (*call).computeLimits)
}

// microversion reads the request's microversion of a service (the legacy
// header or OpenStack-API-Version), echoes it in the answer and returns its
// minor number: minMinor without a header, maxMinor for "latest", and a 406
// outside minMinor..maxMinor, as the services answer.
func (c *call) microversion(service, legacyHeader string, major, minMinor, maxMinor int) (int, *apiError) {
	v := c.r.Header.Get(legacyHeader)
	for _, h := range c.r.Header.Values("OpenStack-API-Version") {
		if f := strings.Fields(h); len(f) == 2 && strings.EqualFold(f[0], service) {
			v = f[1]
		}
	}
	minor := minMinor
	switch {
	case v == "":
	case strings.EqualFold(v, "latest"):
		minor = maxMinor
	default:
		var maj int
		if _, err := fmt.Sscanf(v, "%d.%d", &maj, &minor); err != nil || maj != major || minor < minMinor || minor > maxMinor {
			return 0, errf(http.StatusNotAcceptable, "Version %s is not supported by the API. Minimum is %d.%d and maximum is %d.%d.",
				v, major, minMinor, major, maxMinor)
		}
	}
	used := fmt.Sprintf("%d.%d", major, minor)
	c.w.Header().Set(legacyHeader, used)
	c.w.Header().Set("OpenStack-API-Version", service+" "+used)
	c.w.Header().Add("Vary", "OpenStack-API-Version, "+legacyHeader)
	return minor, nil
}

func (c *call) novaAtLeast(minor int) bool { return c.mv >= minor }

func (c *call) novaURL(parts ...string) string {
	return c.base() + "/compute/v2.1/" + strings.Join(parts, "/")
}

func (c *call) novaLinks(kind, id string) []map[string]any {
	return []map[string]any{
		{"rel": "self", "href": c.novaURL(kind, id)},
		{"rel": "bookmark", "href": c.base() + "/compute/" + kind + "/" + id},
	}
}

func errServerNotFound(id string) *apiError {
	return errf(http.StatusNotFound, "Instance %s could not be found.", id)
}

// Flavors.

func (c *call) renderFlavor(f *Flavor, detail bool) map[string]any {
	m := map[string]any{"id": f.ID, "name": f.Name, "links": c.novaLinks("flavors", f.ID)}
	if c.novaAtLeast(55) {
		m["description"] = nil
	}
	if !detail {
		return m
	}
	m["ram"], m["disk"], m["vcpus"] = f.RAM, f.Disk, f.VCPUs
	m["OS-FLV-EXT-DATA:ephemeral"], m["OS-FLV-DISABLED:disabled"], m["os-flavor-access:is_public"] = f.Ephemeral, false, f.IsPublic
	m["rxtx_factor"] = 1.0
	if c.novaAtLeast(75) || f.Swap != 0 {
		m["swap"] = f.Swap
	} else {
		m["swap"] = ""
	}
	if c.novaAtLeast(61) {
		m["extra_specs"] = map[string]string{}
	}
	return m
}

func (c *call) listFlavors(detail bool) *apiError {
	q := c.query()
	minRAM, _ := strconv.Atoi(q.Get("minRam"))
	minDisk, _ := strconv.Atoi(q.Get("minDisk"))
	var items []map[string]any
	for _, f := range c.s().flavors.all() {
		if f.RAM < minRAM || f.Disk < minDisk {
			continue
		}
		items = append(items, c.renderFlavor(f, detail))
	}
	items, next, err := page(items, q)
	if err != nil {
		return err
	}
	body := map[string]any{"flavors": nonNil(items)}
	if next != "" {
		body["flavors_links"] = c.pageLinks(next)
	}
	c.json(http.StatusOK, body)
	return nil
}

func (c *call) flavor(id string) (*Flavor, *apiError) {
	if f := c.s().flavors.get(id); f != nil {
		return f, nil
	}
	return nil, errf(http.StatusNotFound, "Flavor %s could not be found.", id)
}

func (c *call) getFlavor() *apiError {
	f, err := c.flavor(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	c.json(http.StatusOK, map[string]any{"flavor": c.renderFlavor(f, true)})
	return nil
}

func (c *call) getFlavorExtraSpecs() *apiError {
	if _, err := c.flavor(c.r.PathValue("id")); err != nil {
		return err
	}
	c.json(http.StatusOK, map[string]any{"extra_specs": map[string]string{}})
	return nil
}

// Servers.

// server finds a server visible to the caller: its project's, or any for an admin.
func (c *call) server(id string) (*Server, *apiError) {
	sv := c.s().servers.get(id)
	if sv == nil || (sv.ProjectID != c.projectID() && !c.isAdmin()) {
		return nil, errServerNotFound(id)
	}
	return sv, nil
}

func (c *call) renderServer(sv *Server) map[string]any {
	s := c.s()
	m := map[string]any{
		"id": sv.ID, "name": sv.Name, "status": sv.Status, "tenant_id": sv.ProjectID, "user_id": sv.UserID,
		"metadata": nonNilMap(sv.Metadata), "hostId": hostID(sv.ProjectID), "created": tNova(sv.Created), "updated": tNova(sv.Updated),
		"accessIPv4": "", "accessIPv6": "", "links": c.novaLinks("servers", sv.ID), "OS-DCF:diskConfig": "MANUAL",
		"OS-EXT-AZ:availability_zone": sv.AvailabilityZone, "config_drive": "", "key_name": orNull(sv.KeyName),
		"OS-SRV-USG:terminated_at": nil, "OS-EXT-STS:task_state": orNull(sv.TaskState), "OS-EXT-STS:vm_state": sv.VMState,
		"OS-EXT-STS:power_state": sv.PowerState, "addresses": c.serverAddresses(sv), "security_groups": c.serverSecurityGroups(sv),
	}
	if sv.Status == "ACTIVE" || sv.Status == "BUILD" {
		m["progress"] = 0
	}
	if sv.ImageID != "" {
		m["image"] = map[string]any{"id": sv.ImageID, "links": []map[string]any{{"rel": "bookmark", "href": c.base() + "/compute/images/" + sv.ImageID}}}
	} else {
		m["image"] = ""
	}
	if f := s.flavors.get(sv.FlavorID); f != nil && c.novaAtLeast(47) {
		m["flavor"] = map[string]any{"original_name": f.Name, "vcpus": f.VCPUs, "ram": f.RAM, "disk": f.Disk,
			"ephemeral": f.Ephemeral, "swap": f.Swap, "extra_specs": map[string]string{}}
	} else {
		m["flavor"] = map[string]any{"id": sv.FlavorID, "links": []map[string]any{{"rel": "bookmark", "href": c.base() + "/compute/flavors/" + sv.FlavorID}}}
	}
	if sv.LaunchedAt.IsZero() {
		m["OS-SRV-USG:launched_at"] = nil
	} else {
		m["OS-SRV-USG:launched_at"] = tCinder(sv.LaunchedAt)
	}
	vols := []map[string]any{}
	for _, v := range sv.Volumes {
		vols = append(vols, map[string]any{"id": v.VolumeID, "delete_on_termination": v.DeleteOnTermination})
	}
	m["os-extended-volumes:volumes_attached"] = vols
	if c.isAdmin() {
		m["OS-EXT-SRV-ATTR:host"] = "emulator-compute-1"
		m["OS-EXT-SRV-ATTR:hypervisor_hostname"] = "emulator-compute-1"
		m["OS-EXT-SRV-ATTR:instance_name"] = "instance-" + sv.ID[:8]
	}
	if sv.Fault != nil {
		m["fault"] = map[string]any{"code": sv.Fault.Code, "message": sv.Fault.Message, "details": sv.Fault.Details, "created": tNova(sv.Fault.Created)}
	}
	if c.novaAtLeast(9) {
		m["locked"] = false
	}
	if c.novaAtLeast(19) {
		m["description"] = nil
	}
	if c.novaAtLeast(26) {
		m["tags"] = []string{}
	}
	if c.novaAtLeast(71) {
		m["server_groups"] = s.groupsOf(sv.ID)
	}
	return m
}

func hostID(projectID string) string {
	return hex.EncodeToString(uuid.NewSHA1(uuid.NameSpaceOID, []byte("host/"+projectID)).NodeID()) + strings.Repeat("0", 44)
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// serverAddresses renders the addresses of a server's ports by network name,
// fixed ones and the floating IPs associated with them.
func (c *call) serverAddresses(sv *Server) map[string]any {
	s := c.s()
	out := map[string]any{}
	for _, pid := range sv.Ports {
		p := s.ports.get(pid)
		if p == nil {
			continue
		}
		n := s.networks.get(p.NetworkID)
		if n == nil {
			continue
		}
		list, _ := out[n.Name].([]map[string]any)
		for _, ip := range p.FixedIPs {
			ver := 4
			if strings.Contains(ip.IPAddress, ":") {
				ver = 6
			}
			list = append(list, map[string]any{"version": ver, "addr": ip.IPAddress, "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": p.MACAddress})
		}
		for _, f := range s.floatingIP.all() {
			if f.PortID == p.ID {
				list = append(list, map[string]any{"version": 4, "addr": f.FloatingIP, "OS-EXT-IPS:type": "floating", "OS-EXT-IPS-MAC:mac_addr": p.MACAddress})
			}
		}
		out[n.Name] = list
	}
	return out
}

// serverSecurityGroups are the names of the security groups of the server's
// ports (as Nova shows them with Neutron), or the requested names without ports.
func (c *call) serverSecurityGroups(sv *Server) []map[string]any {
	var names []string
	if len(sv.Ports) == 0 {
		names = sv.SecurityGroups
	}
	for _, pid := range sv.Ports {
		if p := c.s().ports.get(pid); p != nil {
			for _, g := range p.SecurityGroups {
				if sg := c.s().secGroups.get(g); sg != nil && !slices.Contains(names, sg.Name) {
					names = append(names, sg.Name)
				}
			}
		}
	}
	out := []map[string]any{}
	for _, n := range names {
		out = append(out, map[string]any{"name": n})
	}
	return out
}

func (c *call) listServers(detail bool) *apiError {
	q := c.query()
	all := c.isAdmin() && boolParam(q, "all_tenants")
	project := q.Get("project_id")
	if project == "" {
		project = q.Get("tenant_id")
	}
	var items []map[string]any
	for _, sv := range c.s().servers.newest() {
		switch {
		case all && project != "" && sv.ProjectID != project:
			continue
		case !all && sv.ProjectID != c.projectID():
			continue
		}
		if n := q.Get("name"); n != "" && !nameMatches(n, sv.Name) {
			continue
		}
		if st := q.Get("status"); st != "" && !strings.EqualFold(st, sv.Status) {
			continue
		}
		if f := q.Get("flavor"); f != "" && f != sv.FlavorID {
			continue
		}
		if im := q.Get("image"); im != "" && im != sv.ImageID {
			continue
		}
		if az := q.Get("availability_zone"); az != "" && az != sv.AvailabilityZone {
			continue
		}
		if detail {
			items = append(items, c.renderServer(sv))
		} else {
			items = append(items, map[string]any{"id": sv.ID, "name": sv.Name, "links": c.novaLinks("servers", sv.ID)})
		}
	}
	items, next, err := page(items, q)
	if err != nil {
		return err
	}
	body := map[string]any{"servers": nonNil(items)}
	if next != "" {
		body["servers_links"] = c.pageLinks(next)
	}
	c.json(http.StatusOK, body)
	return nil
}

func (c *call) getServer() *apiError {
	sv, err := c.server(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	c.json(http.StatusOK, map[string]any{"server": c.renderServer(sv)})
	return nil
}

func (c *call) getServerMetadata() *apiError {
	sv, err := c.server(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	c.json(http.StatusOK, map[string]any{"metadata": nonNilMap(sv.Metadata)})
	return nil
}

func (c *call) updateServer() *apiError {
	sv, err := c.server(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	var b struct {
		Server struct {
			Name *string `json:"name"`
		} `json:"server"`
	}
	if err := c.decode(&b); err != nil {
		return err
	}
	if b.Server.Name != nil {
		sv.Name, sv.Updated = *b.Server.Name, c.now
	}
	c.json(http.StatusOK, map[string]any{"server": c.renderServer(sv)})
	return nil
}

type createServerBody struct {
	Server struct {
		Name             string            `json:"name"`
		ImageRef         string            `json:"imageRef"`
		FlavorRef        string            `json:"flavorRef"`
		KeyName          string            `json:"key_name"`
		AvailabilityZone string            `json:"availability_zone"`
		Metadata         map[string]string `json:"metadata"`
		SecurityGroups   []struct {
			Name string `json:"name"`
		} `json:"security_groups"`
		Networks    any `json:"networks"`
		BlockDevice []struct {
			SourceType          string `json:"source_type"`
			DestinationType     string `json:"destination_type"`
			UUID                string `json:"uuid"`
			BootIndex           *int   `json:"boot_index"`
			VolumeSize          int    `json:"volume_size"`
			VolumeType          string `json:"volume_type"`
			DeleteOnTermination bool   `json:"delete_on_termination"`
		} `json:"block_device_mapping_v2"`
		Min int `json:"min_count"`
		Max int `json:"max_count"`
	} `json:"server"`
	// Scheduler hints sit beside "server", under either name Nova accepts.
	Hints       map[string]any `json:"os:scheduler_hints"`
	LegacyHints map[string]any `json:"OS-SCH-HNT:scheduler_hints"`
}

type networkRequest struct{ uuid, port, fixedIP string }

// lastRef is the id at the end of a reference that may be a URL.
func lastRef(ref string) string {
	if i := strings.LastIndex(ref, "/"); i >= 0 {
		return ref[i+1:]
	}
	return ref
}

// createServer validates the whole request first, then allocates ports and
// volumes (undoing them if a later allocation fails) and starts the build.
func (c *call) createServer() *apiError {
	var b createServerBody
	if err := c.decode(&b); err != nil {
		return err
	}
	in := b.Server
	s := c.s()
	if strings.TrimSpace(in.Name) == "" {
		return errf(http.StatusBadRequest, "Invalid input for field/attribute name. Value: %q. name must be a non-empty string", in.Name)
	}
	if in.Min > 1 || in.Max > 1 {
		return errf(http.StatusBadRequest, "The OpenStack emulator creates one server per request (min_count/max_count).")
	}
	flavor := s.flavors.get(lastRef(in.FlavorRef))
	if flavor == nil {
		return errf(http.StatusBadRequest, "Flavor %s could not be found.", in.FlavorRef)
	}
	imageID := lastRef(in.ImageRef)
	if imageID != "" {
		if im := s.images.get(imageID); im == nil || !c.imageVisible(im) {
			return errf(http.StatusBadRequest, "Image %s could not be found.", in.ImageRef)
		}
	}
	if in.KeyName != "" && s.keypairs.get(c.userID()+"/"+in.KeyName) == nil {
		return errf(http.StatusBadRequest, "Invalid key_name provided.")
	}
	az := in.AvailabilityZone
	if az == "" {
		az = "nova"
	}
	if az != "nova" {
		return errf(http.StatusBadRequest, "The requested availability zone is not available")
	}

	// Block devices: the boot volume and any extra ones.
	type bdm struct {
		existing *Volume
		image    string
		size     int
		vtype    string
		boot     bool
		delete   bool
	}
	var bdms []bdm
	bootFromVolume := false
	for _, d := range in.BlockDevice {
		boot := d.BootIndex != nil && *d.BootIndex == 0
		switch {
		case d.SourceType == "image" && d.DestinationType == "local":
			if boot {
				imageID = d.UUID
				if im := s.images.get(imageID); im == nil || !c.imageVisible(im) {
					return errf(http.StatusBadRequest, "Image %s could not be found.", d.UUID)
				}
			}
		case d.SourceType == "volume":
			v := s.volumes.get(d.UUID)
			if v == nil || v.ProjectID != c.projectID() {
				return errf(http.StatusBadRequest, "Block Device Mapping is Invalid: failed to get volume %s.", d.UUID)
			}
			if v.Status != "available" {
				return errf(http.StatusBadRequest, "Invalid volume: volume %s status must be available, but current status is: %s", v.ID, v.Status)
			}
			bdms = append(bdms, bdm{existing: v, boot: boot, delete: d.DeleteOnTermination})
		case d.SourceType == "image" && d.DestinationType == "volume", d.SourceType == "blank":
			if d.VolumeSize <= 0 {
				return errf(http.StatusBadRequest, "Block Device Mapping is Invalid: You specified more local devices than the limit allows")
			}
			if d.SourceType == "image" {
				if im := s.images.get(d.UUID); im == nil || !c.imageVisible(im) {
					return errf(http.StatusBadRequest, "Block Device Mapping is Invalid: failed to get image %s.", d.UUID)
				}
			}
			vt, err := c.volumeType(d.VolumeType)
			if err != nil {
				return errf(http.StatusBadRequest, "Block Device Mapping is Invalid: %s", err.msg)
			}
			img := ""
			if d.SourceType == "image" {
				img = d.UUID
			}
			bdms = append(bdms, bdm{image: img, size: d.VolumeSize, vtype: vt.Name, boot: boot, delete: d.DeleteOnTermination})
		default:
			return errf(http.StatusBadRequest, "Block Device Mapping is Invalid: source_type %q is not supported by the OpenStack emulator.", d.SourceType)
		}
		if boot && d.DestinationType == "volume" {
			bootFromVolume = true
		}
	}
	if bootFromVolume {
		imageID = ""
	} else if imageID == "" {
		return errf(http.StatusBadRequest, "Block Device Mapping is Invalid: Boot sequence for the instance and image/block device mapping combination is not valid.")
	}

	var sgIDs []string
	var sgNames []string
	for _, g := range in.SecurityGroups {
		sg := c.findSecurityGroup(c.projectID(), g.Name)
		if sg == nil {
			return errf(http.StatusBadRequest, "Unable to find security group with name or id '%s'.", g.Name)
		}
		sgIDs, sgNames = append(sgIDs, sg.ID), append(sgNames, sg.Name)
	}
	if len(sgNames) == 0 {
		sgNames = []string{"default"}
	}

	var nets []networkRequest
	switch v := in.Networks.(type) {
	case nil, string: // "auto", "none" or absent: no ports
	case []any:
		for _, item := range v {
			m, _ := item.(map[string]any)
			str := func(k string) string { x, _ := m[k].(string); return x }
			nr := networkRequest{uuid: str("uuid"), port: str("port"), fixedIP: str("fixed_ip")}
			switch {
			case nr.port != "":
				p := s.ports.get(nr.port)
				if p == nil || !c.networkVisible(p.ProjectID) {
					return errf(http.StatusBadRequest, "Port %s could not be found.", nr.port)
				}
				if p.DeviceID != "" {
					return errf(http.StatusConflict, "Port %s is still in use.", nr.port)
				}
			case nr.uuid != "":
				n := s.networks.get(nr.uuid)
				if n == nil || !c.networkReadable(n) {
					return errf(http.StatusBadRequest, "Network %s could not be found.", nr.uuid)
				}
			default:
				return errf(http.StatusBadRequest, "Bad networks format: network uuid or port is required")
			}
			nets = append(nets, nr)
		}
	default:
		return errf(http.StatusBadRequest, "Bad networks format")
	}

	hints := b.Hints
	if hints == nil {
		hints = b.LegacyHints
	}
	group, gerr := c.requestedGroup(hints)
	if gerr != nil {
		return gerr
	}

	limits, usage := s.quotaLimits(c.projectID(), "compute"), s.computeUsage(c.projectID())
	if over := overQuota(limits, usage, map[string]int{"instances": 1, "cores": flavor.VCPUs, "ram": flavor.RAM}); len(over) > 0 {
		k := over[0]
		return errf(http.StatusForbidden, "Quota exceeded for %s: Requested %d, but already used %d of %d %s", k,
			map[string]int{"instances": 1, "cores": flavor.VCPUs, "ram": flavor.RAM}[k], usage[k], limits[k], k)
	}
	newGB := 0
	for _, d := range bdms {
		newGB += d.size
	}
	if newGB > 0 {
		vl, vu := s.quotaLimits(c.projectID(), "volume"), s.volumeUsage(c.projectID())
		if over := overQuota(vl, vu, map[string]int{"volumes": len(bdms), "gigabytes": newGB}); len(over) > 0 {
			return errf(http.StatusForbidden, "Volume quota exceeded for %s.", strings.Join(over, ", "))
		}
	}

	sv := &Server{ID: uuid.NewString(), Name: in.Name, ProjectID: c.projectID(), UserID: c.userID(), Status: "BUILD",
		TaskState: "spawning", VMState: "building", FlavorID: flavor.ID, ImageID: imageID, KeyName: in.KeyName,
		AvailabilityZone: az, Metadata: in.Metadata, SecurityGroups: sgNames, Created: c.now, Updated: c.now,
		Ports: []string{}, OwnedPorts: []string{}, Volumes: []ServerVolume{}}
	if sv.Metadata == nil {
		sv.Metadata = map[string]string{}
	}

	// Allocate ports; undo on failure.
	var bound []*Port
	undo := func() {
		for _, pid := range sv.OwnedPorts {
			c.e.removePort(s.ports.get(pid))
		}
		for _, p := range bound {
			p.DeviceID, p.DeviceOwner = "", ""
		}
	}
	for _, nr := range nets {
		if nr.port != "" {
			p := s.ports.get(nr.port)
			p.DeviceID, p.DeviceOwner, p.Updated = sv.ID, "compute:"+az, c.now
			bound = append(bound, p)
			sv.Ports = append(sv.Ports, p.ID)
			continue
		}
		var fixed []fixedIPRequest
		if nr.fixedIP != "" {
			fixed = []fixedIPRequest{{IPAddress: nr.fixedIP}}
		}
		groups := sgIDs
		if len(groups) == 0 {
			groups = []string{c.e.ensureDefaultSecurityGroup(sv.ProjectID).ID}
		}
		p, err := c.e.newPort(sv.ProjectID, s.networks.get(nr.uuid), fixed, groups, c.now)
		if err != nil {
			undo()
			if err.status == http.StatusConflict && err.kind == "OverQuota" {
				return errf(http.StatusForbidden, "Maximum number of ports exceeded")
			}
			return errf(err.status, "%s", err.msg)
		}
		p.DeviceID, p.DeviceOwner = sv.ID, "compute:"+az
		sv.Ports = append(sv.Ports, p.ID)
		sv.OwnedPorts = append(sv.OwnedPorts, p.ID)
	}

	// Volumes: created ones are ready and attached at once.
	for _, d := range bdms {
		v := d.existing
		if v == nil {
			v = c.e.newVolume(sv.ProjectID, c.userID(), "", d.size, d.vtype, d.image, c.now)
			v.Status = "available"
		}
		dev := "/dev/vda"
		if !d.boot {
			dev = nextDevice(sv)
		}
		c.e.attach(v, sv, dev, d.delete, c.now)
		v.Status = "in-use"
	}

	c.s().servers.put(sv.ID, sv)
	if group != nil {
		group.Members = append(group.Members, sv.ID)
	}
	op := s.bump(sv.ID)
	fail := c.e.draw(func(f Faults) float64 { return f.ServerErrorRate })
	s.schedule(c.now.Add(c.e.opts.BuildDelay), func() {
		if !s.current(sv.ID, op) {
			return
		}
		if fail {
			c.e.serverError(sv, "No valid host was found. There are not enough hosts available.")
			return
		}
		now := c.e.now()
		sv.Status, sv.VMState, sv.TaskState, sv.PowerState, sv.LaunchedAt, sv.Updated = "ACTIVE", "active", "", 1, now, now
	})

	c.w.Header().Set("Location", c.novaURL("servers", sv.ID))
	var groups []map[string]any
	for _, n := range sgNames {
		groups = append(groups, map[string]any{"name": n})
	}
	c.json(http.StatusAccepted, map[string]any{"server": map[string]any{"id": sv.ID, "links": c.novaLinks("servers", sv.ID),
		"OS-DCF:diskConfig": "MANUAL", "adminPass": hexID()[:12], "security_groups": groups}})
	return nil
}

// serverError puts a server in ERROR with a fault.
func (e *Emulator) serverError(sv *Server, message string) {
	now := e.now()
	sv.Status, sv.VMState, sv.TaskState, sv.PowerState, sv.Updated, sv.Deleting = "ERROR", "error", "", 0, now, false
	sv.Fault = &Fault{Code: 500, Message: message, Details: "emulated fault", Created: now}
}

func nextDevice(sv *Server) string {
	used := map[string]bool{"/dev/vda": sv.ImageID != ""}
	for _, v := range sv.Volumes {
		used[v.Device] = true
	}
	for ch := 'a'; ch <= 'z'; ch++ {
		d := "/dev/vd" + string(ch)
		if !used[d] {
			return d
		}
	}
	return "/dev/vdzz"
}

// attach records an attachment on both the volume and the server.
func (e *Emulator) attach(v *Volume, sv *Server, device string, deleteOnTermination bool, now time.Time) {
	v.Attachments = append(v.Attachments, VolumeAttachment{ID: uuid.NewString(), ServerID: sv.ID, Device: device, AttachedAt: now})
	v.Updated = now
	sv.Volumes = append(sv.Volumes, ServerVolume{VolumeID: v.ID, Device: device, DeleteOnTermination: deleteOnTermination})
}

// detach removes an attachment from both sides.
func detach(v *Volume, sv *Server) {
	v.Attachments = slices.DeleteFunc(v.Attachments, func(a VolumeAttachment) bool { return a.ServerID == sv.ID })
	sv.Volumes = slices.DeleteFunc(sv.Volumes, func(x ServerVolume) bool { return x.VolumeID == v.ID })
}

// deleteServer answers 204 at once; the server stays visible with task_state
// deleting for DeleteDelay, then its ports and volumes are released and it is gone.
func (c *call) deleteServer() *apiError {
	sv, err := c.server(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	c.startServerDelete(sv)
	c.noContent(http.StatusNoContent)
	return nil
}

func (c *call) startServerDelete(sv *Server) {
	if sv.Deleting {
		return
	}
	s := c.s()
	sv.Deleting, sv.TaskState, sv.Updated = true, "deleting", c.now
	op := s.bump(sv.ID)
	s.schedule(c.now.Add(c.e.opts.DeleteDelay), func() {
		if s.current(sv.ID, op) {
			c.e.removeServer(sv)
		}
	})
}

// removeServer releases a server's ports and volumes and forgets it.
func (e *Emulator) removeServer(sv *Server) {
	s, now := e.st, e.now()
	for _, pid := range slices.Clone(sv.Ports) { // removePort edits sv.Ports
		p := s.ports.get(pid)
		if p == nil {
			continue
		}
		if slices.Contains(sv.OwnedPorts, pid) {
			e.removePort(p)
		} else {
			p.DeviceID, p.DeviceOwner, p.Updated = "", "", now
		}
	}
	for _, a := range slices.Clone(sv.Volumes) {
		v := s.volumes.get(a.VolumeID)
		if v == nil {
			continue
		}
		detach(v, sv)
		// Nova's delete of a volume that cannot go (it has snapshots) fails
		// quietly: the volume stays, available.
		if a.DeleteOnTermination && len(s.volumeSnapshots(v.ID)) == 0 {
			s.volumes.del(v.ID)
			delete(s.ops, v.ID)
			continue
		}
		s.bump(v.ID)
		v.Status, v.Updated = "available", now
	}
	s.leaveGroups(sv.ID)
	s.servers.del(sv.ID)
	delete(s.ops, sv.ID)
}

// serverAction serves POST /servers/{id}/action.
func (c *call) serverAction() *apiError {
	sv, err := c.server(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	var body map[string]any
	if err := c.decode(&body); err != nil {
		return err
	}
	if len(body) != 1 {
		return errf(http.StatusBadRequest, "Malformed request body: exactly one action expected")
	}
	var action string
	var arg any
	for k, v := range body {
		action, arg = k, v
	}
	argMap, _ := arg.(map[string]any)
	busy := func(name string) *apiError {
		if sv.TaskState != "" {
			return errf(http.StatusConflict, "Cannot '%s' instance %s while it is in task_state %s", name, sv.ID, sv.TaskState)
		}
		return nil
	}
	wrongState := func(name string) *apiError {
		return errf(http.StatusConflict, "Cannot '%s' instance %s while it is in vm_state %s", name, sv.ID, sv.VMState)
	}
	switch action {
	case "os-stop":
		if err := busy("stop"); err != nil {
			return err
		}
		if sv.Status != "ACTIVE" && sv.Status != "ERROR" {
			return wrongState("stop")
		}
		c.transition(sv, "", "powering-off", "SHUTOFF", "stopped", 4)
	case "os-start":
		if err := busy("start"); err != nil {
			return err
		}
		if sv.Status != "SHUTOFF" {
			return wrongState("start")
		}
		c.transition(sv, "", "powering-on", "ACTIVE", "active", 1)
	case "reboot":
		if err := busy("reboot"); err != nil {
			return err
		}
		typ, _ := argMap["type"].(string)
		switch strings.ToUpper(typ) {
		case "SOFT":
			if sv.Status != "ACTIVE" {
				return wrongState("reboot")
			}
			c.transition(sv, "REBOOT", "rebooting", "ACTIVE", "active", 1)
		case "HARD":
			if sv.Status != "ACTIVE" && sv.Status != "SHUTOFF" && sv.Status != "ERROR" {
				return wrongState("reboot")
			}
			c.transition(sv, "HARD_REBOOT", "rebooting_hard", "ACTIVE", "active", 1)
		default:
			return errf(http.StatusBadRequest, "Invalid input for field/attribute type. Value: %v.", argMap["type"])
		}
	case "resize":
		if err := busy("resize"); err != nil {
			return err
		}
		if sv.Status != "ACTIVE" && sv.Status != "SHUTOFF" {
			return wrongState("resize")
		}
		ref, _ := argMap["flavorRef"].(string)
		f := c.s().flavors.get(lastRef(ref))
		if f == nil {
			return errf(http.StatusBadRequest, "Flavor %s could not be found.", ref)
		}
		if f.ID == sv.FlavorID {
			return errf(http.StatusBadRequest, "When resizing, instances must change flavor!")
		}
		old := c.s().flavors.get(sv.FlavorID)
		limits, usage := c.s().quotaLimits(sv.ProjectID, "compute"), c.s().computeUsage(sv.ProjectID)
		if over := overQuota(limits, usage, map[string]int{"cores": f.VCPUs - old.VCPUs, "ram": f.RAM - old.RAM}); len(over) > 0 {
			return errf(http.StatusForbidden, "Quota exceeded for %s.", strings.Join(over, ", "))
		}
		sv.OldFlavorID, sv.FlavorID = sv.FlavorID, f.ID
		c.transition(sv, "RESIZE", "resize_prep", "VERIFY_RESIZE", "resized", sv.PowerState)
	case "confirmResize":
		if sv.Status != "VERIFY_RESIZE" {
			return errf(http.StatusConflict, "Cannot 'confirmResize' instance %s while it is in vm_state %s", sv.ID, sv.VMState)
		}
		sv.OldFlavorID, sv.Status, sv.VMState, sv.Updated = "", "ACTIVE", "active", c.now
		if sv.PowerState == 4 {
			sv.Status, sv.VMState = "SHUTOFF", "stopped"
		}
		c.noContent(http.StatusNoContent)
		return nil
	case "revertResize":
		if sv.Status != "VERIFY_RESIZE" {
			return errf(http.StatusConflict, "Cannot 'revertResize' instance %s while it is in vm_state %s", sv.ID, sv.VMState)
		}
		sv.FlavorID, sv.OldFlavorID = sv.OldFlavorID, ""
		c.transition(sv, "REVERT_RESIZE", "resize_reverting", "ACTIVE", "active", 1)
	case "addSecurityGroup", "removeSecurityGroup":
		name, _ := argMap["name"].(string)
		sg := c.findSecurityGroup(sv.ProjectID, name)
		if sg == nil {
			return errf(http.StatusNotFound, "Security group %s not found for project %s.", name, sv.ProjectID)
		}
		if len(sv.Ports) == 0 {
			return errf(http.StatusBadRequest, "Instance %s has no ports to set security groups on.", sv.ID)
		}
		for _, pid := range sv.Ports {
			p := c.s().ports.get(pid)
			if p == nil {
				continue
			}
			if action == "addSecurityGroup" {
				if !slices.Contains(p.SecurityGroups, sg.ID) {
					p.SecurityGroups = append(p.SecurityGroups, sg.ID)
				}
			} else {
				if !slices.Contains(p.SecurityGroups, sg.ID) {
					return errf(http.StatusNotFound, "Security group %s not associated with the instance %s", name, sv.ID)
				}
				p.SecurityGroups = slices.DeleteFunc(p.SecurityGroups, func(g string) bool { return g == sg.ID })
			}
			p.Revision++
			p.Updated = c.now
		}
	case "os-getConsoleOutput":
		return c.consoleOutput(sv, arg)
	case "forceDelete":
		c.startServerDelete(sv)
	default:
		return errf(http.StatusBadRequest, "There is no such action: %s", action)
	}
	c.noContent(http.StatusAccepted)
	return nil
}

// transition starts an action: the server shows status (when not empty) and
// task state now, and ends in final after ActionDelay.
func (c *call) transition(sv *Server, status, task, final, vmState string, power int) {
	s := c.s()
	if status != "" {
		sv.Status = status
	}
	sv.TaskState, sv.Updated = task, c.now
	op := s.bump(sv.ID)
	s.schedule(c.now.Add(c.e.opts.ActionDelay), func() {
		if !s.current(sv.ID, op) {
			return
		}
		sv.Status, sv.VMState, sv.TaskState, sv.PowerState, sv.Updated = final, vmState, "", power, c.e.now()
		if sv.Fault != nil && final == "ACTIVE" {
			sv.Fault = nil
		}
	})
}

// Volume attachments.

func (c *call) renderAttachment(sv *Server, a ServerVolume) map[string]any {
	return map[string]any{"id": a.VolumeID, "serverId": sv.ID, "volumeId": a.VolumeID, "device": a.Device}
}

func (c *call) listVolumeAttachments() *apiError {
	sv, err := c.server(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	items := []map[string]any{}
	for _, a := range sv.Volumes {
		items = append(items, c.renderAttachment(sv, a))
	}
	c.json(http.StatusOK, map[string]any{"volumeAttachments": items})
	return nil
}

func (c *call) getVolumeAttachment() *apiError {
	sv, err := c.server(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	vid := c.r.PathValue("volume")
	for _, a := range sv.Volumes {
		if a.VolumeID == vid {
			c.json(http.StatusOK, map[string]any{"volumeAttachment": c.renderAttachment(sv, a)})
			return nil
		}
	}
	return errf(http.StatusNotFound, "volume_id not found: %s", vid)
}

func (c *call) attachVolume() *apiError {
	sv, err := c.server(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	var b struct {
		VolumeAttachment struct {
			VolumeID            string `json:"volumeId"`
			Device              string `json:"device"`
			DeleteOnTermination bool   `json:"delete_on_termination"`
		} `json:"volumeAttachment"`
	}
	if err := c.decode(&b); err != nil {
		return err
	}
	if sv.Deleting || (sv.Status != "ACTIVE" && sv.Status != "SHUTOFF") || sv.TaskState != "" {
		return errf(http.StatusConflict, "Cannot 'attach_volume' instance %s while it is in vm_state %s", sv.ID, sv.VMState)
	}
	v := c.s().volumes.get(b.VolumeAttachment.VolumeID)
	if v == nil || v.ProjectID != sv.ProjectID {
		return errf(http.StatusNotFound, "Volume %s could not be found.", b.VolumeAttachment.VolumeID)
	}
	if v.Status != "available" {
		return errf(http.StatusBadRequest, "Invalid volume: volume %s status must be available, but current status is: %s", v.ID, v.Status)
	}
	dev := b.VolumeAttachment.Device
	if dev == "" || slices.ContainsFunc(sv.Volumes, func(x ServerVolume) bool { return x.Device == dev }) {
		dev = nextDevice(sv)
	}
	c.e.attach(v, sv, dev, b.VolumeAttachment.DeleteOnTermination, c.now)
	c.volumeTransition(v, "attaching", "in-use", c.e.opts.VolumeDelay)
	a := sv.Volumes[len(sv.Volumes)-1]
	c.json(http.StatusOK, map[string]any{"volumeAttachment": c.renderAttachment(sv, a)})
	return nil
}

func (c *call) detachVolume() *apiError {
	sv, err := c.server(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	vid := c.r.PathValue("volume")
	i := slices.IndexFunc(sv.Volumes, func(x ServerVolume) bool { return x.VolumeID == vid })
	if i < 0 {
		return errf(http.StatusNotFound, "volume_id not found: %s", vid)
	}
	if sv.Volumes[i].Device == "/dev/vda" && sv.ImageID == "" {
		return errf(http.StatusBadRequest, "Cannot detach a root device volume")
	}
	v := c.s().volumes.get(vid)
	if v == nil {
		return errf(http.StatusNotFound, "Volume %s could not be found.", vid)
	}
	if v.Status != "in-use" {
		return errf(http.StatusBadRequest, "Invalid volume: Unable to detach volume. Volume status must be 'in-use' and attach_status must be 'attached' to detach.")
	}
	s := c.s()
	v.Status, v.Updated = "detaching", c.now
	op := s.bump(v.ID)
	s.schedule(c.now.Add(c.e.opts.VolumeDelay), func() {
		if !s.current(v.ID, op) {
			return
		}
		detach(v, sv)
		v.Status, v.Updated = "available", c.e.now()
	})
	c.noContent(http.StatusAccepted)
	return nil
}

// Keypairs.

func (c *call) renderKeypair(k *Keypair, full bool) map[string]any {
	m := map[string]any{"name": k.Name, "public_key": k.PublicKey, "fingerprint": k.Fingerprint, "type": k.Type}
	if full {
		m["user_id"], m["created_at"], m["deleted"], m["id"] = k.UserID, tCinder(k.Created), false, 1
	}
	return m
}

func (c *call) keypairOwner() (string, *apiError) {
	if u := c.query().Get("user_id"); u != "" && u != c.userID() {
		if err := c.requireAdmin(); err != nil {
			return "", err
		}
		return u, nil
	}
	return c.userID(), nil
}

func (c *call) listKeypairs() *apiError {
	owner, err := c.keypairOwner()
	if err != nil {
		return err
	}
	items := []map[string]any{}
	for _, k := range c.s().keypairs.all() {
		if k.UserID == owner {
			items = append(items, map[string]any{"keypair": c.renderKeypair(k, false)})
		}
	}
	c.json(http.StatusOK, map[string]any{"keypairs": items})
	return nil
}

func (c *call) createKeypair() *apiError {
	var b struct {
		Keypair struct {
			Name      string `json:"name"`
			PublicKey string `json:"public_key"`
			Type      string `json:"type"`
			UserID    string `json:"user_id"`
		} `json:"keypair"`
	}
	if err := c.decode(&b); err != nil {
		return err
	}
	in := b.Keypair
	owner := c.userID()
	if in.UserID != "" && in.UserID != owner {
		if err := c.requireAdmin(); err != nil {
			return err
		}
		owner = in.UserID
	}
	if strings.TrimSpace(in.Name) == "" || len(in.Name) > 255 {
		return errf(http.StatusBadRequest, "Keypair data is invalid: Keypair name must be string and between 1 and 255 characters long")
	}
	key := owner + "/" + in.Name
	if c.s().keypairs.get(key) != nil {
		return errf(http.StatusConflict, "Key pair '%s' already exists.", in.Name)
	}
	k := &Keypair{Name: in.Name, UserID: owner, Type: in.Type, Created: c.now}
	if k.Type == "" {
		k.Type = "ssh"
	}
	var private string
	if in.PublicKey == "" {
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return errf(http.StatusInternalServerError, "cannot generate a key: %v", err)
		}
		sp, err := ssh.NewPublicKey(pub)
		if err != nil {
			return errf(http.StatusInternalServerError, "cannot encode a key: %v", err)
		}
		block, err := ssh.MarshalPrivateKey(priv, in.Name)
		if err != nil {
			return errf(http.StatusInternalServerError, "cannot encode a key: %v", err)
		}
		in.PublicKey, private = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp)))+" Generated-by-Nova", string(pem.EncodeToMemory(block))
	}
	pk, _, _, _, err := ssh.ParseAuthorizedKey([]byte(in.PublicKey))
	if err != nil {
		return errf(http.StatusBadRequest, "Keypair data is invalid: failed to generate fingerprint")
	}
	k.PublicKey, k.Fingerprint = in.PublicKey, ssh.FingerprintLegacyMD5(pk)
	c.s().keypairs.put(key, k)
	out := c.renderKeypair(k, false)
	out["user_id"] = owner
	if private != "" {
		out["private_key"] = private
	}
	c.json(http.StatusOK, map[string]any{"keypair": out})
	return nil
}

func (c *call) keypair() (string, *Keypair, *apiError) {
	owner, err := c.keypairOwner()
	if err != nil {
		return "", nil, err
	}
	key := owner + "/" + c.r.PathValue("name")
	k := c.s().keypairs.get(key)
	if k == nil {
		return "", nil, errf(http.StatusNotFound, "Keypair %s not found for user %s", c.r.PathValue("name"), owner)
	}
	return key, k, nil
}

func (c *call) getKeypair() *apiError {
	_, k, err := c.keypair()
	if err != nil {
		return err
	}
	c.json(http.StatusOK, map[string]any{"keypair": c.renderKeypair(k, true)})
	return nil
}

func (c *call) deleteKeypair() *apiError {
	key, _, err := c.keypair()
	if err != nil {
		return err
	}
	c.s().keypairs.del(key)
	c.noContent(http.StatusAccepted)
	return nil
}

// Quotas and limits.

// quotaProject checks that the caller may read (own project) or change (admin) a project's quotas.
func (c *call) quotaProject(write bool) (string, *apiError) {
	id := c.r.PathValue("project")
	if write || id != c.projectID() {
		if err := c.requireAdmin(); err != nil {
			return "", err
		}
	}
	if c.s().projects.get(id) == nil {
		return "", errf(http.StatusBadRequest, "Project ID %s is not a valid project.", id)
	}
	return id, nil
}

func (c *call) getComputeQuotas(detail, defaults bool) *apiError {
	id, err := c.quotaProject(false)
	if err != nil {
		return err
	}
	limits := c.s().quotaLimits(id, "compute")
	if defaults {
		limits = defaultComputeQuotas
	}
	out := map[string]any{"id": id}
	usage := c.s().computeUsage(id)
	for k, v := range limits {
		if detail {
			out[k] = map[string]any{"limit": v, "in_use": usage[k], "reserved": 0}
		} else {
			out[k] = v
		}
	}
	c.json(http.StatusOK, map[string]any{"quota_set": out})
	return nil
}

func (c *call) updateComputeQuotas() *apiError {
	id, err := c.quotaProject(true)
	if err != nil {
		return err
	}
	var b struct {
		QuotaSet map[string]any `json:"quota_set"`
	}
	if err := c.decode(&b); err != nil {
		return err
	}
	force, _ := b.QuotaSet["force"].(bool)
	delete(b.QuotaSet, "force")
	delete(b.QuotaSet, "id")
	in, err := intMap(b.QuotaSet)
	if err != nil {
		return err
	}
	usage := c.s().computeUsage(id)
	if !force {
		for k, v := range in {
			if v >= 0 && usage[k] > v {
				return errf(http.StatusBadRequest, "Quota limit %d for %s must be greater than or equal to already used and reserved %d.", v, k, usage[k])
			}
		}
	}
	if err := c.s().setQuotas(id, "compute", in); err != nil {
		return err
	}
	out := map[string]any{}
	for k, v := range c.s().quotaLimits(id, "compute") {
		out[k] = v
	}
	c.json(http.StatusOK, map[string]any{"quota_set": out})
	return nil
}

func (c *call) deleteComputeQuotas() *apiError {
	id, err := c.quotaProject(true)
	if err != nil {
		return err
	}
	c.s().resetQuotas(id, "compute")
	c.noContent(http.StatusAccepted)
	return nil
}

// intMap converts decoded JSON numbers to ints; anything else is a 400.
func intMap(in map[string]any) (map[string]int, *apiError) {
	out := map[string]int{}
	for k, v := range in {
		switch t := v.(type) {
		case float64:
			if t != float64(int(t)) {
				return nil, errf(http.StatusBadRequest, "Invalid input for field/attribute %s. Value: %v. %v is not an integer", k, t, t)
			}
			out[k] = int(t)
		case string:
			n, err := strconv.Atoi(t)
			if err != nil {
				return nil, errf(http.StatusBadRequest, "Invalid input for field/attribute %s. Value: %s. not an integer", k, t)
			}
			out[k] = n
		default:
			return nil, errf(http.StatusBadRequest, "Invalid input for field/attribute %s. Value: %v.", k, v)
		}
	}
	return out, nil
}

func (c *call) computeLimits() *apiError {
	p := c.projectID()
	if t := c.query().Get("tenant_id"); t != "" && t != p {
		if err := c.requireAdmin(); err != nil {
			return err
		}
		p = t
	}
	l, u := c.s().quotaLimits(p, "compute"), c.s().computeUsage(p)
	c.json(http.StatusOK, map[string]any{"limits": map[string]any{"rate": []any{}, "absolute": map[string]any{
		"maxTotalInstances": l["instances"], "totalInstancesUsed": u["instances"],
		"maxTotalCores": l["cores"], "totalCoresUsed": u["cores"],
		"maxTotalRAMSize": l["ram"], "totalRAMUsed": u["ram"],
		"maxTotalKeypairs": l["key_pairs"], "maxServerMeta": l["metadata_items"],
		"maxServerGroups": l["server_groups"], "maxServerGroupMembers": l["server_group_members"], "totalServerGroupsUsed": u["server_groups"],
		"maxPersonality": l["injected_files"], "maxPersonalitySize": l["injected_file_content_bytes"],
		"maxImageMeta": 128, "maxSecurityGroups": -1, "maxSecurityGroupRules": -1, "totalSecurityGroupsUsed": 0,
		"maxTotalFloatingIps": -1, "totalFloatingIpsUsed": 0,
	}}})
	return nil
}
