package policies

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/shopspring/decimal"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// The SLURM policy's own routes: its evaluation logs and the site agent's
// command history, a dry run and an evaluation on demand (staff), the
// agent's report of the commands it ran, and a preview of a policy's
// thresholds.

// notificationRatio is the share of the effective allocation from which
// the preview reports the notification level (Waldur's 80 %).
const notificationRatio = 0.8

// EvaluationLog is an evaluation of a SLURM policy that acted on a resource.
type EvaluationLog struct {
	ID                   int64 `gorm:"primaryKey"`
	UUID                 models.UUID
	PolicyID             int64
	ResourceID           int64
	BillingPeriod        string
	UsagePercentage      float64
	GraceLimitPercentage float64
	ActionsTaken         []byte
	PreviousState        []byte
	NewState             []byte
	SiteAgentConfirmed   *bool
	SiteAgentResponse    []byte
	EvaluatedAt          time.Time
}

// TableName is the logs' table.
func (EvaluationLog) TableName() string { return "marketplace_policy_evaluation_logs" }

// Command is a command the site agent reports running for a SLURM policy.
type Command struct {
	ID            int64 `gorm:"primaryKey"`
	UUID          models.UUID
	PolicyID      int64
	ResourceID    *int64
	CommandType   string
	Description   string
	ShellCommand  string
	Parameters    []byte
	ExecutionMode string
	Success       bool
	ErrorMessage  string
	ExecutedAt    time.Time
}

// TableName is the commands' table.
func (Command) TableName() string { return "marketplace_policy_commands" }

func graceLimit(p *Policy) float64 {
	return math.Round((1+p.Slurm().GraceRatio)*10000) / 100
}

// writeLogs logs the resources a SLURM evaluation acted on.
func writeLogs(ctx context.Context, tx *store.Store, p *Policy, per Period, rs []*ResourceOutcome, now time.Time) error {
	if p.Kind != KindSlurm {
		return nil
	}
	for _, r := range rs {
		if len(r.Actions) == 0 {
			continue
		}
		acts, _ := json.Marshal(r.Actions)
		before, _ := json.Marshal(r.Before)
		after, _ := json.Marshal(r.After)
		l := EvaluationLog{UUID: models.NewUUID(), PolicyID: p.ID, ResourceID: r.ID, BillingPeriod: per.Key, UsagePercentage: r.UsagePercentage,
			GraceLimitPercentage: graceLimit(p), ActionsTaken: acts, PreviousState: before, NewState: after, EvaluatedAt: now}
		if err := tx.DB.WithContext(ctx).Create(&l).Error; err != nil {
			return models.Internal(err)
		}
	}
	return nil
}

// slurmRoutes registers the SLURM policy's own routes.
func (m *Module) slurmRoutes(a *gin.RouterGroup) {
	get := []string{http.MethodGet, http.MethodHead}
	g := a.Group("/marketplace-slurm-periodic-usage-policies", api.RequireUser)
	g.POST("/preview_impact/", api.H(m.previewImpact))
	g.Match(get, "/:uuid/evaluation-logs/", api.H(m.evaluationLogs))
	g.Match(get, "/:uuid/command-history/", api.H(m.commandHistory))
	g.POST("/:uuid/dry-run/", api.H(m.dryRun))
	g.POST("/:uuid/evaluate/", api.H(m.evaluateNow))
	g.POST("/:uuid/report-command-result/", api.H(m.reportCommandResult))
}

func slurmFamily() family { return families[4] }

// SlurmPolicyEvaluationLog is Waldur's SlurmPolicyEvaluationLog.
type SlurmPolicyEvaluationLog struct {
	UUID                 string          `json:"uuid"`
	ResourceUUID         string          `json:"resource_uuid"`
	ResourceName         string          `json:"resource_name"`
	BillingPeriod        string          `json:"billing_period" example:"2026-Q4"`
	UsagePercentage      float64         `json:"usage_percentage"`
	GraceLimitPercentage float64         `json:"grace_limit_percentage" example:"120"`
	ActionsTaken         json.RawMessage `json:"actions_taken" swaggertype:"array,string"`
	PreviousState        json.RawMessage `json:"previous_state" swaggertype:"object"`
	NewState             json.RawMessage `json:"new_state" swaggertype:"object"`
	StompMessageSent     bool            `json:"stomp_message_sent"`
	SiteAgentConfirmed   *bool           `json:"site_agent_confirmed"`
	SiteAgentResponse    json.RawMessage `json:"site_agent_response" swaggertype:"object"`
	EvaluatedAt          time.Time       `json:"evaluated_at"`
}

