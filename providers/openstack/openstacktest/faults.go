package openstacktest

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Faults are the failures the emulator injects. The zero value injects none.
type Faults struct {
	// ErrorRate is the fraction (0..1) of API requests answered with Status
	// instead of being served. The version documents and /_emulator are never failed.
	ErrorRate float64 `json:"error_rate"`
	// Status of injected errors; 0 means 503.
	Status int `json:"status"`
	// AfterEffect: an injected error is answered after the request took
	// effect (the response is lost, as when a proxy times out), so a blind
	// retry of a create makes a second resource. By default the error comes
	// before any state change and a retry is safe.
	AfterEffect bool `json:"after_effect"`
	// LatencyMS is added to requests (SlowRate of them; all when SlowRate is 0).
	LatencyMS int `json:"latency_ms"`
	// SlowRate is the fraction of requests delayed by LatencyMS; 0 means every request.
	SlowRate float64 `json:"slow_rate"`
	// ServerErrorRate is the fraction of new servers that end in ERROR (with a fault) instead of ACTIVE.
	ServerErrorRate float64 `json:"server_error_rate"`
	// VolumeErrorRate is the fraction of new volumes that end in error instead of available.
	VolumeErrorRate float64 `json:"volume_error_rate"`
	// SnapshotErrorRate is the fraction of new volume snapshots that end in error instead of available.
	SnapshotErrorRate float64 `json:"snapshot_error_rate"`
	// BackupErrorRate is the fraction of new volume backups that end in error
	// (with a fail_reason) instead of available.
	BackupErrorRate float64 `json:"backup_error_rate"`
	// Services limits ErrorRate and latency to these services (identity,
	// compute, volume, network, image); empty means all.
	Services []string `json:"services,omitempty"`
	// Methods limits ErrorRate and latency to these HTTP methods; empty means all.
	Methods []string `json:"methods,omitempty"`
}

func (f Faults) status() int {
	if f.Status == 0 {
		return http.StatusServiceUnavailable
	}
	return f.Status
}

func (f Faults) validate() error {
	for _, r := range []float64{f.ErrorRate, f.SlowRate, f.ServerErrorRate, f.VolumeErrorRate, f.SnapshotErrorRate, f.BackupErrorRate} {
		if r < 0 || r > 1 {
			return fmt.Errorf("rates must be between 0 and 1")
		}
	}
	if f.Status != 0 && (f.Status < 400 || f.Status > 599) {
		return fmt.Errorf("status must be a 4xx or 5xx code")
	}
	if f.LatencyMS < 0 || f.LatencyMS > 600_000 {
		return fmt.Errorf("latency_ms must be between 0 and 600000")
	}
	for _, s := range f.Services {
		switch service(s) {
		case svcIdentity, svcCompute, svcVolume, svcNetwork, svcImage:
		default:
			return fmt.Errorf("unknown service %q", s)
		}
	}
	return nil
}

func (f Faults) applies(svc service, method string) bool {
	if len(f.Services) > 0 && !slices.Contains(f.Services, string(svc)) {
		return false
	}
	if len(f.Methods) > 0 && !slices.ContainsFunc(f.Methods, func(m string) bool { return strings.EqualFold(m, method) }) {
		return false
	}
	return true
}

// decision is what the faults decided for one request.
type decision struct {
	delay time.Duration
	fail  bool
	after bool
	code  int
}

// decide draws the faults of one request. It takes faultMu only, so a slow
// request does not hold the state lock while it sleeps.
func (e *Emulator) decide(svc service, method string) decision {
	e.faultMu.Lock()
	defer e.faultMu.Unlock()
	f := e.faults
	var d decision
	if !f.applies(svc, method) {
		return d
	}
	if f.LatencyMS > 0 && (f.SlowRate == 0 || e.faultRand.Float64() < f.SlowRate) {
		d.delay = time.Duration(f.LatencyMS) * time.Millisecond
	}
	if f.ErrorRate > 0 && e.faultRand.Float64() < f.ErrorRate {
		d.fail, d.after, d.code = true, f.AfterEffect, f.status()
	}
	return d
}

// draw reports whether an event of the given rate happens (server, volume, snapshot or backup ERROR).
func (e *Emulator) draw(rate func(Faults) float64) bool {
	e.faultMu.Lock()
	defer e.faultMu.Unlock()
	r := rate(e.faults)
	return r > 0 && e.faultRand.Float64() < r
}

// SetFaults replaces the injected faults. It returns an error for rates out
// of 0..1, a status that is not 4xx/5xx, or an unknown service.
func (e *Emulator) SetFaults(f Faults) error {
	if err := f.validate(); err != nil {
		return err
	}
	e.faultMu.Lock()
	defer e.faultMu.Unlock()
	e.faults = deepCopy(f)
	return nil
}

// Faults returns the injected faults.
func (e *Emulator) Faults() Faults {
	e.faultMu.Lock()
	defer e.faultMu.Unlock()
	return deepCopy(e.faults)
}

// Reseed restarts the fault decisions from the given seed.
func (e *Emulator) Reseed(seed uint64) {
	e.faultMu.Lock()
	defer e.faultMu.Unlock()
	e.faultRand = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}
