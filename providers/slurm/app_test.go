package slurm_test

// The SLURM integration end to end on a real cluster (scripts/slurm-up.sh,
// which .ci/run starts) and a real Temporal server, through the HTTP API:
// order → account with limits; members → associations; a job → usage →
// invoice item; a lower limit → the next job pends; import; terminate.
// It skips only when sacctmgr is not installed and CI is unset.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/waldur-go/waldur/api/apitest"
	"github.com/waldur-go/waldur/internal/app"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/internal/temporalserver/temporaltest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/providers/slurm"
	"github.com/waldur-go/waldur/workflows"
	"github.com/waldur-go/waldur/workflows/replaytest"
)

// slurmTestUsers skips or fails when no cluster answers and returns the two
// Linux users jobs are submitted as (SLURM_TEST_USERS, default "slurmit1 slurmit2").
func slurmTestUsers(t *testing.T) []string {
	t.Helper()
	if _, err := exec.LookPath("sacctmgr"); err != nil {
		if os.Getenv("CI") == "" {
			t.Skip("sacctmgr is not installed (run scripts/slurm-up.sh for a test cluster)")
		}
		t.Fatal("CI is set but sacctmgr is not installed: .ci/run should have run scripts/slurm-up.sh")
	}
	out, err := exec.Command("sacctmgr", "-n", "-P", "list", "cluster", "format=cluster").CombinedOutput()
	require.NoError(t, err, "the Slurm cluster does not answer (run scripts/slurm-up.sh): %s", out)
	users := strings.Fields(os.Getenv("SLURM_TEST_USERS"))
	if len(users) == 0 {
		users = []string{"slurmit1", "slurmit2"}
	}
	require.GreaterOrEqual(t, len(users), 2, "SLURM_TEST_USERS needs two users")
	for _, u := range users[:2] {
		_, err := exec.Command("id", u).Output()
		require.NoError(t, err, "Linux user %s is missing: run SLURM_TEST_USERS=%q scripts/slurm-up.sh", u, strings.Join(users, " "))
	}
	require.Equal(t, 0, os.Getuid(), "jobs are submitted as the test users with runuser, which needs root")
	return users[:2]
}

func slurmRun(t *testing.T, name string, args ...string) string {
	t.Helper()
	var stderr strings.Builder
	cmd := exec.Command(name, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "%s %s: %s", name, strings.Join(args, " "), stderr.String())
	return string(out)
}

// slurmAssoc is `sacctmgr show assoc` of an account: "user|grptresmins" per row ("" user: the account's own row).
func slurmAssoc(t *testing.T, account string) []string {
	t.Helper()
	return strings.Fields(slurmRun(t, "sacctmgr", "-n", "-P", "show", "assoc", "where", "account="+account, "format=user,grptresmins"))
}

func slurmUsersOf(t *testing.T, account string) []string {
	t.Helper()
	var users []string
	for _, r := range slurmAssoc(t, account) {
		if u, _, _ := strings.Cut(r, "|"); u != "" {
			users = append(users, u)
		}
	}
	sort.Strings(users)
	return users
}

// slurmLimits is the GrpTRESMins of the account's own association.
func slurmLimits(t *testing.T, account string) string {
	t.Helper()
	for _, r := range slurmAssoc(t, account) {
		if u, l, _ := strings.Cut(r, "|"); u == "" {
			return l
		}
	}
	t.Fatalf("account %s has no association", account)
	return ""
}

// slurmPoll polls cond every 200 ms until it holds, failing after timeout.
func slurmPoll(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		ok, state := cond()
		if ok {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			t.Fatalf("timed out after %s waiting for %s (last: %s)", timeout, what, state)
		}
		time.Sleep(200 * time.Millisecond) // polling interval, not a wait for "long enough"
	}
}

// slurmJob is one job allocation as sacct lists the account's jobs this month.
func slurmJob(t *testing.T, account, id string) (state string, elapsed int64, tres string) {
	start := time.Now().UTC().Format("2006-01") + "-01T00:00:00"
	out := slurmRun(t, "sacct", "-n", "-X", "-P", "-a", "--noconvert", "-A", account, "-S", start, "-o", "JobIDRaw,State,ElapsedRaw,AllocTRES")
	for _, l := range strings.Split(out, "\n") {
		f := strings.Split(l, "|")
		if len(f) == 4 && f[0] == id {
			n, _ := strconv.ParseInt(f[2], 10, 64)
			return f[1], n, f[3]
		}
	}
	return "", 0, ""
}