type logRow struct {
	EvaluationLog
	ResourceUUID models.UUID
	ResourceName string
}

func rawOr(b []byte, def string) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage(def)
	}
	return json.RawMessage(b)
}

// evaluationLogs godoc
//
//	@Summary		List a SLURM policy's evaluation logs
//	@Description	The evaluations that acted on a resource (notify, downscale, pause, lift), newest first: the usage percentage of the effective allocation, the flags before and after, and whether the site agent confirmed the commands it ran (report-command-result). Seen by who sees the policy.
//	@Tags			marketplace-slurm-periodic-usage-policies
//	@Produce		json
//	@Param			uuid		path	string	true	"Policy UUID"
//	@Param			page		query	int		false	"Page"
//	@Param			page_size	query	int		false	"Page size"
//	@Success		200	{array}	SlurmPolicyEvaluationLog
//	@Router			/api/marketplace-slurm-periodic-usage-policies/{uuid}/evaluation-logs/ [get]
func (m *Module) evaluationLogs(c *gin.Context) error {
	p, err := m.visible(c, slurmFamily())
	if err != nil {
		return err
	}
	q := m.st.DB.WithContext(c.Request.Context()).Table("marketplace_policy_evaluation_logs l").
		Select("l.*, r.uuid AS resource_uuid, r.name AS resource_name").Joins("JOIN resources r ON r.id = l.resource_id").
		Where("l.policy_id = ?", p.ID)
	spec := rest.ListSpec{Ordering: map[string]string{"evaluated_at": "l.evaluated_at", "id": "l.id"},
		DefaultOrdering: []string{"-evaluated_at", "-id"}, TieBreaker: "l.id"}
	return rest.List(c, store.QueryOf(q), spec, func(r *logRow) SlurmPolicyEvaluationLog {
		return SlurmPolicyEvaluationLog{UUID: r.UUID.String(), ResourceUUID: r.ResourceUUID.String(), ResourceName: r.ResourceName,
			BillingPeriod: r.BillingPeriod, UsagePercentage: r.UsagePercentage, GraceLimitPercentage: r.GraceLimitPercentage,
			ActionsTaken: rawOr(r.ActionsTaken, "[]"), PreviousState: rawOr(r.PreviousState, "{}"), NewState: rawOr(r.NewState, "{}"),
			SiteAgentConfirmed: r.SiteAgentConfirmed, SiteAgentResponse: rawOr(r.SiteAgentResponse, "null"), EvaluatedAt: r.EvaluatedAt}
	})
}

// SlurmCommandHistory is Waldur's SlurmCommandHistory.
type SlurmCommandHistory struct {
	UUID          string          `json:"uuid"`
	CommandType   string          `json:"command_type"`
	Description   string          `json:"description"`
	ShellCommand  string          `json:"shell_command"`
	Parameters    json.RawMessage `json:"parameters" swaggertype:"object"`
	ExecutedAt    time.Time       `json:"executed_at"`
	ExecutionMode string          `json:"execution_mode" enums:"production,emulator"`
	Success       bool            `json:"success"`
	ErrorMessage  string          `json:"error_message"`
}

