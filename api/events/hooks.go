package events

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"net/url"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// hookKind is one of the two hook endpoints.
type hookKind struct {
	hookType   string // store.HookTypeWeb or store.HookTypeEmail
	collection string // URL collection
	required   string // the field a create or PUT must carry
}

var (
	webKind   = hookKind{hookType: store.HookTypeWeb, collection: "hooks-web", required: "destination_url"}
	emailKind = hookKind{hookType: store.HookTypeEmail, collection: "hooks-email", required: "email"}
)

func kindOf(hookType string) hookKind {
	if hookType == store.HookTypeEmail {
		return emailKind
	}
	return webKind
}

// HookBase holds the fields every hook renders (Waldur's BaseHookSerializer).
type HookBase struct {
	URL            string      `json:"url" example:"https://waldur.example.com/api/hooks-web/8b5f4a0e5b3d4c0b9a1f2e3d4c5b6a79/"`
	UUID           models.UUID `json:"uuid" swaggertype:"string" example:"8b5f4a0e5b3d4c0b9a1f2e3d4c5b6a79"`
	IsActive       bool        `json:"is_active"`
	AuthorUUID     models.UUID `json:"author_uuid" swaggertype:"string" example:"1c3323fc4ae44120b57ec40dea1be6e6"`
	EventTypes     []string    `json:"event_types"`
	EventGroups    []string    `json:"event_groups"`
	Created        time.Time   `json:"created"`
	Modified       time.Time   `json:"modified"`
	HookType       string      `json:"hook_type" example:"webhook"`
	AuthorFullname string      `json:"author_fullname"`
	AuthorUsername string      `json:"author_username"`
	AuthorEmail    string      `json:"author_email"`
}

// WebHook is a web hook (Waldur's WebHookSerializer).
type WebHook struct {
	HookBase
	DestinationURL string `json:"destination_url" example:"https://example.com/waldur-events"`
	ContentType    string `json:"content_type" enums:"json,form" example:"json"`
}

// EmailHook is an email hook (Waldur's EmailHookSerializer).
type EmailHook struct {
	HookBase
	Email string `json:"email" example:"alerts@example.com"`
}

// WebHookRequest is the body of a web hook create, update or partial update.
type WebHookRequest struct {
	IsActive       *bool    `json:"is_active"`
	EventTypes     []string `json:"event_types"`
	EventGroups    []string `json:"event_groups"`
	DestinationURL string   `json:"destination_url" example:"https://example.com/waldur-events"`
	ContentType    string   `json:"content_type" enums:"json,form"`
}

// EmailHookRequest is the body of an email hook create, update or partial update.
type EmailHookRequest struct {
	IsActive    *bool    `json:"is_active"`
	EventTypes  []string `json:"event_types"`
	EventGroups []string `json:"event_groups"`
	Email       string   `json:"email" example:"alerts@example.com"`
}

func fullName(u *models.User) string {
	return strings.TrimSpace(u.FirstName + " " + u.LastName)
}

// renderHook renders a hook as its kind's response type.
func renderHook(c *gin.Context, h *store.Hook, author *models.User) any {
	k := kindOf(h.HookType)
	b := HookBase{
		URL: rest.URL(c, k.collection, h.UUID), UUID: h.UUID, IsActive: h.IsActive,
		EventTypes: nonNil(h.EventTypes), EventGroups: nonNil(h.EventGroups),
		Created: h.Created, Modified: h.Modified, HookType: h.HookType,
	}
	if author != nil {
		b.AuthorUUID, b.AuthorFullname, b.AuthorUsername, b.AuthorEmail = author.UUID, fullName(author), author.Username, author.Email
	}
	if h.HookType == store.HookTypeEmail {
		return EmailHook{HookBase: b, Email: h.Email}
	}
	ct := h.ContentType
	if ct == "" {
		ct = store.HookContentJSON
	}
	return WebHook{HookBase: b, DestinationURL: h.DestinationURL, ContentType: ct}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (m *Module) renderHooks(c *gin.Context, hs []store.Hook) ([]any, error) {
	ids := make([]int64, 0, len(hs))
	for _, h := range hs {
		ids = append(ids, h.UserID)
	}
	authors, err := m.st.HookAuthors(c.Request.Context(), ids)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(hs))
	for i := range hs {
		out[i] = renderHook(c, &hs[i], authors[hs[i].UserID])
	}
	return out, nil
}

