package valimo_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/identity"
	"github.com/waldur-go/waldur/api/valimo"
	"github.com/waldur-go/waldur/api/valimo/valimotest"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/internal/temporalserver/temporaltest"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/rbac"
	"github.com/waldur-go/waldur/workflows"
)

// world is the API (identity and Valimo modules) behind a real HTTP
// server, a worker running the login workflows on a real Temporal server,
// and the MSSP emulator.
type world struct {
	t    *testing.T
	db   *gorm.DB
	st   *store.Store
	srv  *httptest.Server
	mssp *valimotest.Server
}

func newWorld(t *testing.T, db *gorm.DB, tc client.Client, queue string) *world {
	t.Helper()
	st := store.New(db)
	mssp := valimotest.New(t, "waldur-ap", "ap-secret")
	cfg := config.DefaultValimo()
	cfg.Enabled, cfg.URL, cfg.APID, cfg.APPassword = true, mssp.URL, "waldur-ap", "ap-secret"
	cfg.Timeout, cfg.PollInterval = 2*time.Second, 50*time.Millisecond
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	c, err := valimo.NewClient(cfg)
	require.NoError(t, err)
	r := workflows.NewRegistry()
	r.Add(queue, func(w worker.Registry) {
		valimo.Register(w, &valimo.Activities{Store: valimo.NewStore(st), Client: c, Message: cfg.Message, Label: cfg.Label, Log: log})
	})
	ws, err := r.Start(tc, []string{queue}, worker.Options{})
	require.NoError(t, err)
	t.Cleanup(ws.Stop)

	chk, err := rbac.NewChecker(db)
	require.NoError(t, err)
	h := api.New(api.Deps{DB: db, Users: st, Logger: log},
		identity.New(identity.Deps{Store: st, RBAC: chk}),
		valimo.New(valimo.Deps{Store: st, Temporal: tc, Config: cfg, Logger: log, TaskQueue: queue})).Handler()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &world{t: t, db: db, st: st, srv: srv, mssp: mssp}
}