// commandHistory godoc
//
//	@Summary		List the commands the site agent ran for a SLURM policy
//	@Description	What the site agent reported running (report-command-result), newest first. Seen by who sees the policy.
//	@Tags			marketplace-slurm-periodic-usage-policies
//	@Produce		json
//	@Param			uuid		path	string	true	"Policy UUID"
//	@Param			page		query	int		false	"Page"
//	@Param			page_size	query	int		false	"Page size"
//	@Success		200	{array}	SlurmCommandHistory
//	@Router			/api/marketplace-slurm-periodic-usage-policies/{uuid}/command-history/ [get]
func (m *Module) commandHistory(c *gin.Context) error {
	p, err := m.visible(c, slurmFamily())
	if err != nil {
		return err
	}
	q := m.st.DB.WithContext(c.Request.Context()).Model(&Command{}).Where("policy_id = ?", p.ID)
	spec := rest.ListSpec{Ordering: map[string]string{"executed_at": "executed_at", "id": "id"}, DefaultOrdering: []string{"-executed_at", "-id"}}
	return rest.List(c, store.QueryOf(q), spec, func(r *Command) SlurmCommandHistory {
		return SlurmCommandHistory{UUID: r.UUID.String(), CommandType: r.CommandType, Description: r.Description, ShellCommand: r.ShellCommand,
			Parameters: rawOr(r.Parameters, "{}"), ExecutedAt: r.ExecutedAt, ExecutionMode: r.ExecutionMode, Success: r.Success, ErrorMessage: r.ErrorMessage}
	})
}

// staffPolicy is the SLURM policy of the path for a staff action: 404
// when the caller does not see it, 403 when not staff; and the request's
// resource_uuid (nil: every resource). Codes: invalid.
func (m *Module) staffPolicy(c *gin.Context) (*Policy, *models.UUID, error) {
	p, err := m.visible(c, slurmFamily())
	if err != nil {
		return nil, nil, err
	}
	if u := api.CurrentUser(c); u == nil || !u.IsStaff {
		return nil, nil, api.Forbidden()
	}
	var rid *models.UUID
	if c.Request.ContentLength != 0 {
		f, err := form.Read(c)
		if err != nil {
			return nil, nil, err
		}
		if f.Has("resource_uuid") && !f.IsNull("resource_uuid") {
			if id, ok := f.UUID("resource_uuid"); ok {
				rid = &id
			}
		}
		if err := f.Err(); err != nil {
			return nil, nil, err
		}
	}
	return p, rid, nil
}

// SlurmPolicyDryRunResource is Waldur's SlurmPolicyDryRunResource.
type SlurmPolicyDryRunResource struct {
	ResourceUUID    string   `json:"resource_uuid"`
	ResourceName    string   `json:"resource_name"`
	UsagePercentage float64  `json:"usage_percentage"`
	Paused          bool     `json:"paused"`
	Downscaled      bool     `json:"downscaled"`
	WouldTrigger    []string `json:"would_trigger"`
}

// SlurmPolicyDryRunResponse is Waldur's SlurmPolicyDryRunResponse.
type SlurmPolicyDryRunResponse struct {
	PolicyUUID           string                      `json:"policy_uuid"`
	BillingPeriod        string                      `json:"billing_period"`
	GraceLimitPercentage float64                     `json:"grace_limit_percentage"`
	Resources            []SlurmPolicyDryRunResource `json:"resources"`
}

// SlurmPolicyEvaluateRequest is the body of dry-run and evaluate.
type SlurmPolicyEvaluateRequest struct {
	ResourceUUID *string `json:"resource_uuid"`
}

// dryRun godoc
//
//	@Summary		Dry-run a SLURM policy
//	@Description	Staff only. The usage percentage of each live resource of the offering (or of resource_uuid) and what its level would trigger (notify, downscale, pause), with its flags now; nothing is changed.
//	@Tags			marketplace-slurm-periodic-usage-policies
//	@Accept			json
//	@Produce		json
//	@Param			uuid	path	string						true	"Policy UUID"
//	@Param			body	body	SlurmPolicyEvaluateRequest	false	"One resource"
//	@Success		200	{object}	SlurmPolicyDryRunResponse
//	@Failure		403	{object}	api.ErrorBody
//	@Router			/api/marketplace-slurm-periodic-usage-policies/{uuid}/dry-run/ [post]
func (m *Module) dryRun(c *gin.Context) error {
	p, rid, err := m.staffPolicy(c)
	if err != nil {
		return err
	}
	per := PeriodOf(p.Period, m.eval.now())
	rs, err := m.eval.slurmResources(c.Request.Context(), p, per)
	if err != nil {
		return err
	}
	byID := map[int64]*ResourceOutcome{}
	for _, r := range rs {
		byID[r.ID] = r
	}
	if err := readFlags(c.Request.Context(), m.st, byID, func(r *ResourceOutcome) *Flags { return &r.Before }); err != nil {
		return err
	}
	out := SlurmPolicyDryRunResponse{PolicyUUID: p.UUID.String(), BillingPeriod: per.Key, GraceLimitPercentage: graceLimit(p),
		Resources: []SlurmPolicyDryRunResource{}}
	notify := hasAction(p, ActNotifyOwners) || hasAction(p, ActNotifyExternal)
	for _, r := range rs {
		if rid != nil && r.UUID != *rid {
			continue
		}
		would := []string{}
		if r.Level != "" && notify {
			would = append(would, "notify")
		}
		if (r.Level == levelDownscale || r.Level == levelPause) && hasAction(p, ActSlurmDownscale) {
			would = append(would, levelDownscale)
		}
		if r.Level == levelPause && hasAction(p, ActSlurmPause) {
			would = append(would, levelPause)
		}
		out.Resources = append(out.Resources, SlurmPolicyDryRunResource{ResourceUUID: r.UUID.String(), ResourceName: r.Name,
			UsagePercentage: r.UsagePercentage, Paused: r.Before.Paused, Downscaled: r.Before.Downscaled, WouldTrigger: would})
	}
	c.JSON(http.StatusOK, out)
	return nil
}