// Newest first; hooks created in the same instant newest id first.
var hookListSpec = rest.ListSpec{
	Ordering:        map[string]string{"created": "hooks.created", "modified": "hooks.modified", "id": "hooks.id"},
	DefaultOrdering: []string{"-created", "-id"},
	TieBreaker:      "hooks.id",
}

// hookFilter reads the filters of the hook lists (Waldur's BaseHookFilter
// and the WebHook/EmailHook filters).
func hookFilter(c *gin.Context, hookType string) (store.HookFilter, error) {
	f := store.HookFilter{
		HookType:       hookType,
		AuthorUsername: last(c, "author_username"),
		AuthorEmail:    last(c, "author_email"),
		AuthorFullName: last(c, "author_fullname"),
		Query:          last(c, "query"),
	}
	ids, err := rest.UUIDs(c, "author_uuid")
	if err != nil {
		return f, err
	}
	if len(ids) > 0 {
		f.AuthorUUID = &ids[len(ids)-1]
	}
	if f.IsActive, err = rest.Bool(c, "is_active"); err != nil {
		return f, err
	}
	switch hookType {
	case store.HookTypeWeb:
		f.DestinationURL = last(c, "destination_url")
		if ct := last(c, "content_type"); ct != "" {
			if ct != store.HookContentJSON && ct != store.HookContentForm {
				return f, models.FieldError("content_type", fmt.Sprintf("Select a valid choice. %s is not one of the available choices.", ct))
			}
			f.ContentType = ct
		}
	case store.HookTypeEmail:
		f.Email = last(c, "email")
	}
	if v := last(c, "last_published"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return f, models.FieldError("last_published", "Enter a valid date/time.")
		}
		t = t.UTC()
		f.LastPublished = &t
	}
	return f, nil
}

// listHooks godoc
//
//	@Summary		List hooks of every type
//	@Description	Web and email hooks together, each in its own shape. Staff and support see every hook, other users their own.
//	@Tags			hooks
//	@Produce		json
//	@Security		TokenAuth
//	@Param			author_uuid	query		string	false	"Filter by author UUID."
//	@Param			is_active	query		bool	false	"Filter by active status."
//	@Param			page		query		int		false	"Page number"
//	@Param			page_size	query		int		false	"Page size"
//	@Success		200			{array}		WebHook
//	@Failure		401			{object}	api.ErrorBody
//	@Router			/api/hooks/ [get]
func (m *Module) listHooks(c *gin.Context) error {
	f, err := hookFilter(c, "")
	if err != nil {
		return err
	}
	return rest.ListBatch(c, m.st.HooksList(c.Request.Context(), f), hookListSpec, func(hs []store.Hook) ([]any, error) {
		return m.renderHooks(c, hs)
	})
}

func (m *Module) listKind(c *gin.Context, k hookKind) error {
	f, err := hookFilter(c, k.hookType)
	if err != nil {
		return err
	}
	return rest.ListBatch(c, m.st.HooksList(c.Request.Context(), f), hookListSpec, func(hs []store.Hook) ([]any, error) {
		return m.renderHooks(c, hs)
	})
}

// hook loads a hook the user can see, as a 404 otherwise.
func (m *Module) hook(c *gin.Context, k hookKind) (*store.Hook, error) {
	id, err := models.ParseUUID(c.Param("uuid"))
	if err != nil {
		return nil, models.Errorf(models.CodeNotFound, "Not found.")
	}
	return m.st.VisibleHook(c.Request.Context(), k.hookType, id)
}

func (m *Module) renderOne(c *gin.Context, status int, h *store.Hook) error {
	authors, err := m.st.HookAuthors(c.Request.Context(), []int64{h.UserID})
	if err != nil {
		return err
	}
	return rest.Render(c, status, renderHook(c, h, authors[h.UserID]))
}

