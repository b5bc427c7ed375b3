package openstack

import (
	"context"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/workflows"
)

// The tenants' migrations' workflow (Waldur's MigrationExecutor). The API
// made the destination tenant's Create order (its marketplace resource
// is the migration's dst) and the migration (CREATION_SCHEDULED);
// OpenStackMigration then marks it CREATING, waits for the order's
// resource (the new tenant with the source's quotas, its internal subnet at
// the mapped CIDR and the source's security groups), copies the source's
// other networks and their subnets (CIDRs mapped) into the new tenant in
// the cloud, pulls the new tenant, and ends OK; a destination that ends
// Erred or Terminated, or a copy that fails, ends it ERRED with the
// message.

// MigrationWorkflowID is the id of a migration's run.
func MigrationWorkflowID(id models.UUID) string { return "openstack-migration-" + id.String() }

// migrationPolicies are the migration's timings; tests shorten them.
var migrationPolicies = struct {
	Poll     time.Duration // between two reads of the destination's state
	Deadline time.Duration // the destination must be made within
}{Poll: 10 * time.Second, Deadline: 6 * time.Hour}

// MigrationCore holds the migrations' database activities (core queue).
type MigrationCore struct {
	Store *Store
}

// registerMigrations registers the workflow and the database activities
// on a core-queue worker.
func registerMigrations(w worker.Registry, a *MigrationCore) {
	w.RegisterWorkflow(OpenStackMigration)
	w.RegisterActivity(a)
}

// SetOpenStackMigrationStateInput is the input of SetOpenStackMigrationState.
type SetOpenStackMigrationStateInput struct {
	UUID    models.UUID
	State   models.CoreState
	Message string
}

// SetOpenStackMigrationState records the migration's state (Store.SetMigrationState).
func (a *MigrationCore) SetOpenStackMigrationState(ctx context.Context, in SetOpenStackMigrationStateInput) error {
	return activities.Classify(a.Store.SetMigrationState(ctx, in.UUID, in.State, in.Message))
}

// PendingOpenStackMigrations lists the migrations whose run was not
// started a minute after they were made (Store.PendingMigrations).
func (a *MigrationCore) PendingOpenStackMigrations(ctx context.Context) ([]models.UUID, error) {
	ids, err := a.Store.PendingMigrations(ctx, a.Store.Now().Add(-time.Minute))
	return ids, activities.Classify(err)
}

// startPendingMigrations starts, as children that outlive the caller (the
// actions' dispatcher), the runs of the migrations nobody started; a run
// going already keeps going.
func startPendingMigrations(ctx workflow.Context) int {
	var core *MigrationCore
	var ids []models.UUID
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, actionPolicies.DB), core.PendingOpenStackMigrations).Get(ctx, &ids); err != nil {
		workflow.GetLogger(ctx).Warn("listing the OpenStack migrations to start failed", "error", err)
		return 0
	}
	started := 0
	for _, id := range ids {
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowID: MigrationWorkflowID(id), TaskQueue: workflows.QueueCore,
			ParentClosePolicy: enumspb.PARENT_CLOSE_POLICY_ABANDON})
		if err := workflow.ExecuteChildWorkflow(cctx, OpenStackMigration, id).GetChildWorkflowExecution().Get(ctx, nil); err != nil {
			continue // running already, or to be tried at the next dispatch
		}
		started++
	}
	return started
}

// OpenStackMigrationProgress reads the migration's progress (Store.MigrationProgressOf).
func (a *MigrationCore) OpenStackMigrationProgress(ctx context.Context, id models.UUID) (MigrationProgress, error) {
	p, err := a.Store.MigrationProgressOf(ctx, id)
	return p, activities.Classify(err)
}

// OpenStackMigration runs one migration (see above). Every step is
// idempotent: a worker killed at any point resumes without doing twice.
func OpenStackMigration(ctx workflow.Context, id models.UUID) error {
	dbCtx := workflow.WithActivityOptions(ctx, actionPolicies.DB)
	cloudCtx := workflow.WithActivityOptions(ctx, actionPolicies.Cloud)
	var core *MigrationCore
	var backend *MigrationBackend
	var pull *PullBackend
	var pullCore *PullCore
	set := func(state models.CoreState, msg string) error {
		return workflow.ExecuteActivity(dbCtx, core.SetOpenStackMigrationState,
			SetOpenStackMigrationStateInput{UUID: id, State: state, Message: msg}).Get(ctx, nil)
	}
	if err := set(models.CoreCreating, ""); err != nil {
		return err
	}
	deadline := workflow.Now(ctx).Add(migrationPolicies.Deadline)
	var p MigrationProgress
	for {
		if err := workflow.ExecuteActivity(dbCtx, core.OpenStackMigrationProgress, id).Get(ctx, &p); err != nil {
			return err
		}
		if p.Gone {
			return nil // deleted meanwhile
		}
		switch p.DstState {
		case models.ResourceErred, models.ResourceTerminated, models.ResourceTerminating:
			return set(models.CoreErred, firstNonEmpty(p.DstError, fmt.Sprintf("The destination tenant is %s.", p.DstState)))
		}
		if p.Target != nil {
			break
		}
		if workflow.Now(ctx).After(deadline) {
			return set(models.CoreErred, "The destination tenant was not created in time.")
		}
		if err := workflow.Sleep(ctx, migrationPolicies.Poll); err != nil {
			return err
		}
	}
	fail := func(err error) error {
		msg, _ := workflows.FailureOf(err)
		return set(models.CoreErred, msg)
	}
	if len(p.Networks) > 0 {
		err := workflow.ExecuteActivity(cloudCtx, backend.CopyOpenStackNetworks, CopyOpenStackNetworksInput{
			SecretOptions: p.Target.SecretOptions, ProjectID: p.Target.BackendID, Networks: p.Networks}).Get(ctx, nil)
		if err != nil {
			return fail(err)
		}
	}
	var snap Snapshot
	if err := workflow.ExecuteActivity(cloudCtx, pull.PullOpenStackTenant,
		PullOpenStackTenantInput{SecretOptions: p.Target.SecretOptions, BackendID: p.Target.BackendID}).Get(ctx, &snap); err != nil {
		return fail(err)
	}
	if err := workflow.ExecuteActivity(dbCtx, pullCore.ApplyOpenStackSnapshot,
		ApplyOpenStackSnapshotInput{TenantUUID: p.Target.UUID, Snapshot: snap}).Get(ctx, nil); err != nil {
		return fail(err)
	}
	return set(models.CoreOK, "")
}

// startMigration starts a migration's run; one already running keeps going.
func startMigration(ctx context.Context, tc client.Client, id models.UUID) error {
	if tc == nil {
		return fmt.Errorf("no Temporal client")
	}
	_, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: MigrationWorkflowID(id), TaskQueue: workflows.QueueCore}, OpenStackMigration, id)
	if temporal.IsWorkflowExecutionAlreadyStartedError(err) {
		return nil
	}
	return err
}