// SlurmPolicyEvaluateResource is Waldur's SlurmPolicyEvaluateResource.
type SlurmPolicyEvaluateResource struct {
	ResourceUUID    string   `json:"resource_uuid"`
	ResourceName    string   `json:"resource_name"`
	UsagePercentage float64  `json:"usage_percentage"`
	ActionsTaken    []string `json:"actions_taken"`
	PreviousState   Flags    `json:"previous_state"`
	NewState        Flags    `json:"new_state"`
}

// SlurmPolicyEvaluateResponse is Waldur's SlurmPolicyEvaluateResponse.
type SlurmPolicyEvaluateResponse struct {
	PolicyUUID    string                        `json:"policy_uuid"`
	BillingPeriod string                        `json:"billing_period"`
	Resources     []SlurmPolicyEvaluateResource `json:"resources"`
}

// evaluateNow godoc
//
//	@Summary		Evaluate a SLURM policy now
//	@Description	Staff only. Runs the policy's evaluation at once, as the schedule does (crossings fired once, flags set and lifted, evaluation logs written), and answers each live resource's (or resource_uuid's) usage percentage, the actions taken and its flags before and after.
//	@Tags			marketplace-slurm-periodic-usage-policies
//	@Accept			json
//	@Produce		json
//	@Param			uuid	path	string						true	"Policy UUID"
//	@Param			body	body	SlurmPolicyEvaluateRequest	false	"One resource"
//	@Success		200	{object}	SlurmPolicyEvaluateResponse
//	@Failure		403	{object}	api.ErrorBody
//	@Router			/api/marketplace-slurm-periodic-usage-policies/{uuid}/evaluate/ [post]
func (m *Module) evaluateNow(c *gin.Context) error {
	p, rid, err := m.staffPolicy(c)
	if err != nil {
		return err
	}
	o, err := m.eval.EvaluateOutcome(c.Request.Context(), p)
	if err != nil {
		return err
	}
	out := SlurmPolicyEvaluateResponse{PolicyUUID: p.UUID.String(), BillingPeriod: o.Period.Key, Resources: []SlurmPolicyEvaluateResource{}}
	for _, r := range o.Resources {
		if rid != nil && r.UUID != *rid {
			continue
		}
		out.Resources = append(out.Resources, SlurmPolicyEvaluateResource{ResourceUUID: r.UUID.String(), ResourceName: r.Name,
			UsagePercentage: r.UsagePercentage, ActionsTaken: r.Actions, PreviousState: r.Before, NewState: r.After})
	}
	c.JSON(http.StatusOK, out)
	return nil
}

// SlurmCommandResultRequest is the site agent's report.
type SlurmCommandResultRequest struct {
	ResourceUUID     string   `json:"resource_uuid"`
	Success          bool     `json:"success"`
	ErrorMessage     string   `json:"error_message"`
	Mode             string   `json:"mode" enums:"production,emulator"`
	CommandsExecuted []string `json:"commands_executed"`
}