func (m *Module) getKind(c *gin.Context, k hookKind) error {
	h, err := m.hook(c, k)
	if err != nil {
		return err
	}
	return m.renderOne(c, http.StatusOK, h)
}

func (m *Module) createKind(c *gin.Context, k hookKind) error {
	body, err := readObject(c)
	if err != nil {
		return err
	}
	h := &store.Hook{UserID: api.CurrentUser(c).ID, HookType: k.hookType, IsActive: true}
	if k.hookType == store.HookTypeWeb {
		h.ContentType = store.HookContentJSON
	}
	if err := applyHook(h, body, k, true); err != nil {
		return err
	}
	if err := m.st.CreateHook(c.Request.Context(), h); err != nil {
		return err
	}
	return m.renderOne(c, http.StatusCreated, h)
}

func (m *Module) updateKind(c *gin.Context, k hookKind) error {
	h, err := m.hook(c, k)
	if err != nil {
		return err
	}
	if err := m.st.MayChangeHook(c.Request.Context(), h); err != nil {
		return err
	}
	body, err := readObject(c)
	if err != nil {
		return err
	}
	if err := applyHook(h, body, k, c.Request.Method == http.MethodPut); err != nil {
		return err
	}
	if err := m.st.UpdateHook(c.Request.Context(), h); err != nil {
		return err
	}
	return m.renderOne(c, http.StatusOK, h)
}

