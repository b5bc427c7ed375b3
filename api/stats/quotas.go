package stats

import (
	"context"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/workflows"
)

// Quota history: the daily snapshot of every quota's usage (Waldur's
// analytics sync_daily_quotas and DailyQuotaHistory) and the quota lists
// of organizations and projects.

// SnapshotQuotas copies the usage of every quota into daily_quotas for
// date (one INSERT ... SELECT; a second run on the same day overwrites
// that day's rows). It returns the rows written.
func (q *Queries) SnapshotQuotas(ctx context.Context, date time.Time) (int64, error) {
	d := "?"
	if q.pg {
		d = "CAST(? AS DATE)"
	}
	res := q.db.WithContext(ctx).Exec(`INSERT INTO daily_quotas (scope_type, scope_id, name, date, usage)
		SELECT scope_type, scope_id, name, `+d+`, usage FROM quotas WHERE 1 = 1
		ON CONFLICT (scope_type, scope_id, name, date) DO UPDATE SET usage = excluded.usage`, dateString(date))
	if res.Error != nil {
		return 0, models.Internal(res.Error)
	}
	return res.RowsAffected, nil
}

// DailyUsages are, per quota name, the usage on each day from start to end
// (inclusive): a day without a snapshot carries the previous day's value
// (the last snapshot before start for the first days), 0 before any.
func (q *Queries) DailyUsages(ctx context.Context, scope models.Scope, names []string, start, end time.Time) (map[string][]int64, error) {
	var rows []struct {
		Name  string
		Date  Time
		Usage int64
	}
	// The range's snapshots and, per name, the last one before it.
	err := q.raw(ctx, &rows, `SELECT name, date, usage FROM daily_quotas d
		WHERE scope_type = @t AND scope_id = @id AND name IN @names AND date <= @end
			AND (date >= @start OR date = (SELECT MAX(date) FROM daily_quotas b
				WHERE b.scope_type = d.scope_type AND b.scope_id = d.scope_id AND b.name = d.name AND b.date < @start))
		ORDER BY name, date`, map[string]any{"t": scope.Type, "id": scope.ID, "names": names,
		"start": dateString(start), "end": dateString(end)})
	if err != nil {
		return nil, err
	}
	days := int(end.Sub(start)/(24*time.Hour)) + 1
	out := make(map[string][]int64, len(names))
	for _, n := range names {
		out[n] = make([]int64, days)
	}
	// Each snapshot sets its day and the days after it (later ones override).
	for _, r := range rows {
		vals := out[r.Name]
		i := max(0, int(r.Date.T.Sub(start)/(24*time.Hour)))
		for ; i < days; i++ {
			vals[i] = r.Usage
		}
	}
	return out, nil
}

// ScopeQuota is Waldur's CustomerQuotas and ProjectQuotas (ProjectName
// set for projects).
type ScopeQuota struct {
	ProjectName          string `json:"project_name,omitempty" example:"Alpha one"`
	CustomerName         string `json:"customer_name" example:"Alpha"`
	CustomerAbbreviation string `json:"customer_abbreviation" example:"ALP"`
	Value                int64  `json:"value" example:"3"`
}

// ScopeQuotas lists the usage of quota name of every organization (not
// archived) or every project (not removed), largest first.
func (q *Queries) ScopeQuotas(ctx context.Context, scope models.ScopeType, name string) ([]ScopeQuota, error) {
	var out []ScopeQuota
	var err error
	if scope == models.ScopeCustomer {
		err = q.raw(ctx, &out, `SELECT c.name AS customer_name, c.abbreviation AS customer_abbreviation, COALESCE(qu.usage, 0) AS value
			FROM customers c LEFT JOIN quotas qu ON qu.scope_type = ? AND qu.scope_id = c.id AND qu.name = ?
			WHERE c.archived = ? ORDER BY value DESC, c.name, c.id`, models.ScopeCustomer, name, false)
	} else {
		err = q.raw(ctx, &out, `SELECT p.name AS project_name, c.name AS customer_name, c.abbreviation AS customer_abbreviation,
				COALESCE(qu.usage, 0) AS value
			FROM projects p JOIN customers c ON c.id = p.customer_id
				LEFT JOIN quotas qu ON qu.scope_type = ? AND qu.scope_id = p.id AND qu.name = ?
			WHERE p.is_removed = ? ORDER BY value DESC, p.name, p.id`, models.ScopeProject, name, false)
	}
	return out, err
}