// reportCommandResult godoc
//
//	@Summary		Report the commands the site agent ran for a SLURM policy
//	@Description	The site agent reports applying a resource's QoS: each command executed is kept in the command history, and the resource's latest evaluation log records the confirmation (success) and the report. Allowed to who may update the offering (OFFERING.UPDATE on it or its customer: the agent's account) and staff. Answers 200 with no body.
//	@Tags			marketplace-slurm-periodic-usage-policies
//	@Accept			json
//	@Param			uuid	path	string						true	"Policy UUID"
//	@Param			body	body	SlurmCommandResultRequest	true	"The report"
//	@Success		200
//	@Failure		400	{object}	map[string][]string
//	@Failure		403	{object}	api.ErrorBody
//	@Router			/api/marketplace-slurm-periodic-usage-policies/{uuid}/report-command-result/ [post]
func (m *Module) reportCommandResult(c *gin.Context) error {
	ctx := c.Request.Context()
	f := slurmFamily()
	p, err := m.visible(c, f)
	if err != nil {
		return err
	}
	scs, err := m.ps.scopes(ctx, f.kind, []int64{p.ScopeID})
	if err != nil {
		return err
	}
	sc := scs[p.ScopeID]
	if err := m.mayWrite(c, f, &sc); err != nil {
		return err
	}
	fm, err := form.Read(c)
	if err != nil {
		return err
	}
	fm.Require("resource_uuid", "success")
	rid, _ := fm.UUID("resource_uuid")
	success, _ := fm.Bool("success")
	errMsg, _ := fm.Str("error_message", 1<<16, true)
	mode := "production"
	if fm.Has("mode") {
		mode, _ = fm.Choice("mode", map[string]bool{"production": true, "emulator": true}, false)
	}
	cmds, _ := fm.StrList("commands_executed", false, form.Char{})
	var resID int64
	if !fm.Failed("resource_uuid") && fm.Has("resource_uuid") {
		var ids []int64
		if err := m.st.DB.WithContext(ctx).Table("resources").Where("uuid = ? AND offering_id = ?", rid, p.ScopeID).Pluck("id", &ids).Error; err != nil {
			return models.Internal(err)
		}
		if len(ids) == 0 {
			fm.Fail("resource_uuid", "Resource is not found in the policy's offering.")
		} else {
			resID = ids[0]
		}
	}
	if err := fm.Err(); err != nil {
		return err
	}
	now := m.eval.now()
	report, _ := json.Marshal(map[string]any{"success": success, "error_message": errMsg, "mode": mode, "commands_executed": cmds})
	err = m.st.Tx(ctx, func(tx *store.Store) error {
		db := tx.DB.WithContext(ctx)
		for _, cmd := range cmds {
			row := Command{UUID: models.NewUUID(), PolicyID: p.ID, ResourceID: &resID, CommandType: "site_agent",
				Description: "Reported by the site agent.", ShellCommand: cmd, Parameters: []byte(`{}`), ExecutionMode: mode,
				Success: success, ErrorMessage: errMsg, ExecutedAt: now}
			if err := db.Create(&row).Error; err != nil {
				return models.Internal(err)
			}
		}
		var last []int64
		if err := db.Model(&EvaluationLog{}).Where("policy_id = ? AND resource_id = ?", p.ID, resID).Order("evaluated_at DESC, id DESC").
			Limit(1).Pluck("id", &last).Error; err != nil {
			return models.Internal(err)
		}
		if len(last) > 0 {
			if err := db.Model(&EvaluationLog{}).Where("id = ?", last[0]).
				Updates(map[string]any{"site_agent_confirmed": success, "site_agent_response": report}).Error; err != nil {
				return models.Internal(err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	c.Status(http.StatusOK)
	return nil
}

// SlurmPolicyPreviewRequest is the body of preview_impact.
type SlurmPolicyPreviewRequest struct {
	Allocation       float64 `json:"allocation" example:"1000"`
	GraceRatio       float64 `json:"grace_ratio" example:"0.2"`
	PreviousUsage    float64 `json:"previous_usage" example:"0"`
	CarryoverFactor  int64   `json:"carryover_factor" example:"50"`
	CarryoverEnabled bool    `json:"carryover_enabled" example:"true"`
	CurrentUsage     float64 `json:"current_usage" example:"0"`
	DailyUsageRate   float64 `json:"daily_usage_rate" example:"0"`
}

// SlurmPolicyCarryover is Waldur's SlurmPolicyCarryover.
type SlurmPolicyCarryover struct {
	PreviousUsage   float64 `json:"previous_usage"`
	CarryoverFactor int64   `json:"carryover_factor"`
	BaseAllocation  float64 `json:"base_allocation"`
	Unused          float64 `json:"unused"`
	CarryoverCap    float64 `json:"carryover_cap"`
	Carryover       float64 `json:"carryover"`
	TotalAllocation float64 `json:"total_allocation"`
}

// SlurmPolicyThresholds is Waldur's SlurmPolicyThresholds.
type SlurmPolicyThresholds struct {
	Allocation            float64 `json:"allocation"`
	GraceRatio            float64 `json:"grace_ratio"`
	NotificationRatio     float64 `json:"notification_ratio"`
	NotificationThreshold float64 `json:"notification_threshold"`
	SlowdownThreshold     float64 `json:"slowdown_threshold"`
	BlockedThreshold      float64 `json:"blocked_threshold"`
}

// SlurmPolicyDateProjection is when a threshold is reached at the daily rate.
type SlurmPolicyDateProjection struct {
	Days   *int64  `json:"days"`
	Date   *string `json:"date"`
	Status string  `json:"status" enums:"never,exceeded,projected"`
}

// SlurmPolicyDateProjections are the projections of each threshold.
type SlurmPolicyDateProjections struct {
	Notification SlurmPolicyDateProjection `json:"notification"`
	Slowdown     SlurmPolicyDateProjection `json:"slowdown"`
	Blocked      SlurmPolicyDateProjection `json:"blocked"`
}

// SlurmPolicyPreviewResponse is Waldur's SlurmPolicyPreviewResponse.
type SlurmPolicyPreviewResponse struct {
	BaseAllocation      float64                    `json:"base_allocation"`
	EffectiveAllocation float64                    `json:"effective_allocation"`
	CarryoverEnabled    bool                       `json:"carryover_enabled"`
	Carryover           *SlurmPolicyCarryover      `json:"carryover"`
	Thresholds          SlurmPolicyThresholds      `json:"thresholds"`
	GraceRatio          float64                    `json:"grace_ratio"`
	CarryoverFactor     int64                      `json:"carryover_factor"`
	CurrentUsage        float64                    `json:"current_usage"`
	DailyUsageRate      float64                    `json:"daily_usage_rate"`
	UsagePercentage     float64                    `json:"usage_percentage"`
	CurrentQoSStatus    string                     `json:"current_qos_status" enums:"normal,notification,slowdown,blocked"`
	DateProjections     SlurmPolicyDateProjections `json:"date_projections"`
	PreviewCommands     []any                      `json:"preview_commands"`
	CommandHistory      []SlurmCommandHistory      `json:"command_history"`
}

func f64(d decimal.Decimal) float64 { v, _ := d.Round(4).Float64(); return v }

// previewImpact godoc
//
//	@Summary		Preview a SLURM policy's thresholds
//	@Description	Computes, without saving anything, what a policy with these figures would do: the carry-over from the previous period's unused allocation (at most carryover_factor percent of the allocation), the effective allocation, the notification (80 %), slowdown (downscale: 100 % of the effective allocation) and blocked (pause: × (1 + grace_ratio)) thresholds, the QoS the current usage is at, and when each threshold is reached at the daily usage rate.
//	@Tags			marketplace-slurm-periodic-usage-policies
//	@Accept			json
//	@Produce		json
//	@Param			body	body		SlurmPolicyPreviewRequest	false	"The figures"
//	@Success		200		{object}	SlurmPolicyPreviewResponse
//	@Failure		400		{object}	map[string][]string
//	@Router			/api/marketplace-slurm-periodic-usage-policies/preview_impact/ [post]
func (m *Module) previewImpact(c *gin.Context) error {
	in := SlurmPolicyPreviewRequest{Allocation: 1000, GraceRatio: 0.2, CarryoverFactor: 50, CarryoverEnabled: true}
	if c.Request.ContentLength != 0 {
		fm, err := form.Read(c)
		if err != nil {
			return err
		}
		for k, dst := range map[string]*float64{"allocation": &in.Allocation, "grace_ratio": &in.GraceRatio, "previous_usage": &in.PreviousUsage,
			"current_usage": &in.CurrentUsage, "daily_usage_rate": &in.DailyUsageRate} {
			if v, ok := fm.Float(k, false); ok && v != nil {
				if *v < 0 {
					fm.Fail(k, "Ensure this value is greater than or equal to 0.")
				}
				*dst = *v
			}
		}
		if in.GraceRatio > 1 {
			fm.Fail("grace_ratio", "Ensure this value is less than or equal to 1.")
		}
		if v, ok := fm.Int("carryover_factor", 0, 100, false); ok && v != nil {
			in.CarryoverFactor = *v
		}
		if v, ok := fm.Bool("carryover_enabled"); ok {
			in.CarryoverEnabled = v
		}
		if err := fm.Err(); err != nil {
			return err
		}
	}
	s := SlurmSettings{CarryoverEnabled: in.CarryoverEnabled, CarryoverFactor: in.CarryoverFactor, GraceRatio: in.GraceRatio}
	base := decimal.NewFromFloat(in.Allocation)
	prev := decimal.NewFromFloat(in.PreviousUsage)
	cur := decimal.NewFromFloat(in.CurrentUsage)
	fig := slurmThresholds(s, base, cur, prev)
	out := SlurmPolicyPreviewResponse{BaseAllocation: in.Allocation, EffectiveAllocation: f64(fig.Effective), CarryoverEnabled: in.CarryoverEnabled,
		GraceRatio: in.GraceRatio, CarryoverFactor: in.CarryoverFactor, CurrentUsage: in.CurrentUsage, DailyUsageRate: in.DailyUsageRate,
		UsagePercentage: fig.Percentage(), PreviewCommands: []any{}, CommandHistory: []SlurmCommandHistory{}}
	if in.CarryoverEnabled {
		unused := decimal.Max(base.Sub(prev), decimal.Zero)
		out.Carryover = &SlurmPolicyCarryover{PreviousUsage: in.PreviousUsage, CarryoverFactor: in.CarryoverFactor, BaseAllocation: in.Allocation,
			Unused: f64(unused), CarryoverCap: f64(base.Mul(decimal.NewFromInt(in.CarryoverFactor)).Div(decimal.NewFromInt(100))),
			Carryover: f64(fig.Carryover), TotalAllocation: f64(fig.Effective)}
	}
	notify := fig.Effective.Mul(decimal.NewFromFloat(notificationRatio))
	out.Thresholds = SlurmPolicyThresholds{Allocation: f64(fig.Effective), GraceRatio: in.GraceRatio, NotificationRatio: notificationRatio,
		NotificationThreshold: f64(notify), SlowdownThreshold: f64(fig.Effective), BlockedThreshold: f64(fig.Hard)}
	switch {
	case fig.Hard.IsPositive() && cur.GreaterThanOrEqual(fig.Hard):
		out.CurrentQoSStatus = "blocked"
	case fig.Effective.IsPositive() && cur.GreaterThanOrEqual(fig.Effective):
		out.CurrentQoSStatus = "slowdown"
	case notify.IsPositive() && cur.GreaterThanOrEqual(notify):
		out.CurrentQoSStatus = "notification"
	default:
		out.CurrentQoSStatus = "normal"
	}
	today := m.eval.now()
	project := func(threshold decimal.Decimal) SlurmPolicyDateProjection {
		if cur.GreaterThanOrEqual(threshold) {
			return SlurmPolicyDateProjection{Status: "exceeded"}
		}
		if in.DailyUsageRate <= 0 {
			return SlurmPolicyDateProjection{Status: "never"}
		}
		days := threshold.Sub(cur).Div(decimal.NewFromFloat(in.DailyUsageRate)).Ceil().IntPart()
		date := today.AddDate(0, 0, int(days)).Format("2006-01-02")
		return SlurmPolicyDateProjection{Days: &days, Date: &date, Status: "projected"}
	}
	out.DateProjections = SlurmPolicyDateProjections{Notification: project(notify), Slowdown: project(fig.Effective), Blocked: project(fig.Hard)}
	c.JSON(http.StatusOK, out)
	return nil
}