// tresOf reads cpu, gres/gpu and mem (MB) of an AllocTRES list.
func tresOf(t *testing.T, s string) (cpu, gpu, memMB int64) {
	for _, kv := range strings.Split(s, ",") {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "cpu", "gres/gpu":
			n, err := strconv.ParseInt(v, 10, 64)
			require.NoError(t, err)
			if k == "cpu" {
				cpu = n
			} else {
				gpu = n
			}
		case "mem":
			require.True(t, strings.HasSuffix(v, "M"), "mem %q in MB", v)
			n, err := strconv.ParseInt(strings.TrimSuffix(v, "M"), 10, 64)
			require.NoError(t, err)
			memMB = n
		}
	}
	return
}

type slurmAPI struct {
	t    *testing.T
	base string
}

// call sends a JSON request as the token's user, checks the status and the
// OpenAPI contract, and decodes the answer.
func (a slurmAPI) call(token, method, path string, body any, want int, out any) {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(a.t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, a.base+path, rd)
	require.NoError(a.t, err)
	req.Header.Set("Authorization", "Token "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(a.t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(a.t, err)
	if out != nil && resp.StatusCode == want {
		require.NoError(a.t, json.Unmarshal(data, out), "%s %s: %s", method, path, data)
	}
	require.Equal(a.t, want, resp.StatusCode, "%s %s: %s", method, path, data)
	// The contract lists the success answers only; and Waldur's file types
	// component usages as integers (the usage API renders the decimals
	// Waldur stores), so those two lists are not checked.
	usages := strings.HasPrefix(path, "/api/marketplace-component-usages/") || strings.HasPrefix(path, "/api/marketplace-component-user-usages/")
	if resp.StatusCode >= 300 || usages {
		return
	}
	if err := apitest.Check(req, resp.StatusCode, resp.Header, data); err != nil {
		a.t.Errorf("%s %s does not match the OpenAPI contract: %v\n%s", method, path, err, data)
	}
}

// TestSlurmEndToEnd is the acceptance of the SLURM integration.
func TestSlurmEndToEnd(t *testing.T) {
	linux := slurmTestUsers(t)
	kinds := dbtest.Kinds()
	db := dbtest.Migrated(t, kinds[len(kinds)-1]) // PostgreSQL when configured
	srv := temporaltest.Start(t)
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	tc := srv.Client(t)
	reg := app.Registry(&app.Deps{DB: db, Logger: quiet})
	ws, err := reg.Start(tc, reg.Queues(), worker.Options{})
	require.NoError(t, err)
	t.Cleanup(ws.Stop)
	h, err := app.NewAPI(db, tc, quiet, "default")
	require.NoError(t, err)
	hs := httptest.NewServer(h.Handler())
	t.Cleanup(hs.Close)
	api := slurmAPI{t: t, base: hs.URL}
	// The membership follower runs as scheduled (every minute); the test
	// triggers it rather than waiting for the minute to turn.
	require.NoError(t, workflows.EnsureSchedules(ctx, tc, []workflows.Schedule{slurm.SlurmMembershipEventsSchedule}, quiet))
	follow := func() {
		t.Helper()
		require.NoError(t, tc.ScheduleClient().GetHandle(ctx, slurm.SlurmMembershipEventsSchedule.ID).
			Trigger(ctx, client.ScheduleTriggerOptions{Overlap: enums.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL}))
	}

	// The world: a university orders from an HPC centre's SLURM offering.
	st := store.New(db)
	users := map[string]*models.User{}
	tokens := map[string]string{}
	for _, name := range []string{"prof", "alice", linux[1], "hpcadmin", "staff"} {
		u := &models.User{Username: name, Email: name + "@example.com", IsActive: true, IsStaff: name == "staff"}
		require.NoError(t, st.CreateUser(ctx, u, ""))
		tok, err := st.EnsureToken(ctx, u.ID)
		require.NoError(t, err)
		users[name], tokens[name] = u, tok.Key
	}
	actx := models.WithActor(ctx, models.Actor{User: users["prof"]})
	uni := &models.Customer{Name: "University"}
	require.NoError(t, st.CreateCustomer(actx, uni))
	proj := &models.Project{Name: "Genomics"}
	require.NoError(t, st.CreateProject(actx, proj, uni))
	hpc := &models.Customer{Name: "HPC Centre"}
	require.NoError(t, st.CreateCustomer(actx, hpc))
	for _, g := range []struct {
		user string
		c    *models.Customer
	}{{"prof", uni}, {"hpcadmin", hpc}} {
		role, err := st.RoleByName(ctx, models.RoleCustomerOwner)
		require.NoError(t, err)
		_, err = st.GrantRole(ctx, store.Grant{User: users[g.user], Role: role, Scope: g.c.Scope(), CustomerID: g.c.ID,
			EventScopes: []models.Scope{g.c.Scope()}})
		require.NoError(t, err)
	}
	now := time.Now().UTC()
	ins := func(table string, v map[string]any) (int64, models.UUID) {
		id := models.NewUUID()
		v["uuid"] = id
		require.NoError(t, db.Table(table).Create(v).Error)
		var n int64
		require.NoError(t, db.Raw("SELECT id FROM "+table+" WHERE uuid = ?", id).Scan(&n).Error)
		return n, id
	}
	cat, _ := ins("categories", map[string]any{"title": "HPC", "created": now, "modified": now})
	offID, offUUID := ins("offerings", map[string]any{"name": "Cluster", "customer_id": hpc.ID, "category_id": cat,
		"type": slurm.OfferingType, "state": models.OfferingActive, "shared": true, "billable": true,
		"plugin_options": `{}`, "secret_options": `{}`, "created": now, "modified": now})
	planID, planUUID := ins("plans", map[string]any{"name": "Pay as you go", "offering_id": offID, "unit": "month", "created": now, "modified": now})
	prices := map[string]string{"cpu": "0.5", "gpu": "2", "ram": "0.1"}
	for _, c := range []map[string]any{
		{"type": "cpu", "name": "CPU", "measured_unit": "hours"},
		{"type": "gpu", "name": "GPU", "measured_unit": "hours"},
		{"type": "ram", "name": "RAM", "measured_unit": "GB-hours"},
	} {
		c["offering_id"], c["billing_type"], c["limit_period"] = offID, "usage", "total"
		compID, _ := ins("offering_components", c)
		require.NoError(t, db.Table("plan_components").Create(map[string]any{"plan_id": planID, "component_id": compID,
			"price": prices[c["type"].(string)], "amount": 0}).Error)
	}
	// alice's account on the cluster is the first test user; the second
	// test user has no offering account: its platform username is used.
	var off store.Offering
	require.NoError(t, db.Where("id = ?", offID).Take(&off).Error)
	aliceAccount := linux[0]
	_, err = st.CreateOfferingUser(ctx, store.NewOfferingUser{Offering: &off, User: users["alice"], Username: &aliceAccount})
	require.NoError(t, err)

	var accounts []string // every account the test may leave behind
	t.Cleanup(func() {
		cl := slurm.NewClient(slurm.LocalExecutor{})
		cl.LockFile = slurm.DefaultLockFile
		for i := len(accounts) - 1; i >= 0; i-- {
			if err := cl.CancelJobsAndWait(context.Background(), accounts[i], time.Minute); err != nil {
				t.Logf("cleanup: %v", err)
			}
			if _, err := cl.DeleteAccount(context.Background(), accounts[i]); err != nil {
				t.Logf("cleanup: %v", err)
			}
		}
	})
	waitOrder := func(id string) time.Duration {
		t.Helper()
		return slurmPoll(t, 2*time.Minute, "order "+id, func() (bool, string) {
			var o map[string]any
			api.call(tokens["prof"], "GET", "/api/marketplace-orders/"+id+"/", nil, 200, &o)
			if s := o["state"]; s == "erred" || s == "rejected" || s == "canceled" {
				t.Fatalf("order %s ended %v: %v", id, s, o["error_message"])
			}
			return o["state"] == "done", fmt.Sprint(o["state"])
		})
	}

	// 1. Order an allocation: the account chain exists with GrpTRESMins.
	var order map[string]any
	ordered := time.Now()
	api.call(tokens["prof"], "POST", "/api/marketplace-orders/", map[string]any{"offering": offUUID.String(), "project": proj.UUID.String(),
		"plan": planUUID.String(), "attributes": map[string]any{"name": "Genome assembly"},
		"limits": map[string]any{"cpu": 10, "gpu": 2, "ram": 20}}, 201, &order)
	naming := slurm.Naming{}
	accounts = append(accounts, naming.Customer(uni.UUID), naming.Project(proj.UUID))
	waitOrder(order["uuid"].(string))
	t.Logf("create order through the API to done (account chain + limits): %s", time.Since(ordered).Round(time.Millisecond))
	rid := order["marketplace_resource_uuid"].(string)
	var res map[string]any
	api.call(tokens["prof"], "GET", "/api/marketplace-resources/"+rid+"/", nil, 200, &res)
	require.Equal(t, "OK", res["state"])
	acct := res["backend_id"].(string)
	accounts = append(accounts, acct)
	require.Equal(t, naming.Allocation(models.MustParseUUID(rid), "Genome assembly"), acct)
	// The account's own association carries the limits. The membership
	// Schedule runs on its own too, so the customer owner's association may
	// already be there (CI saw "prof|" once); only users are counted below.
	require.Equal(t, "cpu=600,gres/gpu=120,mem=1200G", slurmLimits(t, acct), "10 CPU-hours, 2 GPU-hours, 20 GB-hours")
	require.Subset(t, []string{"prof"}, slurmUsersOf(t, acct), "no user but the owner, whom the Schedule may have added already")
	require.Len(t, slurmAssoc(t, naming.Project(proj.UUID)), 1, "the project's account")

	// 2. Members: the creation and each role granted through the API reach
	// the associations (a role in the customer counts for its projects).
	follow()
	took := slurmPoll(t, 90*time.Second, "prof's association", func() (bool, string) {
		u := slurmUsersOf(t, acct)
		return len(u) == 1 && u[0] == "prof", strings.Join(u, ",")
	})
	t.Logf("allocation created → association of the customer's owner: %s", took.Round(time.Millisecond))
	for _, name := range []string{"alice", linux[1]} {
		api.call(tokens["prof"], "POST", "/api/projects/"+proj.UUID.String()+"/add_user/",
			map[string]any{"user": users[name].UUID.String(), "role": models.RoleProjectMember}, 201, nil)
	}
	granted := time.Now()
	follow()
	slurmPoll(t, 90*time.Second, "the new members' associations", func() (bool, string) {
		u := slurmUsersOf(t, acct)
		return strings.Join(u, ",") == strings.Join([]string{"prof", linux[0], linux[1]}, ","), strings.Join(u, ",")
	})
	t.Logf("role granted through the API → associations (one follower run): %s", time.Since(granted).Round(time.Millisecond))

	// 3. A real job as alice's account; its usage pulled into component
	// usages and an invoice item with sacct's own numbers.
	job := strings.TrimSpace(slurmRun(t, "runuser", "-u", linux[0], "--", "sbatch", "--parsable", "-A", acct, "-o", "/dev/null",
		"-n", "8", "--mem=8000M", "--gres=gpu:2", "-t", "1", "--wrap", "sleep 10"))
	_, err = strconv.Atoi(job)
	require.NoError(t, err, "sbatch printed %q", job)
	var elapsed int64
	var tres string
	slurmPoll(t, 2*time.Minute, "job "+job+" to complete", func() (bool, string) {
		var state string
		state, elapsed, tres = slurmJob(t, acct, job)
		return state == "COMPLETED", state
	})
	cpus, gpus, memMB := tresOf(t, tres)
	require.Equal(t, []int64{8, 2, 8000}, []int64{cpus, gpus, memMB}, "AllocTRES %s", tres)
	hours := func(v int64, per int64) decimal.Decimal {
		return decimal.NewFromInt(v * elapsed).Div(decimal.NewFromInt(per)).Round(2)
	}
	want := map[string]decimal.Decimal{"cpu": hours(cpus, 3600), "gpu": hours(gpus, 3600), "ram": hours(memMB, 1024*3600)}
	t.Logf("job %s: %d s × %s → %v", job, elapsed, tres, want)
	require.True(t, want["cpu"].IsPositive(), "the job is long enough to count")

	pull := func() slurm.SlurmUsagePullResult {
		t.Helper()
		start := time.Now()
		id := "slurm-usage-pull-now-" + models.NewUUID().String()
		run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id,
			TaskQueue: workflows.QueueCore}, slurm.SlurmUsagePull, slurm.SlurmUsagePullInput{})
		require.NoError(t, err)
		var out slurm.SlurmUsagePullResult
		require.NoError(t, run.Get(ctx, &out))
		replaytest.Record(t, tc, id, "usage-pull")
		t.Logf("usage pull: %s", time.Since(start).Round(time.Millisecond))
		return out
	}
	usageOf := func(path string) map[string]decimal.Decimal {
		var rows []map[string]any
		api.call(tokens["prof"], "GET", path, nil, 200, &rows)
		got := map[string]decimal.Decimal{}
		for _, u := range rows {
			typ, _ := u["type"].(string)
			if typ == "" { // user usages
				require.Equal(t, linux[0], u["username"], "only alice's account ran jobs")
				typ, _ = u["component_type"].(string)
			}
			got[typ] = decimal.RequireFromString(fmt.Sprint(u["usage"]))
		}
		return got
	}
	same := func(a, b map[string]decimal.Decimal) bool {
		if len(a) != len(b) {
			return false
		}
		for k, v := range a {
			if !v.Equal(b[k]) {
				return false
			}
		}
		return true
	}
	slurmPoll(t, 30*time.Second, "the pulled usage to be the job's", func() (bool, string) {
		// A job that has just ended can reach sacct's month view a moment later.
		pulled := pull()
		got := usageOf("/api/marketplace-component-usages/?resource_uuid=" + rid)
		return same(want, got), fmt.Sprintf("%v %+v", got, pulled.Offerings)
	})
	require.True(t, same(want, usageOf("/api/marketplace-component-user-usages/?resource_uuid="+rid)), "alice's usage is all of it")
	var items []map[string]any
	api.call(tokens["prof"], "GET", "/api/invoice-items/?resource_uuid="+rid, nil, 200, &items)
	byType := map[string]map[string]any{}
	for _, it := range items {
		if ct, ok := it["offering_component_type"].(string); ok {
			byType[ct] = it
		}
	}
	require.Contains(t, byType, "cpu", "items: %v", items)
	cpuItem := byType["cpu"]
	// SLURM usage is billed in whole hours, rounded up (Waldur's rule;
	// models/billing/testdata/waldur-rules.md, 8): the usage as reported,
	// the invoice item its ceiling.
	whole := want["cpu"].Ceil()
	require.True(t, whole.Equal(decimal.RequireFromString(cpuItem["quantity"].(string))), "cpu item: %v (usage %s)", cpuItem, want["cpu"])
	require.Equal(t, "hours", cpuItem["measured_unit"])
	wantPrice, _ := whole.Mul(decimal.RequireFromString(prices["cpu"])).Round(2).Float64()
	require.InDelta(t, wantPrice, cpuItem["price"], 0.005, "cpu item: %v", cpuItem)

	again := pull()
	o := again.Offerings[len(again.Offerings)-1]
	require.Equal(t, 1, o.Unchanged, "a second pull changes nothing: %+v", o)
	var items2 []map[string]any
	api.call(tokens["prof"], "GET", "/api/invoice-items/?resource_uuid="+rid, nil, 200, &items2)
	require.Equal(t, items, items2)

	// 4. The association report and the full sync: a user associated behind
	// Waldur's back is reported, then removed; a revoked role goes too.
	cl := slurm.NewClient(slurm.LocalExecutor{})
	cl.LockFile = slurm.DefaultLockFile
	_, err = cl.AddAssociation(ctx, acct, "intruder")
	require.NoError(t, err)
	sync := func(dry bool) slurm.SlurmMembershipSyncResult {
		t.Helper()
		id := "slurm-sync-now-" + models.NewUUID().String()
		run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id,
			TaskQueue: workflows.QueueCore}, slurm.SlurmMembershipSync, slurm.SlurmMembershipSyncInput{DryRun: dry})
		require.NoError(t, err)
		var out slurm.SlurmMembershipSyncResult
		require.NoError(t, run.Get(ctx, &out))
		if !dry {
			replaytest.Record(t, tc, id, "membership-sync")
		}
		return out
	}
	report := sync(true)
	require.Len(t, report.Offerings, 1)
	require.Equal(t, slurm.AssociationDiff{Extra: []string{"intruder"}}, report.Offerings[0].Diffs[acct])
	require.Equal(t, rid, report.Offerings[0].Resources[acct].String())
	require.Contains(t, slurmUsersOf(t, acct), "intruder", "the report changes nothing")
	full := sync(false)
	require.Equal(t, slurm.AssociationDiff{Extra: []string{"intruder"}}, full.Offerings[0].Changed[acct])
	require.NotContains(t, slurmUsersOf(t, acct), "intruder")

	api.call(tokens["prof"], "POST", "/api/projects/"+proj.UUID.String()+"/delete_user/",
		map[string]any{"user": users[linux[1]].UUID.String(), "role": models.RoleProjectMember}, 200, nil)
	follow()
	slurmPoll(t, 90*time.Second, "the revoked member's association to go", func() (bool, string) {
		u := slurmUsersOf(t, acct)
		return strings.Join(u, ",") == "prof,"+linux[0], strings.Join(u, ",")
	})

	// 5. A limit lowered below the usage so far: the next job pends.
	var upd map[string]any
	api.call(tokens["prof"], "POST", "/api/marketplace-resources/"+rid+"/update_limits/",
		map[string]any{"limits": map[string]any{"cpu": 0, "gpu": 2, "ram": 20}}, 200, &upd)
	waitOrder(upd["order_uuid"].(string))
	require.Equal(t, "cpu=0,gres/gpu=120,mem=1200G", slurmLimits(t, acct))
	blocked := strings.TrimSpace(slurmRun(t, "runuser", "-u", linux[0], "--", "sbatch", "--parsable", "-A", acct, "-o", "/dev/null",
		"-n", "1", "-t", "1", "--wrap", "true"))
	slurmPoll(t, 30*time.Second, "job "+blocked+" to pend on the account's limit", func() (bool, string) {
		s := strings.TrimSpace(slurmRun(t, "squeue", "-h", "-j", blocked, "-o", "%T|%r"))
		return strings.HasPrefix(s, "PENDING|AssocGrp"), s
	})

	// 6. Import: an account made outside Waldur is listed and imported.
	legacy := "itimp" + strings.ReplaceAll(models.NewUUID().String()[:8], "-", "")
	accounts = append(accounts, legacy)
	_, err = cl.EnsureAccount(ctx, slurm.AccountSpec{Name: legacy, Description: "legacy project"})
	require.NoError(t, err)
	require.NoError(t, cl.SetLimits(ctx, legacy, slurm.Limits{CPU: 120, GPU: -1, Mem: -1}))
	var importable []map[string]any
	// Import into a shared offering is staff's (Waldur); the provider's owner is refused.
	api.call(tokens["hpcadmin"], "GET", "/api/marketplace-provider-offerings/"+offUUID.String()+"/importable_resources/", nil, 403, nil)
	api.call(tokens["staff"], "GET", "/api/marketplace-provider-offerings/"+offUUID.String()+"/importable_resources/?page_size=300", nil, 200, &importable)
	var names []string
	for _, it := range importable {
		names = append(names, it["backend_id"].(string))
		require.Equal(t, slurm.OfferingType, it["type"])
	}
	require.Contains(t, names, legacy)
	require.NotContains(t, names, acct, "an account a resource has is not importable")
	api.call(tokens["prof"], "GET", "/api/marketplace-provider-offerings/"+offUUID.String()+"/importable_resources/", nil, 404, nil)
	var imported map[string]any
	api.call(tokens["staff"], "POST", "/api/marketplace-provider-offerings/"+offUUID.String()+"/import_resource/",
		map[string]any{"backend_id": legacy, "project": proj.UUID.String()}, 200, &imported)
	require.Equal(t, "OK", imported["state"])
	require.Equal(t, legacy, imported["backend_id"])
	require.Equal(t, map[string]any{"cpu": float64(2)}, imported["limits"], "120 CPU-minutes")
	api.call(tokens["staff"], "POST", "/api/marketplace-provider-offerings/"+offUUID.String()+"/import_resource/",
		map[string]any{"backend_id": legacy, "project": proj.UUID.String()}, 400, nil)
	follow() // the import is a creation: the account follows the project's members
	slurmPoll(t, 90*time.Second, "the imported account's associations", func() (bool, string) {
		u := slurmUsersOf(t, legacy)
		return strings.Join(u, ",") == "prof,"+linux[0], strings.Join(u, ",")
	})

	// 7. Terminate both through the API: the accounts are gone, the pending
	// job with them, and the project and customer accounts once unused.
	for _, id := range []string{imported["uuid"].(string), rid} {
		var term map[string]any
		api.call(tokens["prof"], "POST", "/api/marketplace-resources/"+id+"/terminate/", map[string]any{}, 200, &term)
		waitOrder(term["order_uuid"].(string))
	}
	for _, a := range []string{legacy, acct, naming.Project(proj.UUID), naming.Customer(uni.UUID)} {
		require.Empty(t, slurmAssoc(t, a), "account %s is gone", a)
	}
	slurmPoll(t, 30*time.Second, "the pending job to be cancelled", func() (bool, string) {
		s := strings.TrimSpace(slurmRun(t, "sacct", "-n", "-X", "-P", "-j", blocked, "-o", "State"))
		return strings.HasPrefix(s, "CANCELLED"), s
	})
}
