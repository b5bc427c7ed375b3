package orders

import (
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// The staff's and the provider's direct changes of a resource: its flags
// (downscaled, paused, restrict_member_access), its slug and its end date.
// Each looks the resource up as the caller sees it from the path's side
// (404), then checks who may change it (403), then reads the body (400):
// Waldur's get_object, action permissions, serializer.

// permResourceSetEndDate is set_end_date_by_provider's permission (Waldur's
// user_can_set_end_date_by_provider: RESOURCE.SET_END_DATE on the offering's
// customer, or global support).
const permResourceSetEndDate models.Permission = "RESOURCE.SET_END_DATE"

// MsgEndDateInPast is the end_date error of a date before today (Waldur's
// text for a resource's end date).
const MsgEndDateInPast = "Cannot be earlier than the current date."

// flagRoutes registers the actions on both views: r is
// /api/marketplace-resources/, p /api/marketplace-provider-resources/.
func (m *Module) flagRoutes(r, p *gin.RouterGroup) {
	for _, g := range []struct {
		grp *gin.RouterGroup
		s   side
	}{{r, consumerSide}, {p, providerSide}} {
		g.grp.POST("/:uuid/set_downscaled/", api.H(m.setDownscaled(g.s)))
		g.grp.POST("/:uuid/set_paused/", api.H(m.setPaused(g.s)))
		g.grp.POST("/:uuid/set_restrict_member_access/", api.H(m.setRestrictMemberAccess(g.s)))
		g.grp.POST("/:uuid/set_slug/", api.H(m.setSlug(g.s)))
		g.grp.POST("/:uuid/set_end_date_by_staff/", api.H(m.setEndDateByStaff(g.s)))
	}
	p.POST("/:uuid/set_end_date_by_provider/", api.H(m.setEndDateByProvider))
}

// staffResource is the resource of the path for a staff action: 404 when
// the caller does not see it from s, 403 when the caller is not staff.
func (m *Module) staffResource(c *gin.Context, s side) (*store.ResourceView, error) {
	v, err := m.visibleResource(c, s)
	if err != nil {
		return nil, err
	}
	if u := api.CurrentUser(c); u == nil || !u.IsStaff {
		return nil, models.Errorf(models.CodeForbidden, "You do not have permission to perform this action.")
	}
	return v, nil
}

// ResourceDownscaledRequest is the body of set_downscaled.
type ResourceDownscaledRequest struct {
	Downscaled bool `json:"downscaled"`
}

// ResourcePausedRequest is the body of set_paused.
type ResourcePausedRequest struct {
	Paused bool `json:"paused"`
}

// ResourceRestrictMemberAccessRequest is the body of set_restrict_member_access.
type ResourceRestrictMemberAccessRequest struct {
	RestrictMemberAccess bool `json:"restrict_member_access"`
}

// @Summary	Set a resource's downscaled flag
// @Description	Staff only. downscaled is required. Answers "Resource downscaled flag has been changed." or, when it had that value already, "Resource downscaled flag is not changed.".
// @Tags		marketplace-resources
// @Param		uuid	path	string	true	"Resource UUID"
// @Param		body	body	ResourceDownscaledRequest	true	"The flag's new value"
// @Success	200	{object}	Status
// @Router		/api/marketplace-resources/{uuid}/set_downscaled/ [post]
// @Router		/api/marketplace-provider-resources/{uuid}/set_downscaled/ [post]
func (m *Module) setDownscaled(s side) api.Handler { return m.setFlag(s, store.FlagDownscaled) }

// @Summary	Set a resource's paused flag
// @Description	Staff only. paused is required. Answers "Resource paused flag has been changed." or, when it had that value already, "Resource paused flag is not changed.".
// @Tags		marketplace-resources
// @Param		uuid	path	string	true	"Resource UUID"
// @Param		body	body	ResourcePausedRequest	true	"The flag's new value"
// @Success	200	{object}	Status
// @Router		/api/marketplace-resources/{uuid}/set_paused/ [post]
// @Router		/api/marketplace-provider-resources/{uuid}/set_paused/ [post]
func (m *Module) setPaused(s side) api.Handler { return m.setFlag(s, store.FlagPaused) }

// @Summary	Set a resource's restrict_member_access flag
// @Description	Staff only. restrict_member_access is required. Answers "Resource restrict_member_access flag has been changed." or, when it had that value already, "Resource restrict_member_access flag is not changed.".
// @Tags		marketplace-resources
// @Param		uuid	path	string	true	"Resource UUID"
// @Param		body	body	ResourceRestrictMemberAccessRequest	true	"The flag's new value"
// @Success	200	{object}	Status
// @Router		/api/marketplace-resources/{uuid}/set_restrict_member_access/ [post]
// @Router		/api/marketplace-provider-resources/{uuid}/set_restrict_member_access/ [post]
func (m *Module) setRestrictMemberAccess(s side) api.Handler {
	return m.setFlag(s, store.FlagRestrictMemberAccess)
}

// setFlag serves set_downscaled, set_paused and set_restrict_member_access:
// the body's value of the flag's key (required).
func (m *Module) setFlag(s side, flag store.ResourceFlag) api.Handler {
	key := string(flag)
	return func(c *gin.Context) error {
		v, err := m.staffResource(c, s)
		if err != nil {
			return err
		}
		f, err := form.Read(c)
		if err != nil {
			return err
		}
		f.Require(key)
		val, _ := f.Bool(key)
		if err := f.Err(); err != nil {
			return err
		}
		changed, err := m.st.SetResourceFlag(c.Request.Context(), v.UUID, flag, val)
		if err != nil {
			return err
		}
		msg := fmt.Sprintf("Resource %s flag is not changed.", key)
		if changed {
			msg = fmt.Sprintf("Resource %s flag has been changed.", key)
		}
		c.JSON(http.StatusOK, Status{Status: msg})
		return nil
	}
}

// ResourceSlugRequest is the body of set_slug.
type ResourceSlugRequest struct {
	Slug string `json:"slug"`
}

// @Summary	Set a resource's slug
// @Description	Staff only. slug: 1 to 50 letters, digits, underscores or hyphens, not another resource's (400). Answers "Resource slug has been changed." or "Resource slug is not changed.".
// @Tags		marketplace-resources
// @Param		uuid	path	string	true	"Resource UUID"
// @Param		body	body	ResourceSlugRequest	true	"The new slug"
// @Success	200	{object}	Status
// @Router		/api/marketplace-resources/{uuid}/set_slug/ [post]
// @Router		/api/marketplace-provider-resources/{uuid}/set_slug/ [post]
func (m *Module) setSlug(s side) api.Handler {
	return func(c *gin.Context) error {
		v, err := m.staffResource(c, s)
		if err != nil {
			return err
		}
		f, err := form.Read(c)
		if err != nil {
			return err
		}
		f.Require("slug")
		slug, _ := f.Slug("slug", 50)
		if err := f.Err(); err != nil {
			return err
		}
		changed, err := m.st.SetResourceSlug(c.Request.Context(), v.UUID, slug)
		if err != nil {
			return err
		}
		msg := "Resource slug is not changed."
		if changed {
			msg = "Resource slug has been changed."
		}
		c.JSON(http.StatusOK, Status{Status: msg})
		return nil
	}
}

// ResourceEndDateRequest is the body of set_end_date_by_staff and
// set_end_date_by_provider (Waldur's ResourceEndDateByProviderRequest).
type ResourceEndDateRequest struct {
	// EndDate is inclusive (YYYY-MM-DD); once reached, the resource is
	// scheduled for termination. Null clears it.
	EndDate *string `json:"end_date"`
}

// @Summary	Set a resource's end date (staff)
// @Description	Staff only. end_date (YYYY-MM-DD, not before today; null clears it) is recorded with who set it (the resource's end_date_requested_by). Without end_date nothing changes.
// @Tags		marketplace-resources
// @Param		uuid	path	string	true	"Resource UUID"
// @Param		body	body	ResourceEndDateRequest	false	"The end date"
// @Success	200
// @Router		/api/marketplace-resources/{uuid}/set_end_date_by_staff/ [post]
// @Router		/api/marketplace-provider-resources/{uuid}/set_end_date_by_staff/ [post]
func (m *Module) setEndDateByStaff(s side) api.Handler {
	return func(c *gin.Context) error {
		v, err := m.staffResource(c, s)
		if err != nil {
			return err
		}
		return m.setEndDate(c, v, true)
	}
}

// @Summary	Set a resource's end date (provider)
// @Description	RESOURCE.SET_END_DATE on the offering's customer (Waldur's user_can_set_end_date_by_provider; global support too). end_date (YYYY-MM-DD, not before today; null clears it) is recorded with who set it (the resource's end_date_requested_by). Without end_date nothing changes.
// @Tags		marketplace-provider-resources
// @Param		uuid	path	string	true	"Resource UUID"
// @Param		body	body	ResourceEndDateRequest	false	"The end date"
// @Success	200
// @Router		/api/marketplace-provider-resources/{uuid}/set_end_date_by_provider/ [post]
func (m *Module) setEndDateByProvider(c *gin.Context) error {
	v, err := m.visibleResource(c, providerSide)
	if err != nil {
		return err
	}
	if u := api.CurrentUser(c); u == nil || !u.IsSupport {
		if err := m.requireProvider(c, v, permResourceSetEndDate, false); err != nil {
			return err
		}
	}
	return m.setEndDate(c, v, false)
}

// setEndDate reads the body of the end date actions and applies it.
func (m *Module) setEndDate(c *gin.Context, v *store.ResourceView, byStaff bool) error {
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	end, _ := f.Date("end_date", true)
	if end != nil {
		now := m.now().UTC()
		if end.Before(time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)) {
			f.Fail("end_date", MsgEndDateInPast)
		}
	}
	if err := f.Err(); err != nil {
		return err
	}
	if f.Has("end_date") {
		if err := m.st.SetResourceEndDate(c.Request.Context(), v.UUID, store.ResourceEndDate{
			EndDate: end, RequestedBy: api.CurrentUser(c), ByStaff: byStaff}); err != nil {
			return err
		}
	}
	ok(c)
	return nil
}
