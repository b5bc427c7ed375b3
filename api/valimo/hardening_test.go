package valimo_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/valimo"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// TestNormalizePhone: E.164 with spaces, dashes and a leading 00 taken;
// anything else refused.
func TestNormalizePhone(t *testing.T) {
	for in, want := range map[string]string{
		"+3725551234": "+3725551234", "00372 5551234": "+3725551234", " +372-555-1234 ": "+3725551234",
		"+1 202 555 0123": "+12025550123", "+358401234567890": "+358401234567890",
	} {
		got, ok := valimo.NormalizePhone(in)
		require.True(t, ok, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"5551234", "3725551234", "+372(555)1234", "+372.555.1234", "+0372555123", "++3725551234",
		"+372555123x", "+1234567", "+3584012345678901", "+", "", "tel:+3725551234"} {
		_, ok := valimo.NormalizePhone(in)
		require.False(t, ok, in)
	}
}

// TestValimoPhoneThrottle: a bad phone number is a 400 creating nothing;
// the same number however written counts against one throttle: past the
// limit within the window, 429 in DRF's words with Retry-After, no login
// recorded; another number is not concerned; after the window it may
// start again.
func TestValimoPhoneThrottle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		st := store.New(db)
		now := time.Now().UTC()
		st.Now = func() time.Time { return now }
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		cfg := config.DefaultValimo()
		cfg.Enabled, cfg.URL, cfg.APID = true, "http://127.0.0.1:1/", "ap"
		cfg.PhoneLogins, cfg.PhoneWindow = 2, 10*time.Minute
		// No Temporal: each login is recorded, then fails to start (503);
		// it counts all the same, as a login started.
		srv := httptest.NewServer(api.New(api.Deps{DB: db, Users: st, Logger: log},
			valimo.New(valimo.Deps{Store: st, Config: cfg, Logger: log})).Handler())
		t.Cleanup(srv.Close)
		post := func(phone string) (int, map[string]any, http.Header) {
			resp, err := http.Post(srv.URL+"/api/auth-valimo/", "application/json", strings.NewReader(`{"phone":"`+phone+`"}`))
			require.NoError(t, err)
			defer resp.Body.Close()
			var out map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&out)
			return resp.StatusCode, out, resp.Header
		}
		rows := func(phone string) int64 {
			var n int64
			require.NoError(t, db.Model(&valimo.Result{}).Where("phone = ?", phone).Count(&n).Error)
			return n
		}

		code, out, _ := post("372 5551234")
		require.Equal(t, http.StatusBadRequest, code)
		require.Equal(t, map[string]any{"phone": []any{valimo.MsgPhone}}, out)
		var all int64
		require.NoError(t, db.Model(&valimo.Result{}).Count(&all).Error)
		require.Zero(t, all)

		for _, p := range []string{"00372 555-1234", "+372 555 1234"} {
			code, out, _ = post(p)
			require.Equal(t, http.StatusServiceUnavailable, code, out)
		}
		require.EqualValues(t, 2, rows("+3725551234"), "stored normalized")
		code, out, h := post("+3725551234")
		require.Equal(t, http.StatusTooManyRequests, code, out)
		require.Equal(t, "Request was throttled. Expected available in 600 seconds.", out["detail"])
		require.Equal(t, "600", h.Get("Retry-After"))
		require.EqualValues(t, 2, rows("+3725551234"), "nothing recorded")

		code, _, _ = post("+3725559999")
		require.Equal(t, http.StatusServiceUnavailable, code, "another number")

		now = now.Add(10*time.Minute + time.Second)
		code, _, _ = post("+3725551234")
		require.Equal(t, http.StatusServiceUnavailable, code, "the window has passed")
	})
}

// TestCreateThrottledConcurrently: concurrent starts of one phone never
// pass the limit together.
func TestCreateThrottledConcurrently(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		s := valimo.NewStore(store.New(db))
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, throttled := 0, 0
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, err := s.CreateThrottled(context.Background(), "+3725550000", 3, time.Minute)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case models.IsCode(err, models.CodeThrottled):
					throttled++
				default:
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		require.Equal(t, 3, ok)
		require.Equal(t, 5, throttled)
	})
}
