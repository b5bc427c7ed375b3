// Package openstacktest is an in-memory OpenStack cloud that speaks the real
// HTTP APIs, so gophercloud (and therefore the OpenStack provider) drives it
// exactly as it drives a real cloud. No real OpenStack can run in tests or on
// a laptop; this is the provider's test double that speaks its protocol.
//
// Services and their paths under the emulator's base URL:
//
//	/identity/v3 (also /v3)   Keystone v3: tokens (password and token methods), catalog,
//	                          domains, projects, users, roles, role assignments
//	/compute/v2.1             Nova: flavors, servers (+ actions, console output, remote
//	                          consoles), volume attachments, server groups, keypairs,
//	                          availability zones, quota sets, limits
//	/volume/v3/{project_id}   Cinder v3: volumes (+ os-extend), snapshots, backups (+ restore),
//	                          types, quota sets, limits
//	/network/v2.0             Neutron: networks, subnets, ports, routers (+ interfaces),
//	                          security groups and rules, floating IPs, quotas, extensions
//	/image/v2                 Glance v2: images (list and get)
//
// The catalog in every token points back at the base URL the client used (or
// Options.PublicURL), so one URL is all a client needs:
// http://HOST/identity/v3 with the admin credentials of Options.
//
// Asynchronous states: servers are BUILD and become ACTIVE (or ERROR, see
// Faults.ServerErrorRate) after Options.BuildDelay; volumes are creating and
// become available after Options.VolumeDelay, attaching → in-use, detaching →
// available, extending → available the same way; snapshots are creating and
// become available after Options.VolumeDelay too; a backup is creating for
// VolumeDelay while its volume (or snapshot) is backing-up, then available
// with the volume back to its status; a restore keeps the backup restoring
// and the target volume restoring-backup for VolumeDelay; start, stop, reboot
// and resize take Options.ActionDelay; deleted servers, volumes, snapshots and
// backups stay visible (task_state deleting / status deleting) for
// Options.DeleteDelay and then answer 404. Transitions are applied lazily, in
// time order, whenever the emulator is looked at (an API call or the Go
// inspection API), so no goroutine runs in the background.
//
// Faults (see Faults) are set with SetFaults or POST /_emulator/faults:
// a rate of injected 5xx answers (before the request takes effect by default,
// so a retried call is safe; after it with Faults.AfterEffect, like a lost
// response), added latency, and a rate of servers, volumes, snapshots or
// backups that end in ERROR. Decisions come from a random source seeded with
// Options.Seed, so a sequential test sees the same faults on every run.
//
// Inspection: the Go API (State, Servers, ServerGroups, Volumes, Snapshots,
// Backups, Counts, Created, Requests, Reset) and GET /_emulator/state,
// POST /_emulator/reset.
//
// The emulator keeps everything in memory behind one mutex; it is safe for
// concurrent use.
package openstacktest
