package openstacktest

import "net/http"

// Availability zones of Nova (GET /os-availability-zone and, for admins,
// /os-availability-zone/detail) and Cinder (GET /v3/{project}/
// os-availability-zone), as the OpenStack API reference shows them. The
// emulator is one host in one zone, "nova", for both services (Nova's and
// Cinder's default availability zone); Nova's detail adds the "internal"
// zone of the control services, with each zone's hosts and services.

// emulatorHost is the emulator's one compute and control host.
const emulatorHost = "emulator"

// defaultZone is the emulator's one availability zone.
const defaultZone = "nova"

func (e *Emulator) computeZoneRoutes(r route) {
	r("GET", "/os-availability-zone", func(c *call) *apiError { return c.listComputeZones(false) })
	r("GET", "/os-availability-zone/detail", func(c *call) *apiError { return c.listComputeZones(true) })
}

func (e *Emulator) volumeZoneRoutes(r route) {
	r("GET", "/os-availability-zone", (*call).listVolumeZones)
}

// listComputeZones answers Nova's zones: without detail the zones of
// compute hosts, each with "hosts": null; with detail (admin only) the
// internal zone too, and every zone's hosts with their services.
func (c *call) listComputeZones(detail bool) *apiError {
	if !detail {
		c.json(http.StatusOK, map[string]any{"availabilityZoneInfo": []map[string]any{
			{"zoneName": defaultZone, "zoneState": map[string]any{"available": true}, "hosts": nil},
		}})
		return nil
	}
	if err := c.requireAdmin(); err != nil {
		return err
	}
	updated := c.now.UTC().Format("2006-01-02T15:04:05.000000")
	svc := func(names ...string) map[string]any {
		out := map[string]any{}
		for _, n := range names {
			out[n] = map[string]any{"available": true, "active": true, "updated_at": updated}
		}
		return out
	}
	c.json(http.StatusOK, map[string]any{"availabilityZoneInfo": []map[string]any{
		{"zoneName": "internal", "zoneState": map[string]any{"available": true},
			"hosts": map[string]any{emulatorHost: svc("nova-conductor", "nova-scheduler")}},
		{"zoneName": defaultZone, "zoneState": map[string]any{"available": true},
			"hosts": map[string]any{emulatorHost: svc("nova-compute")}},
	}})
	return nil
}

// listVolumeZones answers Cinder's zones (those of its volume services).
func (c *call) listVolumeZones() *apiError {
	c.json(http.StatusOK, map[string]any{"availabilityZoneInfo": []map[string]any{
		{"zoneName": defaultZone, "zoneState": map[string]any{"available": true}},
	}})
	return nil
}