// dailyQuotas godoc
//
//	@Summary		Daily quota history
//	@Description	Whoever sees the scope (an organization or a project, by UUID). The usage of each quota (quota_names, default all the scope's quotas) on each day from start to end (default the 30 days up to today), as the daily snapshot (Schedule waldur-daily-quotas) recorded it; a day without a snapshot repeats the previous value, 0 before the first.
//	@Tags			daily-quotas
//	@Produce		json
//	@Param			scope		query	string		true	"UUID of the organization or project"
//	@Param			quota_names	query	[]string	false	"Quota names (repeated or comma-separated)"
//	@Param			start		query	string		false	"Start date (YYYY-MM-DD)"
//	@Param			end			query	string		false	"End date (YYYY-MM-DD)"
//	@Success		200	{object}	map[string][]int
//	@Failure		400	{object}	map[string][]string
//	@Failure		404	{object}	api.ErrorBody
//	@Router			/api/daily-quotas/ [get]
func (m *Module) dailyQuotas(c *gin.Context) error {
	s := rest.Last(c, "scope")
	if s == "" {
		return models.FieldError("scope", "This field is required.")
	}
	id, err := models.ParseUUID(s)
	if err != nil {
		return models.FieldError("scope", "Must be a valid UUID.")
	}
	end, err := parseDate(c, "end", m.today())
	if err != nil {
		return err
	}
	start, err := parseDate(c, "start", end.AddDate(0, 0, -30))
	if err != nil {
		return err
	}
	if start.After(end) {
		return models.FieldError("start", "Start date must be before end date.")
	}
	if end.Sub(start) > 3660*24*time.Hour {
		return models.FieldError("start", "The range must not exceed ten years.")
	}
	ctx := c.Request.Context()
	scope, err := m.visibleScope(ctx, id)
	if err != nil {
		return err
	}
	var names []string
	for _, v := range rest.Values(c, "quota_names") {
		for _, n := range strings.Split(v, ",") {
			if n = strings.TrimSpace(n); n != "" {
				names = append(names, n)
			}
		}
	}
	if len(names) == 0 {
		names = models.QuotaNames[scope.Type]
	}
	out, err := m.q.DailyUsages(ctx, scope, names, start, end)
	if err != nil {
		return err
	}
	return one(c, out)
}

// visibleScope finds the organization or project of uuid id the caller sees.
func (m *Module) visibleScope(ctx context.Context, id models.UUID) (models.Scope, error) {
	cu, err := m.st.VisibleCustomer(ctx, id, m.now())
	if err == nil {
		return models.Scope{Type: models.ScopeCustomer, ID: cu.ID}, nil
	}
	if !models.IsCode(err, models.CodeNotFound) {
		return models.Scope{}, err
	}
	p, _, err := m.st.VisibleProject(ctx, id, m.now())
	if err != nil {
		if models.IsCode(err, models.CodeNotFound) {
			return models.Scope{}, api.NotFound("")
		}
		return models.Scope{}, err
	}
	return models.Scope{Type: models.ScopeProject, ID: p.ID}, nil
}

func (m *Module) scopeQuotas(c *gin.Context, scope models.ScopeType) error {
	name := rest.Last(c, "quota_name")
	if name == "" {
		return models.FieldError("quota_name", "This field is required.")
	}
	rows, err := m.q.ScopeQuotas(c.Request.Context(), scope, name)
	if err != nil {
		return err
	}
	return page(c, rows)
}

// customerQuotas godoc
//
//	@Summary		List customer quotas
//	@Description	Staff and support. The usage of quota quota_name (e.g. nc_project_count) of every organization not archived, largest first.
//	@Tags			customer-quotas
//	@Produce		json
//	@Param			quota_name	query	string	true	"Quota name"
//	@Param			page		query	int		false	"Page"
//	@Param			page_size	query	int		false	"Page size"
//	@Success		200	{array}	ScopeQuota
//	@Failure		400	{object}	map[string][]string
//	@Router			/api/customer-quotas/ [get]
func (m *Module) customerQuotas(c *gin.Context) error { return m.scopeQuotas(c, models.ScopeCustomer) }

// projectQuotas godoc
//
//	@Summary		List project quotas
//	@Description	Staff and support. The usage of quota quota_name (e.g. nc_resource_count) of every project not removed, largest first.
//	@Tags			project-quotas
//	@Produce		json
//	@Param			quota_name	query	string	true	"Quota name"
//	@Param			page		query	int		false	"Page"
//	@Param			page_size	query	int		false	"Page size"
//	@Success		200	{array}	ScopeQuota
//	@Failure		400	{object}	map[string][]string
//	@Router			/api/project-quotas/ [get]
func (m *Module) projectQuotas(c *gin.Context) error { return m.scopeQuotas(c, models.ScopeProject) }

// DailyQuotasSchedule snapshots every quota's usage once a day (Waldur's
// analytics sync_daily_quotas, every 24 hours).
var DailyQuotasSchedule = workflows.Schedule{
	ID:        "waldur-daily-quotas",
	Cron:      "5 0 * * *",
	Workflow:  DailyQuotas,
	TaskQueue: workflows.QueueCore,
	Note:      "Records the usage of every quota for the day (/api/daily-quotas/).",
}

// Activities are the daily quota snapshot's activity.
type Activities struct {
	Store *store.Store
}

// Register registers the snapshot's workflow and activity.
func Register(w worker.Registry, a *Activities) {
	w.RegisterWorkflow(DailyQuotas)
	w.RegisterActivity(a)
}

// DailyQuotas runs SyncDailyQuotas.
func DailyQuotas(ctx workflow.Context) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 10 * time.Second, BackoffCoefficient: 2,
			MaximumInterval: 5 * time.Minute, MaximumAttempts: 5},
	})
	var a *Activities
	return workflow.ExecuteActivity(ctx, a.SyncDailyQuotas).Get(ctx, nil)
}

// SyncDailyQuotas records today's (UTC, the store's clock) usage of every quota.
func (a *Activities) SyncDailyQuotas(ctx context.Context) (int64, error) {
	return NewQueries(a.Store.DB).SnapshotQuotas(ctx, a.Store.Now())
}