func (w *world) do(method, path, token, body string) (int, map[string]any) {
	w.t.Helper()
	req, err := http.NewRequest(method, w.srv.URL+path, strings.NewReader(body))
	require.NoError(w.t, err)
	if token != "" {
		req.Header.Set("Authorization", "Token "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(w.t, err)
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func (w *world) counts() map[string]int64 {
	w.t.Helper()
	out := map[string]int64{}
	for _, tbl := range []string{"users", "tokens"} {
		var n int64
		require.NoError(w.t, w.db.Table(tbl).Count(&n).Error)
		out[tbl] = n
	}
	return out
}

// login starts a login of phone and polls its result until it ends.
func (w *world) login(phone string) map[string]any {
	w.t.Helper()
	code, started := w.do(http.MethodPost, "/api/auth-valimo/", "", `{"phone":"`+phone+`"}`)
	require.Equal(w.t, http.StatusCreated, code, started)
	require.Equal(w.t, "Scheduled", started["state"])
	require.Nil(w.t, started["token"])
	require.Equal(w.t, phone, started["phone"])
	require.Regexp(w.t, `^\d{4}$`, started["message"])
	id, _ := started["uuid"].(string)
	require.Len(w.t, id, 32)
	var out map[string]any
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, out = w.do(http.MethodPost, "/api/auth-valimo/result/", "", `{"uuid":"`+id+`"}`)
		require.Equal(w.t, http.StatusOK, code, out)
		if valimo.Final(out["state"].(string)) {
			break
		}
		require.True(w.t, time.Now().Before(deadline), "the login did not end: %v", out)
		<-time.After(20 * time.Millisecond) // the next poll, as a front end polls
	}
	require.Equal(w.t, id, out["uuid"])
	require.Equal(w.t, started["message"], out["message"])
	return out
}

func me(w *world, token string) map[string]any {
	w.t.Helper()
	code, out := w.do(http.MethodGet, "/api/users/me/", token, "")
	require.Equal(w.t, http.StatusOK, code, out)
	return out
}

// TestValimoLogin runs logins end to end through the HTTP API, a real
// Temporal server and the MSSP emulator: the user signs (the user created
// by the personal code, the token working; the next login finds the same
// user), cancels, lets the request expire or never answers (Canceled, no
// user, no token), the service fails with 5xx a few times (retried, OK) or
// for good (Erred), the phone has no mobile ID, the user is disabled.
func TestValimoLogin(t *testing.T) {
	ts := temporaltest.Start(t)
	tc := ts.Client(t)
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		w := newWorld(t, db, tc, "valimo-test-"+string(kind))
		mari := valimotest.Person{Code: "38001085718", GivenName: "Mari", Surname: "Maasikas"}

		t.Run("signs", func(t *testing.T) {
			w.mssp.Set("+37200000766", valimotest.Behavior{Outcome: valimotest.Signs, Person: mari, Pending: 2})
			before := w.counts()
			out := w.login("+37200000766")
			require.Equal(t, "OK", out["state"], out)
			require.Equal(t, "User authenticated.", out["details"])
			require.Equal(t, "", out["error_message"])
			token, _ := out["token"].(string)
			require.Len(t, token, 40)
			u := me(w, token)
			require.Equal(t, "valimo", u["registration_method"])
			require.Equal(t, "38001085718", u["civil_number"])
			require.Equal(t, "Mari", u["first_name"])
			require.Equal(t, "Maasikas", u["last_name"])
			require.Equal(t, "+37200000766", u["phone_number"])
			after := w.counts()
			require.Equal(t, before["users"]+1, after["users"])
			require.Equal(t, before["tokens"]+1, after["tokens"])

			// What the MSSP got: an asynchronous request whose text carries
			// the code, then status queries until the signature.
			var sig []valimotest.Request
			polls := 0
			for _, r := range w.mssp.Requests() {
				switch {
				case r.Op == "MSS_Signature" && r.MSISDN == "+37200000766":
					sig = append(sig, r)
				case r.Op == "MSS_StatusQuery" && r.MSISDN == "+37200000766":
					polls++
				}
			}
			require.Len(t, sig, 1)
			require.Equal(t, "asynchClientServer", sig[0].MessagingMode)
			require.Equal(t, "Login code: "+out["message"].(string), sig[0].Text)
			require.Equal(t, "W"+out["uuid"].(string), sig[0].APTransID)
			require.Equal(t, "2", sig[0].TimeOut)
			require.Equal(t, "http://mss.ficom.fi/TS102204/v1.0.0#PKI", sig[0].SignatureProfile)
			require.Equal(t, 3, polls, "two outstanding answers, then the signature")

			// The next login finds the same user: same token, no new user.
			again := w.login("+37200000766")
			require.Equal(t, "OK", again["state"], again)
			require.Equal(t, token, again["token"])
			require.Equal(t, after, w.counts())
		})

		t.Run("a known personal code logs its user in", func(t *testing.T) {
			civil := "49403136515"
			p := &store.UserProfile{}
			p.Username, p.IsActive, p.CivilNumber, p.RegistrationMethod = "liis", true, &civil, "default"
			require.NoError(t, w.st.CreateUserProfile(context.Background(), p, "Secret-pass-1", nil))
			w.mssp.Set("+37200000777", valimotest.Behavior{Outcome: valimotest.Signs,
				Person: valimotest.Person{Code: civil, GivenName: "Liis", Surname: "Tamm"}})
			before := w.counts()
			out := w.login("+37200000777")
			require.Equal(t, "OK", out["state"], out)
			u := me(w, out["token"].(string))
			require.Equal(t, "liis", u["username"])
			require.Equal(t, "default", u["registration_method"])
			require.Equal(t, before["users"], w.counts()["users"])
		})

		nothing := func(t *testing.T, phone, state, details, errMsg string) {
			t.Helper()
			before := w.counts()
			out := w.login(phone)
			require.Equal(t, state, out["state"], out)
			require.Equal(t, details, out["details"])
			require.Equal(t, errMsg, out["error_message"])
			require.Nil(t, out["token"])
			require.Equal(t, before, w.counts(), "no user and no token made")
		}
		t.Run("cancels", func(t *testing.T) {
			w.mssp.Set("+37200000801", valimotest.Behavior{Outcome: valimotest.Cancels, Person: mari, Pending: 1})
			nothing(t, "+37200000801", "Canceled", "User cancel.", "")
		})
		t.Run("expires at the MSSP", func(t *testing.T) {
			w.mssp.Set("+37200000802", valimotest.Behavior{Outcome: valimotest.Expires, Person: mari})
			nothing(t, "+37200000802", "Canceled", "Signature request expired.", "")
		})
		t.Run("never answered", func(t *testing.T) {
			w.mssp.Set("+37200000803", valimotest.Behavior{Outcome: valimotest.Outstanding, Person: mari})
			nothing(t, "+37200000803", "Canceled", "Login timed out.", "")
		})
		t.Run("no mobile ID", func(t *testing.T) {
			nothing(t, "+37200000804", "Canceled", "No mobile ID found for this phone number.", "")
		})
		t.Run("service 5xx retried", func(t *testing.T) {
			w.mssp.Set("+37200000805", valimotest.Behavior{Outcome: valimotest.Signs, Failures: 2, StatusFailures: 1,
				Person: valimotest.Person{Code: "38512120011", GivenName: "Jaan", Surname: "Kask"}})
			out := w.login("+37200000805")
			require.Equal(t, "OK", out["state"], out)
			failed := map[string]int{}
			for _, r := range w.mssp.Requests() {
				if r.MSISDN == "+37200000805" && r.HTTPStatus == http.StatusServiceUnavailable {
					failed[r.Op]++
				}
			}
			require.Equal(t, map[string]int{"MSS_Signature": 2, "MSS_StatusQuery": 1}, failed)
		})
		t.Run("service down", func(t *testing.T) {
			w.mssp.Set("+37200000806", valimotest.Behavior{Outcome: valimotest.Signs, Failures: 100, Person: mari})
			nothing(t, "+37200000806", "Erred", "", "Mobile ID service is unavailable, please try again later.")
		})
		t.Run("disabled user", func(t *testing.T) {
			civil := "37605030299"
			p := &store.UserProfile{}
			p.Username, p.IsActive, p.CivilNumber = "disabled", false, &civil
			require.NoError(t, w.st.CreateUserProfile(context.Background(), p, "", nil))
			w.mssp.Set("+37200000807", valimotest.Behavior{Outcome: valimotest.Signs,
				Person: valimotest.Person{Code: civil, GivenName: "Dis", Surname: "Abled"}})
			nothing(t, "+37200000807", "Erred", "", "User account is disabled.")
		})
	})
}

