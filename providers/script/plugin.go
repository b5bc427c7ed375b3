package script

import (
	"context"
	"log/slog"
	"time"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/providers"
)

// Plugin is the Script integration: Marketplace.Script offerings run by
// Provider (its sandbox and limits as configured). It has no tables, routes
// or jobs of its own.
type Plugin struct {
	Provider Provider
}

// Name implements plugin.Plugin.
func (Plugin) Name() string { return Queue }

// Providers implements plugin.Plugin.
func (p Plugin) Providers(r *providers.Registry) { RegisterProvider(r, p.Provider) }

// FromConfig is the provider as configured: its sandbox, network, limits
// and images (WALDUR_SCRIPT_*).
func FromConfig(cfg config.Config) Provider {
	mode, err := ParseMode(cfg.ScriptRunMode)
	if err != nil {
		mode = ModeBwrap // Validate refuses it before anything runs
	}
	network, err := ParseNetwork(cfg.ScriptNetwork)
	if err != nil {
		network = NetworkIsolated
	}
	return Provider{
		Timeout: cfg.ScriptTimeout,
		Sandbox: Sandbox{
			Mode: mode,
			Limits: Limits{
				CPUTime:   cfg.ScriptCPUTime,
				Memory:    int64(cfg.ScriptMemoryMB) << 20,
				Processes: cfg.ScriptProcesses,
				Output:    int64(cfg.ScriptOutputMB) << 20,
				FileSize:  int64(cfg.ScriptFileMB) << 20,
			},
			Images:  cfg.ScriptImages,
			Network: network,
		},
	}
}

// CheckStartup implements plugin.Checker: a process that runs Script
// orders warns once when they run unsandboxed (WALDUR_SCRIPT_RUN_MODE=none)
// or share its network, and logs an error when the sandbox cannot start
// here (every Script order would then fail, saying so).
func (p Plugin) CheckStartup(ctx context.Context, log *slog.Logger) {
	sb := p.Provider.Sandbox
	if sb.mode() == ModeNone {
		log.Warn("Script offerings run WITHOUT a sandbox: their scripts run as this process's user, with its files and network ("+
			config.EnvScriptRunMode+"=none). Set it to bwrap, docker or podman unless this worker is isolated otherwise.",
			"mode", ModeNone)
		return
	}
	if sb.mode() == ModeBwrap && sb.network() == NetworkHost {
		log.Warn("Script offerings share this machine's network ("+config.EnvScriptNetwork+"=host): their scripts reach "+
			"every service listening on its loopback (Temporal, the database). Prefer isolated.", "network", NetworkHost)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := sb.Check(ctx); err != nil {
		log.Error("Script offerings cannot run: their orders will fail until the sandbox works (install bubblewrap and "+
			"slirp4netns, or set "+config.EnvScriptRunMode+" / "+config.EnvScriptNetwork+")", "mode", sb.mode(), "error", err)
	}
}