func (m *Module) deleteKind(c *gin.Context, k hookKind) error {
	h, err := m.hook(c, k)
	if err != nil {
		return err
	}
	if err := m.st.MayChangeHook(c.Request.Context(), h); err != nil {
		return err
	}
	if err := m.st.DeleteHook(c.Request.Context(), h.ID); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

// listWebHooks godoc
//
//	@Summary		List web hooks
//	@Description	Staff and support see every web hook, other users their own.
//	@Tags			hooks-web
//	@Produce		json
//	@Security		TokenAuth
//	@Param			author_uuid		query		string	false	"Author UUID"
//	@Param			author_username	query		string	false	"Author username"
//	@Param			author_email	query		string	false	"Author email"
//	@Param			author_fullname	query		string	false	"User full name contains"
//	@Param			query			query		string	false	"Filter by author name, username and email"
//	@Param			is_active		query		bool	false	"Active"
//	@Param			destination_url	query		string	false	"Destination URL"
//	@Param			content_type	query		string	false	"json or form"
//	@Param			last_published	query		string	false	"Last published (RFC 3339)"
//	@Param			page			query		int		false	"Page number"
//	@Param			page_size		query		int		false	"Page size"
//	@Success		200				{array}		WebHook
//	@Failure		401				{object}	api.ErrorBody
//	@Router			/api/hooks-web/ [get]
func (m *Module) listWebHooks(c *gin.Context) error { return m.listKind(c, webKind) }

// createWebHook godoc
//
//	@Summary		Create a web hook
//	@Description	Matching events are POSTed to destination_url as JSON or a form, with retries. Specify event_types or event_groups; groups are expanded into event_types.
//	@Tags			hooks-web
//	@Accept			json
//	@Produce		json
//	@Security		TokenAuth
//	@Param			body	body		WebHookRequest	true	"Web hook"
//	@Success		201		{object}	WebHook
//	@Failure		400		{object}	map[string][]string
//	@Failure		401		{object}	api.ErrorBody
//	@Router			/api/hooks-web/ [post]
func (m *Module) createWebHook(c *gin.Context) error { return m.createKind(c, webKind) }

// getWebHook godoc
//
//	@Summary	Get a web hook
//	@Tags		hooks-web
//	@Produce	json
//	@Security	TokenAuth
//	@Param		uuid	path		string	true	"Hook UUID"
//	@Success	200		{object}	WebHook
//	@Failure	401		{object}	api.ErrorBody
//	@Failure	404		{object}	api.ErrorBody
//	@Router		/api/hooks-web/{uuid}/ [get]
func (m *Module) getWebHook(c *gin.Context) error { return m.getKind(c, webKind) }

// updateWebHook godoc
//
//	@Summary		Update a web hook
//	@Description	PUT requires destination_url; PATCH changes the fields given. Only the owner and staff may change a hook.
//	@Tags			hooks-web
//	@Accept			json
//	@Produce		json
//	@Security		TokenAuth
//	@Param			uuid	path		string			true	"Hook UUID"
//	@Param			body	body		WebHookRequest	true	"Web hook"
//	@Success		200		{object}	WebHook
//	@Failure		400		{object}	map[string][]string
//	@Failure		401		{object}	api.ErrorBody
//	@Failure		403		{object}	api.ErrorBody
//	@Failure		404		{object}	api.ErrorBody
//	@Router			/api/hooks-web/{uuid}/ [put]
//	@Router			/api/hooks-web/{uuid}/ [patch]
func (m *Module) updateWebHook(c *gin.Context) error { return m.updateKind(c, webKind) }

// deleteWebHook godoc
//
//	@Summary	Delete a web hook
//	@Tags		hooks-web
//	@Security	TokenAuth
//	@Param		uuid	path	string	true	"Hook UUID"
//	@Success	204
//	@Failure	401	{object}	api.ErrorBody
//	@Failure	403	{object}	api.ErrorBody
//	@Failure	404	{object}	api.ErrorBody
//	@Router		/api/hooks-web/{uuid}/ [delete]
func (m *Module) deleteWebHook(c *gin.Context) error { return m.deleteKind(c, webKind) }

// listEmailHooks godoc
//
//	@Summary		List email hooks
//	@Description	Staff and support see every email hook, other users their own.
//	@Tags			hooks-email
//	@Produce		json
//	@Security		TokenAuth
//	@Param			author_uuid		query		string	false	"Author UUID"
//	@Param			author_username	query		string	false	"Author username"
//	@Param			author_email	query		string	false	"Author email"
//	@Param			author_fullname	query		string	false	"User full name contains"
//	@Param			query			query		string	false	"Filter by author name, username and email"
//	@Param			is_active		query		bool	false	"Active"
//	@Param			email			query		string	false	"Email"
//	@Param			last_published	query		string	false	"Last published (RFC 3339)"
//	@Param			page			query		int		false	"Page number"
//	@Param			page_size		query		int		false	"Page size"
//	@Success		200				{array}		EmailHook
//	@Failure		401				{object}	api.ErrorBody
//	@Router			/api/hooks-email/ [get]
func (m *Module) listEmailHooks(c *gin.Context) error { return m.listKind(c, emailKind) }

// createEmailHook godoc
//
//	@Summary		Create an email hook
//	@Description	Matching events are mailed to email (through SMTP when configured, to the log otherwise). Specify event_types or event_groups; groups are expanded into event_types.
//	@Tags			hooks-email
//	@Accept			json
//	@Produce		json
//	@Security		TokenAuth
//	@Param			body	body		EmailHookRequest	true	"Email hook"
//	@Success		201		{object}	EmailHook
//	@Failure		400		{object}	map[string][]string
//	@Failure		401		{object}	api.ErrorBody
//	@Router			/api/hooks-email/ [post]
func (m *Module) createEmailHook(c *gin.Context) error { return m.createKind(c, emailKind) }

// getEmailHook godoc
//
//	@Summary	Get an email hook
//	@Tags		hooks-email
//	@Produce	json
//	@Security	TokenAuth
//	@Param		uuid	path		string	true	"Hook UUID"
//	@Success	200		{object}	EmailHook
//	@Failure	401		{object}	api.ErrorBody
//	@Failure	404		{object}	api.ErrorBody
//	@Router		/api/hooks-email/{uuid}/ [get]
func (m *Module) getEmailHook(c *gin.Context) error { return m.getKind(c, emailKind) }

// updateEmailHook godoc
//
//	@Summary		Update an email hook
//	@Description	PUT requires email; PATCH changes the fields given. Only the owner and staff may change a hook.
//	@Tags			hooks-email
//	@Accept			json
//	@Produce		json
//	@Security		TokenAuth
//	@Param			uuid	path		string				true	"Hook UUID"
//	@Param			body	body		EmailHookRequest	true	"Email hook"
//	@Success		200		{object}	EmailHook
//	@Failure		400		{object}	map[string][]string
//	@Failure		401		{object}	api.ErrorBody
//	@Failure		403		{object}	api.ErrorBody
//	@Failure		404		{object}	api.ErrorBody
//	@Router			/api/hooks-email/{uuid}/ [put]
//	@Router			/api/hooks-email/{uuid}/ [patch]
func (m *Module) updateEmailHook(c *gin.Context) error { return m.updateKind(c, emailKind) }

// deleteEmailHook godoc
//
//	@Summary	Delete an email hook
//	@Tags		hooks-email
//	@Security	TokenAuth
//	@Param		uuid	path	string	true	"Hook UUID"
//	@Success	204
//	@Failure	401	{object}	api.ErrorBody
//	@Failure	403	{object}	api.ErrorBody
//	@Failure	404	{object}	api.ErrorBody
//	@Router		/api/hooks-email/{uuid}/ [delete]
func (m *Module) deleteEmailHook(c *gin.Context) error { return m.deleteKind(c, emailKind) }

// readObject reads the request body as a JSON object of raw fields. An
// empty body is an empty object.
func readObject(c *gin.Context) (map[string]json.RawMessage, error) {
	raw, err := io.ReadAll(io.LimitReader(c.Request.Body, 1<<20))
	if err != nil {
		return nil, models.Errorf(models.CodeInvalid, "Could not read the request body.")
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return map[string]json.RawMessage{}, nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, &models.Error{Code: models.CodeInvalid, Message: "JSON parse error - " + err.Error()}
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, models.Errorf(models.CodeInvalid, "Invalid data. Expected a dictionary, but got %s.", pyType(v))
	}
	var out map[string]json.RawMessage
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, models.Internal(err)
	}
	return out, nil
}