// TestValimoRequests: the input checks, an unknown result, and the routes
// of a login that is not configured.
func TestValimoRequests(t *testing.T) {
	db := dbtest.Migrated(t, config.SQLite)
	st := store.New(db)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	serve := func(cfg config.Valimo) *httptest.Server {
		srv := httptest.NewServer(api.New(api.Deps{DB: db, Users: st, Logger: log},
			valimo.New(valimo.Deps{Store: st, Config: cfg, Logger: log})).Handler())
		t.Cleanup(srv.Close)
		return srv
	}
	post := func(srv *httptest.Server, path, body string) (int, map[string]any) {
		resp, err := http.Post(srv.URL+path, "application/json", strings.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	off := serve(config.DefaultValimo())
	code, out := post(off, "/api/auth-valimo/", `{"phone":"+37200000766"}`)
	require.Equal(t, http.StatusNotFound, code)
	require.Equal(t, "Valimo login is not configured.", out["detail"])
	code, _ = post(off, "/api/auth-valimo/result/", `{"uuid":"e42473f39c844333a80107e139a4dd06"}`)
	require.Equal(t, http.StatusNotFound, code)

	cfg := config.DefaultValimo()
	cfg.Enabled, cfg.URL, cfg.APID = true, "http://127.0.0.1:1/", "ap"
	on := serve(cfg)
	for _, tc := range []struct {
		path, body string
		want       map[string]any
	}{
		{"/api/auth-valimo/", `{}`, map[string]any{"phone": []any{"This field is required."}}},
		{"/api/auth-valimo/", `{"phone":""}`, map[string]any{"phone": []any{"This field may not be blank."}}},
		{"/api/auth-valimo/", `{"phone":"` + strings.Repeat("1", 31) + `"}`,
			map[string]any{"phone": []any{"Ensure this field has no more than 30 characters."}}},
		{"/api/auth-valimo/result/", `{}`, map[string]any{"uuid": []any{"This field is required."}}},
		{"/api/auth-valimo/result/", `{"uuid":"nope"}`, map[string]any{"uuid": []any{"Must be a valid UUID."}}},
	} {
		code, out := post(on, tc.path, tc.body)
		require.Equal(t, http.StatusBadRequest, code, tc.body)
		require.Equal(t, tc.want, out, tc.body)
	}
	code, out = post(on, "/api/auth-valimo/result/", `{"uuid":"e42473f39c844333a80107e139a4dd06"}`)
	require.Equal(t, http.StatusNotFound, code, out)

	// No Temporal: the login cannot start, 503, and its result says so.
	var n int64
	code, out = post(on, "/api/auth-valimo/", `{"phone":"+37200000766"}`)
	require.Equal(t, http.StatusServiceUnavailable, code, out)
	require.NoError(t, db.Model(&valimo.Result{}).Where("state = ?", valimo.StateErred).Count(&n).Error)
	require.EqualValues(t, 1, n)
}
