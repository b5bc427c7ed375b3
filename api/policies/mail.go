package policies

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// mailLevelPrefix marks a firing row that is the outbox entry of a
// crossing's notify_external_user e-mail (level "mail:" + the crossing's
// level): inserted with the crossing, under the same unique key, and
// deleted once sent, so each crossing is mailed once.
const mailLevelPrefix = "mail:"

// OptNotifyExternal is the key of the policy's options holding the
// external address(es) notify_external_user mails: a string (several
// separated by commas) or a list of strings.
const OptNotifyExternal = "notify_external_user"

func isMail(f *Firing) bool { return strings.HasPrefix(f.Level, mailLevelPrefix) }

// externalEmails are the addresses of the policy's options.
func externalEmails(p *Policy) []string {
	var opts map[string]any
	if json.Unmarshal(p.Options, &opts) != nil {
		return nil
	}
	var raw []string
	switch v := opts[OptNotifyExternal].(type) {
	case string:
		raw = strings.Split(v, ",")
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok {
				raw = append(raw, s)
			}
		}
	}
	var out []string
	for _, s := range raw {
		if s = strings.TrimSpace(s); strings.Contains(s, "@") {
			out = appendOnce(out, s)
		}
	}
	return out
}

// Mailer sends the policies' external e-mails.
type Mailer struct {
	St   *store.Store
	SMTP activities.SMTPConfig
	// Send replaces activities.SendMail (tests).
	Send func(ctx context.Context, cfg activities.SMTPConfig, to, subject, text string, id models.UUID) error
}

// SendExternalMails sends the pending notify_external_user e-mails (one
// per crossing and address) and deletes their outbox rows. A failed send
// leaves its row for the next run. Without SMTP configured the e-mail is
// logged and dropped (as the email hooks do).
func (m *Mailer) SendExternalMails(ctx context.Context) (int, error) {
	var fs []Firing
	if err := m.St.DB.WithContext(ctx).Where("level LIKE ?", mailLevelPrefix+"%").Order("id").Find(&fs).Error; err != nil {
		return 0, models.Internal(err)
	}
	sent := 0
	for i := range fs {
		f := &fs[i]
		var p Policy
		if err := m.St.DB.WithContext(ctx).Where("id = ?", f.PolicyID).Limit(1).Find(&p).Error; err != nil {
			return sent, models.Internal(err)
		}
		if p.ID != 0 {
			c := *f
			c.Level = strings.TrimPrefix(f.Level, mailLevelPrefix)
			subject := fmt.Sprintf("Policy %s has been triggered", strings.ReplaceAll(string(p.Kind), "_", " "))
			text := fmt.Sprintf("Policy %s (%s) has been triggered: %s is over its threshold (%s) in period %s.\n\nActions: %s\n",
				p.UUID, strings.ReplaceAll(string(p.Kind), "_", " "), figureText(&c), c.Level, c.Period, p.Actions)
			for _, to := range externalEmails(&p) {
				if err := m.send(ctx, to, subject, text); err != nil {
					return sent, err // the row stays: the next run sends it (an address mailed already may be mailed again)
				}
				sent++
			}
		}
		if err := m.St.DB.WithContext(ctx).Where("id = ?", f.ID).Delete(&Firing{}).Error; err != nil {
			return sent, models.Internal(err)
		}
	}
	return sent, nil
}

func (m *Mailer) send(ctx context.Context, to, subject, text string) error {
	id := models.NewUUID()
	if m.Send != nil {
		return m.Send(ctx, m.SMTP, to, subject, text, id)
	}
	if !m.SMTP.Enabled() {
		slog.InfoContext(ctx, "policy e-mail (SMTP not configured)", "to", to, "subject", subject, "body", text)
		return nil
	}
	return activities.SendMail(ctx, m.SMTP, to, subject, text, time.Now().UTC(), id)
}
