package openstacktest

import (
	"fmt"
	"net/http"
)

// Microversions the emulator claims. Behaviour that differs by microversion
// and is emulated: Nova ≥ 2.6 has remote consoles (≥ 2.8 the mks protocol),
// ≥ 2.13 shows a server group's project and user, ≥ 2.15 knows the soft
// affinity policies, ≥ 2.47 embeds the flavor in a server, ≥ 2.64 gives a
// server group one policy and rules instead of policies, ≥ 2.71 shows a
// server's groups, ≥ 2.75 renders swap as a number; Cinder ≥ 3.14 and 3.41
// add group_snapshot_id and user_id to snapshots, ≥ 3.18 shows admins a
// backup's project, ≥ 3.42 extends in-use volumes, ≥ 3.43 and 3.56 add
// metadata and user_id to backups (≥ 3.51 takes their availability zone).
// Other microversion differences are not emulated.
const (
	novaMaxMinor   = 79 // 2.79
	cinderMaxMinor = 60 // 3.60
)

// versionRoutes serve the version discovery documents gophercloud reads to
// pick an endpoint (no token, no faults).
func (e *Emulator) versionRoutes() {
	keystoneVersions := func(c *call) *apiError {
		c.json(http.StatusMultipleChoices, map[string]any{"versions": map[string]any{"values": []any{c.keystoneVersion()}}})
		return nil
	}
	keystoneVersion := func(c *call) *apiError {
		c.json(http.StatusOK, map[string]any{"version": c.keystoneVersion()})
		return nil
	}
	e.handle("GET /{$}", svcIdentity, static, keystoneVersions)
	e.handle("GET /identity", svcIdentity, static, keystoneVersions)
	e.handle("GET /identity/{$}", svcIdentity, static, keystoneVersions)
	for _, p := range []string{"/v3", "/v3/{$}", "/identity/v3", "/identity/v3/{$}"} {
		e.handle("GET "+p, svcIdentity, static, keystoneVersion)
	}

	novaVersions := func(c *call) *apiError {
		c.json(http.StatusOK, map[string]any{"versions": []any{c.novaVersion()}})
		return nil
	}
	e.handle("GET /compute", svcCompute, static, novaVersions)
	e.handle("GET /compute/{$}", svcCompute, static, novaVersions)
	for _, p := range []string{"/compute/v2.1", "/compute/v2.1/{$}"} {
		e.handle("GET "+p, svcCompute, static, func(c *call) *apiError {
			c.json(http.StatusOK, map[string]any{"version": c.novaVersion()})
			return nil
		})
	}

	cinderVersions := func(c *call) *apiError {
		c.json(http.StatusOK, map[string]any{"versions": []any{c.cinderVersion()}})
		return nil
	}
	for _, p := range []string{"/volume", "/volume/{$}", "/volume/v3", "/volume/v3/{$}", "/volume/v3/{project}/{$}"} {
		e.handle("GET "+p, svcVolume, static, cinderVersions)
	}

	neutronVersions := func(c *call) *apiError {
		c.json(http.StatusOK, map[string]any{"versions": []any{map[string]any{"id": "v2.0", "status": "CURRENT",
			"links": []any{map[string]any{"rel": "self", "href": c.base() + "/network/v2.0/"}}}}})
		return nil
	}
	e.handle("GET /network", svcNetwork, static, neutronVersions)
	e.handle("GET /network/{$}", svcNetwork, static, neutronVersions)
	e.handle("GET /network/v2.0/{$}", svcNetwork, static, func(c *call) *apiError {
		var res []any
		for _, r := range []string{"network", "subnet", "port", "router", "floatingip", "security_group", "security_group_rule", "quota"} {
			res = append(res, map[string]any{"name": r, "collection": r + "s",
				"links": []any{map[string]any{"rel": "self", "href": c.base() + "/network/v2.0/" + r + "s"}}})
		}
		c.json(http.StatusOK, map[string]any{"resources": res})
		return nil
	})

	glanceVersions := func(c *call) *apiError {
		var vs []any
		for i, id := range []string{"v2.16", "v2.15", "v2.9", "v2.0"} {
			status := "SUPPORTED"
			if i == 0 {
				status = "CURRENT"
			}
			vs = append(vs, map[string]any{"id": id, "status": status,
				"links": []any{map[string]any{"rel": "self", "href": c.base() + "/image/v2/"}}})
		}
		c.json(http.StatusOK, map[string]any{"versions": vs})
		return nil
	}
	e.handle("GET /image", svcImage, static, glanceVersions)
	e.handle("GET /image/{$}", svcImage, static, glanceVersions)
	e.handle("GET /image/versions", svcImage, static, glanceVersions)
}

func (c *call) keystoneVersion() map[string]any {
	return map[string]any{"id": "v3.14", "status": "stable", "updated": "2020-04-07T00:00:00Z",
		"links":       []any{map[string]any{"rel": "self", "href": c.base() + "/identity/v3/"}},
		"media-types": []any{map[string]any{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}}}
}

func (c *call) novaVersion() map[string]any {
	return map[string]any{"id": "v2.1", "status": "CURRENT", "version": fmt.Sprintf("2.%d", novaMaxMinor), "min_version": "2.1",
		"updated": "2013-07-23T11:33:21Z", "links": []any{map[string]any{"rel": "self", "href": c.base() + "/compute/v2.1/"}}}
}

func (c *call) cinderVersion() map[string]any {
	return map[string]any{"id": "v3.0", "status": "CURRENT", "version": fmt.Sprintf("3.%d", cinderMaxMinor), "min_version": "3.0",
		"updated": "2023-08-31T00:00:00Z", "links": []any{map[string]any{"rel": "self", "href": c.base() + "/volume/v3/"}}}
}