// pyType names a decoded JSON value as DRF's messages do.
func pyType(v any) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case float64:
		return "float"
	case string:
		return "str"
	case []any:
		return "list"
	default:
		return "dict"
	}
}

// fieldErrors collects DRF-style field → messages.
type fieldErrors map[string][]string

func (f fieldErrors) add(field, msg string) { f[field] = append(f[field], msg) }

func (f fieldErrors) err() error {
	if len(f) == 0 {
		return nil
	}
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return &models.Error{Code: models.CodeInvalid, Message: f[keys[0]][0], Fields: f}
}

// validEventTypes and validEventGroups are what hooks may subscribe to:
// Waldur's types and groups and those this platform emits.
var validEventTypes, validEventGroups = func() (map[string]bool, map[string]bool) {
	ts, gs := map[string]bool{}, map[string]bool{}
	for _, t := range waldurEventTypes {
		ts[t] = true
		waldurEventType[t] = true
	}
	for _, g := range waldurEventGroups {
		gs[g] = true
	}
	for g, types := range models.EventGroups {
		gs[g] = true
		for _, t := range types {
			ts[t] = true
		}
	}
	return ts, gs
}()

// waldurEventType holds Waldur's own event types (EventTypesEnum).
var waldurEventType = map[string]bool{}

// applyHook validates the body fields and applies them to h, as Waldur's
// hook serializers: full (create, PUT) requires the kind's destination
// field; a create needs event_types or event_groups; event_groups given
// expand into event_types.
func applyHook(h *store.Hook, body map[string]json.RawMessage, k hookKind, full bool) error {
	errs := fieldErrors{}
	creating := h.ID == 0
	if raw, ok := body["is_active"]; ok {
		if b, msg := parseBool(raw); msg != "" {
			errs.add("is_active", msg)
		} else {
			h.IsActive = b
		}
	}
	types, hasTypes := choices(body, "event_types", validEventTypes, errs)
	groups, hasGroups := choices(body, "event_groups", validEventGroups, errs)
	if raw, ok := body[k.required]; ok {
		s, msg := parseString(raw)
		if msg == "" {
			if k.hookType == store.HookTypeWeb {
				msg = validateURL(s)
			} else {
				msg = validateEmail(s)
			}
		}
		if msg != "" {
			errs.add(k.required, msg)
		} else if k.hookType == store.HookTypeWeb {
			h.DestinationURL = s
		} else {
			h.Email = s
		}
	} else if full {
		errs.add(k.required, "This field is required.")
	}
	if k.hookType == store.HookTypeWeb {
		if raw, ok := body["content_type"]; ok {
			s, msg := parseString(raw)
			if msg == "" && s != store.HookContentJSON && s != store.HookContentForm {
				msg = fmt.Sprintf("%q is not a valid choice.", s)
			}
			if msg != "" {
				errs.add("content_type", msg)
			} else {
				h.ContentType = s
			}
		}
	}
	if err := errs.err(); err != nil {
		return err
	}
	if creating && !hasTypes && !hasGroups {
		return models.Errorf(models.CodeInvalid, "Please specify list of event_types or event_groups.")
	}
	switch {
	case hasGroups:
		set := map[string]bool{}
		for _, t := range store.ExpandEventGroups(groups) {
			// The expansion shows Waldur's types only, so that Waldur-valid
			// input renders Waldur-valid output; matching expands the
			// groups again, so the other types of a group are delivered too.
			if waldurEventType[t] {
				set[t] = true
			}
		}
		for _, t := range types {
			set[t] = true
		}
		all := make([]string, 0, len(set))
		for t := range set {
			all = append(all, t)
		}
		sort.Strings(all)
		h.EventTypes, h.EventGroups = all, groups
	case hasTypes:
		h.EventTypes = types
	}
	return nil
}

