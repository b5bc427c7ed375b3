package saml2

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/waldur-go/waldur/workflows"
)

// ProvidersSchedule reloads the IdPs from the configured metadata sources
// every hour (Waldur's sync_providers), and prunes expired requests and
// consumed assertion ids.
var ProvidersSchedule = workflows.Schedule{
	ID:        "waldur-saml2-providers",
	Cron:      "23 * * * *",
	Workflow:  SyncProviders,
	TaskQueue: workflows.QueueCore,
	Note:      "Reloads the SAML2 identity providers from WALDUR_SAML2_IDP_METADATA (files, URLs, federation aggregates).",
}

// SyncResult is what SyncProviders returns.
type SyncResult struct {
	// Sources is how many sources were read; Providers how many IdPs they
	// hold; Failed names the sources that could not be read (their IdPs
	// are kept as they were).
	Sources, Providers int
	Failed             []string
}

// Refresher is the activity side of SyncProviders.
type Refresher struct {
	Store   *Store
	Sources []string
	Log     *slog.Logger
	// CertFile, when set, holds the certificates every source must be
	// signed with (WALDUR_SAML2_METADATA_CERT_FILE); it is read at each
	// sync, so a rotated federation certificate is taken without a restart.
	CertFile string
}

// Register adds the workflow and its activities to a core worker.
func Register(w worker.Registry, r *Refresher) {
	w.RegisterWorkflow(SyncProviders)
	w.RegisterActivity(r)
}

// SyncProviders reloads every source and prunes the expired rows.
func SyncProviders(ctx workflow.Context) (SyncResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 20 * time.Minute,
		HeartbeatTimeout:    5 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    10 * time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    5 * time.Minute,
			MaximumAttempts:    3,
		},
	})
	var r *Refresher
	var out SyncResult
	if err := workflow.ExecuteActivity(ctx, r.SyncSAML2Providers).Get(ctx, &out); err != nil {
		return SyncResult{}, err
	}
	if err := workflow.ExecuteActivity(ctx, r.PruneSAML2).Get(ctx, nil); err != nil {
		return out, err
	}
	workflow.GetLogger(ctx).Info("SAML2 providers synced", "sources", out.Sources, "providers", out.Providers, "failed", out.Failed)
	return out, nil
}

// SyncSAML2Providers reads each source and makes its IdPs the stored
// ones. A source that cannot be read or parsed keeps its IdPs.
func (r *Refresher) SyncSAML2Providers(ctx context.Context) (SyncResult, error) {
	var out SyncResult
	for _, src := range r.Sources {
		n, err := r.SyncSource(ctx, src)
		if err != nil {
			r.log().Warn("SAML2 metadata source not loaded", "source", src, "err", err)
			out.Failed = append(out.Failed, src)
			continue
		}
		if activity.IsActivity(ctx) {
			activity.RecordHeartbeat(ctx, src)
		}
		out.Sources++
		out.Providers += n
	}
	if len(r.Sources) > 0 && out.Sources == 0 {
		return out, fmt.Errorf("no SAML2 metadata source could be loaded: %v", out.Failed)
	}
	return out, nil
}

// SyncSource loads one source; it returns how many IdPs it holds.
func (r *Refresher) SyncSource(ctx context.Context, src string) (int, error) {
	data, err := ReadSource(ctx, src)
	if err != nil {
		return 0, err
	}
	if r.CertFile != "" {
		certs, err := LoadMetadataCerts(r.CertFile)
		if err != nil {
			return 0, err
		}
		if data, err = VerifyMetadata(data, certs); err != nil {
			return 0, fmt.Errorf("%s: %w", src, err)
		}
	}
	ps, err := ParseIdPs(data)
	if err != nil {
		return 0, err
	}
	if len(ps) == 0 {
		return 0, fmt.Errorf("%s: no identity provider in it", src)
	}
	if _, _, err := r.Store.SyncProviders(ctx, src, ps); err != nil {
		return 0, err
	}
	return len(ps), nil
}

// PruneSAML2 deletes expired AuthnRequests and consumed assertion ids.
func (r *Refresher) PruneSAML2(ctx context.Context) error { return r.Store.Prune(ctx) }

func (r *Refresher) log() *slog.Logger {
	if r.Log == nil {
		return slog.Default()
	}
	return r.Log
}

// SyncAtStart runs the Schedule once now when metadata sources are
// configured, so a fresh deployment lists its IdPs without waiting for
// the hour (called by the process that ensures the Schedules).
func SyncAtStart(ctx context.Context, c client.Client, sources []string, log *slog.Logger) {
	if len(sources) == 0 || c == nil {
		return
	}
	if err := c.ScheduleClient().GetHandle(ctx, ProvidersSchedule.ID).Trigger(ctx, client.ScheduleTriggerOptions{}); err != nil {
		log.Warn("SAML2 providers not synced at start; the Schedule will", "err", err)
	}
}
