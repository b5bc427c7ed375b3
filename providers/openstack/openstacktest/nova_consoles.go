package openstacktest

import (
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// Server consoles: POST /servers/{id}/remote-consoles (microversion 2.6 and
// later) and the os-getConsoleOutput action.

// consoleTypes maps each console protocol the request schema knows to the
// one type Nova serves it with; enabled tells whether the emulated cloud has
// the console turned on (VNC, SPICE and serial; RDP and MKS are not, as in a
// libvirt cloud).
var consoleTypes = map[string]struct {
	typ     string
	enabled bool
	minMV   int
}{
	"vnc":    {"novnc", true, 6},
	"spice":  {"spice-html5", true, 6},
	"serial": {"serial", true, 6},
	"rdp":    {"rdp-html5", false, 6},
	"mks":    {"webmks", false, 8},
}

// schemaConsoleTypes are the types the request schema accepts at a microversion.
func schemaConsoleTypes(mv int) []string {
	t := []string{"novnc", "xvpvnc", "rdp-html5", "spice-html5", "serial"}
	if mv >= 8 {
		t = append(t, "webmks")
	}
	return t
}

// serverHasHost tells whether a server was ever scheduled to a host: not when
// it is still building or its build failed (Nova's check_instance_host).
func serverHasHost(sv *Server) bool { return !sv.LaunchedAt.IsZero() }

// createRemoteConsole answers a console URL with a fresh token, as Nova's
// remote-consoles API does. Errors as Nova's: 404 below 2.6 (the method does
// not exist there), 400 for a protocol or type outside the schema, a type
// that does not go with the protocol (ConsoleTypeInvalid) or a console the
// cloud has not enabled (ConsoleTypeUnavailable), 409 for a server without a
// host yet (InstanceNotReady).
func (c *call) createRemoteConsole() *apiError {
	if !c.novaAtLeast(6) {
		return errf(http.StatusNotFound, "API version 2.%d is not supported on this method.", c.mv)
	}
	sv, err := c.server(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	var b struct {
		RemoteConsole map[string]json.RawMessage `json:"remote_console"`
	}
	if err := c.decode(&b); err != nil {
		return err
	}
	in := b.RemoteConsole
	if in == nil {
		return schemaError("remote_console", nil, "'remote_console' is a required property")
	}
	for k := range in {
		if k != "protocol" && k != "type" {
			return schemaError("remote_console", in, "Additional properties are not allowed ('%s' was unexpected)", k)
		}
	}
	var protocol, typ string
	for _, f := range []struct {
		key string
		dst *string
	}{{"protocol", &protocol}, {"type", &typ}} {
		raw, ok := in[f.key]
		if !ok {
			return schemaError("remote_console", in, "'%s' is a required property", f.key)
		}
		if json.Unmarshal(raw, f.dst) != nil {
			return schemaError(f.key, raw, "%s is not of type 'string'", raw)
		}
	}
	ct, known := consoleTypes[protocol]
	if !known || c.mv < ct.minMV {
		var protocols []string
		for _, p := range slices.Sorted(maps.Keys(consoleTypes)) {
			if c.mv >= consoleTypes[p].minMV {
				protocols = append(protocols, p)
			}
		}
		return schemaError("protocol", protocol, "'%s' is not one of %s", protocol, pyList(protocols))
	}
	if types := schemaConsoleTypes(c.mv); !slices.Contains(types, typ) {
		return schemaError("type", typ, "'%s' is not one of %s", typ, pyList(types))
	}
	if !serverHasHost(sv) || sv.Deleting {
		return errf(http.StatusConflict, "Instance %s is not ready.", sv.ID)
	}
	if !ct.enabled {
		return errf(http.StatusBadRequest, "Unavailable console type %s.", typ)
	}
	if typ != ct.typ {
		return errf(http.StatusBadRequest, "Invalid console type %s", typ)
	}
	c.json(http.StatusOK, map[string]any{"remote_console": map[string]any{
		"protocol": protocol, "type": typ, "url": c.consoleURL(typ, uuid.NewString()),
	}})
	return nil
}

// consoleURL is the access URL of a console proxy on the emulator's host, in
// Nova's forms: noVNC passes the token in its path parameter, the others in
// the token parameter.
func (c *call) consoleURL(typ, token string) string {
	host := c.r.Host
	if u, err := url.Parse(c.base()); err == nil && u.Host != "" {
		host = u.Host
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	switch typ {
	case "novnc":
		return "http://" + host + ":6080/vnc_lite.html?" + url.Values{"path": {"?token=" + token}}.Encode()
	case "spice-html5":
		return "http://" + host + ":6082/spice_auto.html?token=" + token
	default: // serial
		return "ws://" + host + ":6083/?token=" + token
	}
}

// consoleOutput serves the os-getConsoleOutput action: the server's boot
// log, its last length lines when length is given (a number or its string
// form; 0: nothing; -1 or absent: all). 409 before the server has a host.
func (c *call) consoleOutput(sv *Server, arg any) *apiError {
	argMap, ok := arg.(map[string]any)
	if !ok && arg != nil {
		return schemaError("os-getConsoleOutput", arg, "%v is not of type 'object'", arg)
	}
	length := -1
	for k, v := range argMap {
		if k != "length" {
			return schemaError("os-getConsoleOutput", argMap, "Additional properties are not allowed ('%s' was unexpected)", k)
		}
		switch t := v.(type) {
		case nil:
		case float64:
			if t != float64(int(t)) || t < -1 {
				return schemaError("length", t, "%v is not a valid length", t)
			}
			length = int(t)
		case string:
			n, err := strconv.Atoi(t)
			if err != nil || n < -1 {
				return schemaError("length", t, "'%s' does not match '^-?[0-9]+$'", t)
			}
			length = n
		default:
			return schemaError("length", t, "%v is not of type 'integer', 'string', 'null'", t)
		}
	}
	if !serverHasHost(sv) {
		return errf(http.StatusConflict, "Instance %s is not ready.", sv.ID)
	}
	lines := []string{
		"[    0.000000] Linux version 6.1.0 (emulated by the OpenStack emulator)",
		"[    0.000000] Command line: root=LABEL=cloudimg-rootfs ro console=tty1 console=ttyS0",
		fmt.Sprintf("[    2.104512] cloud-init[412]: Cloud-init v. 23.4 running 'init' at %s.", sv.LaunchedAt.UTC().Format("Mon, 02 Jan 2006 15:04:05 +0000")),
		fmt.Sprintf("[    3.200101] cloud-init[412]: ci-info: instance %s", sv.ID),
		"",
		sv.Name + " login: ",
	}
	switch {
	case length == 0:
		lines = nil
	case length > 0 && length < len(lines):
		lines = lines[len(lines)-length:]
	}
	c.json(http.StatusOK, map[string]any{"output": strings.Join(lines, "\n")})
	return nil
}