// choices parses a list of choices (DRF's MultipleChoiceField), keeping the
// first occurrence of each.
func choices(body map[string]json.RawMessage, field string, valid map[string]bool, errs fieldErrors) ([]string, bool) {
	raw, ok := body[field]
	if !ok {
		return nil, false
	}
	var items []any
	if err := json.Unmarshal(raw, &items); err != nil || items == nil {
		var v any
		_ = json.Unmarshal(raw, &v)
		if v == nil {
			errs.add(field, "This field may not be null.")
		} else {
			errs.add(field, fmt.Sprintf("Expected a list of items but got type %q.", pyType(v)))
		}
		return nil, true
	}
	out := make([]string, 0, len(items))
	seen := map[string]bool{}
	for _, it := range items {
		s, isStr := it.(string)
		if !isStr || !valid[s] {
			errs.add(field, fmt.Sprintf("%q is not a valid choice.", fmt.Sprint(it)))
			continue
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out, true
}

// parseBool accepts what DRF's BooleanField accepts.
func parseBool(raw json.RawMessage) (bool, string) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return false, "Must be a valid boolean."
	}
	switch x := v.(type) {
	case bool:
		return x, ""
	case float64:
		if x == 1 {
			return true, ""
		}
		if x == 0 {
			return false, ""
		}
	case string:
		switch strings.ToLower(x) {
		case "true", "1", "yes", "on", "y", "t":
			return true, ""
		case "false", "0", "no", "off", "n", "f":
			return false, ""
		}
	case nil:
		return false, "This field may not be null."
	}
	return false, "Must be a valid boolean."
}

func parseString(raw json.RawMessage) (string, string) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", "Not a valid string."
	}
	switch x := v.(type) {
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return "", "This field may not be blank."
		}
		return s, ""
	case nil:
		return "", "This field may not be null."
	default:
		return "", "Not a valid string."
	}
}

// validateURL accepts absolute http and https URLs with a host, up to 200
// characters (Waldur's URLField).
func validateURL(s string) string {
	if utf8.RuneCountInString(s) > 200 {
		return "Ensure this field has no more than 200 characters."
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || strings.ContainsAny(s, " \t\r\n") {
		return "Enter a valid URL."
	}
	if p := u.Port(); p != "" {
		for _, r := range p {
			if r < '0' || r > '9' {
				return "Enter a valid URL."
			}
		}
	}
	return ""
}

// validateEmail accepts a bare address with a dotted domain (or localhost), up to 320 characters.
func validateEmail(s string) string {
	if utf8.RuneCountInString(s) > 320 {
		return "Ensure this field has no more than 320 characters."
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return "Enter a valid email address."
	}
	at := strings.LastIndex(s, "@")
	domain := s[at+1:]
	if domain != "localhost" && (!strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".")) {
		return "Enter a valid email address."
	}
	return ""
}
