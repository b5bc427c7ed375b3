package openstacktest

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// identityRoute registers a Keystone route under both /v3 and /identity/v3.
func (e *Emulator) identityRoute(method, path string, ro routeOpts, h handler) {
	e.handle(method+" /v3"+path, svcIdentity, ro, h)
	e.handle(method+" /identity/v3"+path, svcIdentity, ro, h)
}

func (e *Emulator) identityRoutes() {
	e.identityRoute("POST", "/auth/tokens", open, (*call).issueToken)
	e.identityRoute("GET", "/auth/tokens", authed, (*call).checkToken)
	e.identityRoute("DELETE", "/auth/tokens", authed, (*call).revokeToken)
	e.identityRoute("GET", "/auth/projects", authed, (*call).listOwnProjects)
	e.identityRoute("GET", "/auth/catalog", authed, (*call).getCatalog)

	e.identityRoute("GET", "/domains", authed, (*call).listDomains)
	e.identityRoute("GET", "/domains/{id}", authed, (*call).getDomain)

	e.identityRoute("POST", "/projects", authed, (*call).createProject)
	e.identityRoute("GET", "/projects", authed, (*call).listProjects)
	e.identityRoute("GET", "/projects/{id}", authed, (*call).getProject)
	e.identityRoute("PATCH", "/projects/{id}", authed, (*call).updateProject)
	e.identityRoute("DELETE", "/projects/{id}", authed, (*call).deleteProject)

	e.identityRoute("POST", "/users", authed, (*call).createUser)
	e.identityRoute("GET", "/users", authed, (*call).listUsers)
	e.identityRoute("GET", "/users/{id}", authed, (*call).getUser)
	e.identityRoute("PATCH", "/users/{id}", authed, (*call).updateUser)
	e.identityRoute("DELETE", "/users/{id}", authed, (*call).deleteUser)
	e.identityRoute("POST", "/users/{id}/password", authed, (*call).changePassword)
	e.identityRoute("GET", "/users/{id}/projects", authed, (*call).listUserProjects)

	e.identityRoute("GET", "/roles", authed, (*call).listRoles)
	e.identityRoute("GET", "/roles/{id}", authed, (*call).getRole)
	e.identityRoute("GET", "/role_assignments", authed, (*call).listAssignments)
	for _, target := range []string{"projects", "domains"} {
		base := "/" + target + "/{target}/users/{user}/roles"
		e.identityRoute("GET", base, authed, (*call).listGrants)
		e.identityRoute("PUT", base+"/{role}", authed, (*call).grant)
		e.identityRoute("GET", base+"/{role}", authed, (*call).checkGrant)
		e.identityRoute("DELETE", base+"/{role}", authed, (*call).revokeGrant)
	}
}

var errUnauthenticated = errf(http.StatusUnauthorized, "The request you have made requires authentication.")

// authenticate resolves an X-Auth-Token: it must exist, be unexpired, and its
// user, scope and role on the scope must still exist.
func (e *Emulator) authenticate(id string, now time.Time) (*token, *apiError) {
	if id == "" {
		return nil, errUnauthenticated
	}
	t := e.st.tokens[id]
	if t == nil || !e.tokenValid(t, now) {
		return nil, errUnauthenticated
	}
	return t, nil
}

func (e *Emulator) tokenValid(t *token, now time.Time) bool {
	s := e.st
	if !now.Before(t.expires) {
		return false
	}
	u := s.users.get(t.userID)
	if u == nil || !u.Enabled {
		return false
	}
	switch {
	case t.projectID != "":
		p := s.projects.get(t.projectID)
		return p != nil && p.Enabled && len(e.rolesOn(t.userID, t.projectID, "")) > 0
	case t.domainID != "":
		return s.domains.get(t.domainID) != nil && len(e.rolesOn(t.userID, "", t.domainID)) > 0
	}
	return true
}

// rolesOn lists the roles a user holds on a project or a domain.
func (e *Emulator) rolesOn(userID, projectID, domainID string) []*Role {
	var out []*Role
	for _, a := range e.st.assignments {
		if a.UserID == userID && a.ProjectID == projectID && a.DomainID == domainID {
			if r := e.st.roles.get(a.RoleID); r != nil {
				out = append(out, r)
			}
		}
	}
	return out
}

func (e *Emulator) tokenIsAdmin(t *token) bool {
	for _, r := range e.rolesOn(t.userID, t.projectID, t.domainID) {
		if r.Name == "admin" {
			return true
		}
	}
	return false
}

func (c *call) requireAdmin() *apiError {
	if !c.isAdmin() {
		return errf(http.StatusForbidden, "You are not authorized to perform the requested action: admin_required.")
	}
	return nil
}

type nameOrID struct {
	ID     string    `json:"id"`
	Name   string    `json:"name"`
	Domain *nameOrID `json:"domain"`
}

type authRequest struct {
	Auth struct {
		Identity struct {
			Methods  []string `json:"methods"`
			Password *struct {
				User struct {
					nameOrID
					Password string `json:"password"`
				} `json:"user"`
			} `json:"password"`
			Token *struct {
				ID string `json:"id"`
			} `json:"token"`
		} `json:"identity"`
		Scope any `json:"scope"`
	} `json:"auth"`
}

func (c *call) findDomain(ref *nameOrID) *Domain {
	if ref == nil {
		return nil
	}
	if ref.ID != "" {
		return c.s().domains.get(ref.ID)
	}
	for _, d := range c.s().domains.all() {
		if d.Name == ref.Name {
			return d
		}
	}
	return nil
}

func (c *call) issueToken() *apiError {
	var req authRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	s := c.s()
	id := req.Auth.Identity
	var user *User
	var methods []string
	switch {
	case slices.Contains(id.Methods, "password") && id.Password != nil:
		ref := id.Password.User
		if ref.ID != "" {
			user = s.users.get(ref.ID)
		} else if d := c.findDomain(ref.Domain); d != nil {
			for _, u := range s.users.all() {
				if u.Name == ref.Name && u.DomainID == d.ID {
					user = u
				}
			}
		}
		if user == nil || !user.Enabled || user.Password != ref.Password {
			return errUnauthenticated
		}
		methods = []string{"password"}
	case slices.Contains(id.Methods, "token") && id.Token != nil:
		old, err := c.e.authenticate(id.Token.ID, c.now)
		if err != nil {
			return err
		}
		user, methods = s.users.get(old.userID), append(slices.Clone(old.methods), "token")
	default:
		return errf(http.StatusBadRequest, "Expecting to find identity methods password or token in auth.")
	}

	t := &token{id: "gAAAAAB" + hexID() + hexID(), userID: user.ID, methods: methods, issued: c.now,
		expires: c.now.Add(c.e.opts.TokenTTL), base: c.base()}
	switch sc := req.Auth.Scope.(type) {
	case nil:
	case string:
		if sc != "unscoped" {
			return errf(http.StatusBadRequest, "Invalid scope %q", sc)
		}
	case map[string]any:
		if p, ok := sc["project"].(map[string]any); ok {
			ref := refFromMap(p)
			var proj *Project
			if ref.ID != "" {
				proj = s.projects.get(ref.ID)
			} else if d := c.findDomain(ref.Domain); d != nil {
				for _, pr := range s.projects.all() {
					if pr.Name == ref.Name && pr.DomainID == d.ID {
						proj = pr
					}
				}
			}
			if proj == nil || !proj.Enabled || len(c.e.rolesOn(user.ID, proj.ID, "")) == 0 {
				return errf(http.StatusUnauthorized, "The request you have made requires authentication.")
			}
			t.projectID = proj.ID
		} else if d, ok := sc["domain"].(map[string]any); ok {
			ref := refFromMap(d)
			dom := c.findDomain(&ref)
			if dom == nil || len(c.e.rolesOn(user.ID, "", dom.ID)) == 0 {
				return errf(http.StatusUnauthorized, "The request you have made requires authentication.")
			}
			t.domainID = dom.ID
		} else {
			return errf(http.StatusUnauthorized, "The OpenStack emulator supports project and domain scopes only.")
		}
	default:
		return errf(http.StatusBadRequest, "Invalid scope")
	}
	for id, old := range s.tokens { // forget expired tokens
		if !c.now.Before(old.expires) {
			delete(s.tokens, id)
		}
	}
	s.tokens[t.id] = t
	c.w.Header().Set("X-Subject-Token", t.id)
	c.json(http.StatusCreated, map[string]any{"token": c.renderToken(t)})
	return nil
}

func refFromMap(m map[string]any) nameOrID {
	str := func(k string, m map[string]any) string { v, _ := m[k].(string); return v }
	ref := nameOrID{ID: str("id", m), Name: str("name", m)}
	if d, ok := m["domain"].(map[string]any); ok {
		ref.Domain = &nameOrID{ID: str("id", d), Name: str("name", d)}
	}
	return ref
}

func (c *call) renderToken(t *token) map[string]any {
	s := c.s()
	u := s.users.get(t.userID)
	ud := s.domains.get(u.DomainID)
	out := map[string]any{
		"methods":    t.methods,
		"user":       map[string]any{"id": u.ID, "name": u.Name, "domain": map[string]any{"id": ud.ID, "name": ud.Name}, "password_expires_at": nil},
		"audit_ids":  []string{strings.TrimRight(t.id[7:29], "=")},
		"expires_at": tKeystone(t.expires),
		"issued_at":  tKeystone(t.issued),
	}
	roles := []map[string]any{}
	for _, r := range c.e.rolesOn(t.userID, t.projectID, t.domainID) {
		roles = append(roles, map[string]any{"id": r.ID, "name": r.Name})
	}
	switch {
	case t.projectID != "":
		p := s.projects.get(t.projectID)
		pd := s.domains.get(p.DomainID)
		out["project"] = map[string]any{"id": p.ID, "name": p.Name, "domain": map[string]any{"id": pd.ID, "name": pd.Name}}
		out["is_domain"] = false
		out["roles"] = roles
		out["catalog"] = c.e.catalog(t)
	case t.domainID != "":
		d := s.domains.get(t.domainID)
		out["domain"] = map[string]any{"id": d.ID, "name": d.Name}
		out["roles"] = roles
		out["catalog"] = c.e.catalog(t)
	}
	return out
}

// catalog lists the services, pointing back at the emulator. Endpoints that
// need a project (Cinder's) are left out of domain-scoped catalogs, as Keystone does.
func (e *Emulator) catalog(t *token) []map[string]any {
	type svc struct{ typ, name, path string }
	svcs := []svc{
		{"identity", "keystone", "/identity/v3"},
		{"compute", "nova", "/compute/v2.1"},
		{"network", "neutron", "/network"},
		{"image", "glance", "/image"},
	}
	if t.projectID != "" {
		svcs = append(svcs,
			svc{"block-storage", "cinder", "/volume/v3/" + t.projectID},
			svc{"volumev3", "cinderv3", "/volume/v3/" + t.projectID})
	}
	out := make([]map[string]any, 0, len(svcs))
	for _, sv := range svcs {
		var eps []map[string]any
		for _, iface := range []string{"public", "internal", "admin"} {
			eps = append(eps, map[string]any{
				"id": stableID("endpoint/" + sv.typ + "/" + iface), "interface": iface,
				"region": e.opts.Region, "region_id": e.opts.Region, "url": t.base + sv.path,
			})
		}
		out = append(out, map[string]any{"id": stableID("service/" + sv.typ), "type": sv.typ, "name": sv.name, "endpoints": eps})
	}
	return out
}

func stableID(name string) string {
	return strings.ReplaceAll(uuid.NewSHA1(uuid.NameSpaceURL, []byte("openstack-emulator/"+name)).String(), "-", "")
}

func (c *call) subjectToken() (*token, *apiError) {
	t, err := c.e.authenticate(c.r.Header.Get("X-Subject-Token"), c.now)
	if err != nil {
		return nil, errf(http.StatusNotFound, "Could not find token.")
	}
	return t, nil
}

func (c *call) checkToken() *apiError {
	t, err := c.subjectToken()
	if err != nil {
		return err
	}
	if t.userID != c.userID() && !c.isAdmin() {
		return errf(http.StatusForbidden, "You are not authorized to validate this token.")
	}
	c.w.Header().Set("X-Subject-Token", t.id)
	c.json(http.StatusOK, map[string]any{"token": c.renderToken(t)})
	return nil
}

func (c *call) revokeToken() *apiError {
	t, err := c.subjectToken()
	if err != nil {
		return err
	}
	if t.userID != c.userID() && !c.isAdmin() {
		return errf(http.StatusForbidden, "You are not authorized to revoke this token.")
	}
	delete(c.s().tokens, t.id)
	c.noContent(http.StatusNoContent)
	return nil
}

func (c *call) getCatalog() *apiError {
	c.json(http.StatusOK, map[string]any{"catalog": c.e.catalog(c.tok), "links": c.listLinks()})
	return nil
}

func (c *call) listLinks() map[string]any {
	return map[string]any{"self": c.base() + c.r.URL.RequestURI(), "previous": nil, "next": nil}
}

func (c *call) identityURL(parts ...string) string {
	return c.base() + "/identity/v3/" + strings.Join(parts, "/")
}

// Domains.

func (c *call) renderDomain(d *Domain) map[string]any {
	return map[string]any{"id": d.ID, "name": d.Name, "description": d.Description, "enabled": d.Enabled,
		"tags": []string{}, "options": map[string]any{}, "links": map[string]any{"self": c.identityURL("domains", d.ID)}}
}

func (c *call) listDomains() *apiError {
	if err := c.requireAdmin(); err != nil {
		return err
	}
	var items []map[string]any
	for _, d := range c.s().domains.all() {
		items = append(items, c.renderDomain(d))
	}
	c.json(http.StatusOK, map[string]any{"domains": nonNil(filterMaps(items, c.query())), "links": c.listLinks()})
	return nil
}

func (c *call) getDomain() *apiError {
	d := c.s().domains.get(c.r.PathValue("id"))
	if d == nil {
		return errf(http.StatusNotFound, "Could not find domain: %s.", c.r.PathValue("id"))
	}
	c.json(http.StatusOK, map[string]any{"domain": c.renderDomain(d)})
	return nil
}

// Projects.

func (c *call) renderProject(p *Project) map[string]any {
	return map[string]any{"id": p.ID, "name": p.Name, "domain_id": p.DomainID, "description": p.Description,
		"enabled": p.Enabled, "is_domain": false, "parent_id": p.DomainID, "tags": nonNilStrings(p.Tags),
		"options": map[string]any{}, "links": map[string]any{"self": c.identityURL("projects", p.ID)}}
}

type projectBody struct {
	Project struct {
		Name        *string   `json:"name"`
		DomainID    string    `json:"domain_id"`
		Description *string   `json:"description"`
		Enabled     *bool     `json:"enabled"`
		Tags        *[]string `json:"tags"`
		IsDomain    bool      `json:"is_domain"`
	} `json:"project"`
}

func (c *call) createProject() *apiError {
	if err := c.requireAdmin(); err != nil {
		return err
	}
	var b projectBody
	if err := c.decode(&b); err != nil {
		return err
	}
	in := b.Project
	if in.Name == nil || strings.TrimSpace(*in.Name) == "" {
		return errf(http.StatusBadRequest, "Invalid input for field 'name': a name is required.")
	}
	if in.IsDomain {
		return errf(http.StatusBadRequest, "The OpenStack emulator does not create projects acting as domains.")
	}
	domainID := in.DomainID
	if domainID == "" {
		domainID = c.tok.domainID
		if domainID == "" {
			domainID = c.s().projects.get(c.tok.projectID).DomainID
		}
	}
	if c.s().domains.get(domainID) == nil {
		return errf(http.StatusBadRequest, "Could not find domain: %s.", domainID)
	}
	for _, p := range c.s().projects.all() {
		if p.Name == *in.Name && p.DomainID == domainID {
			return errf(http.StatusConflict, "Conflict occurred attempting to store project - it is not permitted to have two projects with the same name in the same domain : %s.", *in.Name)
		}
	}
	p := &Project{ID: hexID(), Name: *in.Name, DomainID: domainID, Enabled: true, Tags: []string{}, Created: c.now}
	if in.Description != nil {
		p.Description = *in.Description
	}
	if in.Enabled != nil {
		p.Enabled = *in.Enabled
	}
	if in.Tags != nil {
		p.Tags = *in.Tags
	}
	c.s().projects.put(p.ID, p)
	c.json(http.StatusCreated, map[string]any{"project": c.renderProject(p)})
	return nil
}

func (c *call) listProjects() *apiError {
	if err := c.requireAdmin(); err != nil {
		return err
	}
	var items []map[string]any
	for _, p := range c.s().projects.all() {
		items = append(items, c.renderProject(p))
	}
	c.json(http.StatusOK, map[string]any{"projects": nonNil(filterMaps(items, c.query())), "links": c.listLinks()})
	return nil
}

func (c *call) projectsOf(userID string) []map[string]any {
	items := []map[string]any{}
	for _, p := range c.s().projects.all() {
		if len(c.e.rolesOn(userID, p.ID, "")) > 0 {
			items = append(items, c.renderProject(p))
		}
	}
	return items
}

func (c *call) listOwnProjects() *apiError {
	c.json(http.StatusOK, map[string]any{"projects": c.projectsOf(c.userID()), "links": c.listLinks()})
	return nil
}

func (c *call) listUserProjects() *apiError {
	id := c.r.PathValue("id")
	if id != c.userID() {
		if err := c.requireAdmin(); err != nil {
			return err
		}
	}
	if c.s().users.get(id) == nil {
		return errf(http.StatusNotFound, "Could not find user: %s.", id)
	}
	c.json(http.StatusOK, map[string]any{"projects": c.projectsOf(id), "links": c.listLinks()})
	return nil
}

func (c *call) project() (*Project, *apiError) {
	id := c.r.PathValue("id")
	p := c.s().projects.get(id)
	if p == nil {
		return nil, errf(http.StatusNotFound, "Could not find project: %s.", id)
	}
	return p, nil
}

func (c *call) getProject() *apiError {
	p, err := c.project()
	if err != nil {
		if c.isAdmin() {
			return err
		}
		return c.requireAdmin()
	}
	if !c.isAdmin() && len(c.e.rolesOn(c.userID(), p.ID, "")) == 0 {
		return c.requireAdmin()
	}
	c.json(http.StatusOK, map[string]any{"project": c.renderProject(p)})
	return nil
}

func (c *call) updateProject() *apiError {
	if err := c.requireAdmin(); err != nil {
		return err
	}
	p, err := c.project()
	if err != nil {
		return err
	}
	var b projectBody
	if err := c.decode(&b); err != nil {
		return err
	}
	in := b.Project
	if in.Name != nil && *in.Name != p.Name {
		for _, o := range c.s().projects.all() {
			if o.Name == *in.Name && o.DomainID == p.DomainID {
				return errf(http.StatusConflict, "Conflict occurred attempting to store project - it is not permitted to have two projects with the same name in the same domain : %s.", *in.Name)
			}
		}
		p.Name = *in.Name
	}
	if in.Description != nil {
		p.Description = *in.Description
	}
	if in.Enabled != nil {
		p.Enabled = *in.Enabled
	}
	if in.Tags != nil {
		p.Tags = *in.Tags
	}
	c.json(http.StatusOK, map[string]any{"project": c.renderProject(p)})
	return nil
}

// deleteProject removes the project and its role assignments. Like Keystone,
// it does not touch the project's servers, volumes or networks.
func (c *call) deleteProject() *apiError {
	if err := c.requireAdmin(); err != nil {
		return err
	}
	p, err := c.project()
	if err != nil {
		return err
	}
	if c.s().seeded[p.ID] {
		return errf(http.StatusForbidden, "The OpenStack emulator keeps its admin project.")
	}
	c.s().projects.del(p.ID)
	c.s().assignments = slices.DeleteFunc(c.s().assignments, func(a RoleAssignment) bool { return a.ProjectID == p.ID })
	delete(c.s().quotas, p.ID)
	c.noContent(http.StatusNoContent)
	return nil
}

// Users.

func (c *call) renderUser(u *User) map[string]any {
	m := map[string]any{"id": u.ID, "name": u.Name, "domain_id": u.DomainID, "enabled": u.Enabled,
		"password_expires_at": nil, "options": map[string]any{}, "links": map[string]any{"self": c.identityURL("users", u.ID)}}
	if u.DefaultProjectID != "" {
		m["default_project_id"] = u.DefaultProjectID
	}
	if u.Email != "" {
		m["email"] = u.Email
	}
	if u.Description != "" {
		m["description"] = u.Description
	}
	return m
}

type userBody struct {
	User struct {
		Name             *string `json:"name"`
		DomainID         string  `json:"domain_id"`
		Password         *string `json:"password"`
		Enabled          *bool   `json:"enabled"`
		DefaultProjectID *string `json:"default_project_id"`
		Email            *string `json:"email"`
		Description      *string `json:"description"`
	} `json:"user"`
}

func (c *call) createUser() *apiError {
	if err := c.requireAdmin(); err != nil {
		return err
	}
	var b userBody
	if err := c.decode(&b); err != nil {
		return err
	}
	in := b.User
	if in.Name == nil || strings.TrimSpace(*in.Name) == "" {
		return errf(http.StatusBadRequest, "Invalid input for field 'name': a name is required.")
	}
	domainID := in.DomainID
	if domainID == "" {
		domainID = c.tok.domainID
		if domainID == "" {
			domainID = c.s().projects.get(c.tok.projectID).DomainID
		}
	}
	if c.s().domains.get(domainID) == nil {
		return errf(http.StatusBadRequest, "Could not find domain: %s.", domainID)
	}
	for _, u := range c.s().users.all() {
		if u.Name == *in.Name && u.DomainID == domainID {
			return errf(http.StatusConflict, "Conflict occurred attempting to store user - Duplicate entry found with name %s at domain ID %s.", *in.Name, domainID)
		}
	}
	u := &User{ID: hexID(), Name: *in.Name, DomainID: domainID, Enabled: true}
	if in.Password != nil {
		u.Password = *in.Password
	}
	if in.Enabled != nil {
		u.Enabled = *in.Enabled
	}
	if in.DefaultProjectID != nil {
		u.DefaultProjectID = *in.DefaultProjectID
	}
	if in.Email != nil {
		u.Email = *in.Email
	}
	if in.Description != nil {
		u.Description = *in.Description
	}
	c.s().users.put(u.ID, u)
	c.json(http.StatusCreated, map[string]any{"user": c.renderUser(u)})
	return nil
}

func (c *call) listUsers() *apiError {
	if err := c.requireAdmin(); err != nil {
		return err
	}
	var items []map[string]any
	for _, u := range c.s().users.all() {
		items = append(items, c.renderUser(u))
	}
	c.json(http.StatusOK, map[string]any{"users": nonNil(filterMaps(items, c.query())), "links": c.listLinks()})
	return nil
}

func (c *call) user() (*User, *apiError) {
	id := c.r.PathValue("id")
	if id != c.userID() {
		if err := c.requireAdmin(); err != nil {
			return nil, err
		}
	}
	u := c.s().users.get(id)
	if u == nil {
		return nil, errf(http.StatusNotFound, "Could not find user: %s.", id)
	}
	return u, nil
}

func (c *call) getUser() *apiError {
	u, err := c.user()
	if err != nil {
		return err
	}
	c.json(http.StatusOK, map[string]any{"user": c.renderUser(u)})
	return nil
}

func (c *call) updateUser() *apiError {
	if err := c.requireAdmin(); err != nil {
		return err
	}
	u, err := c.user()
	if err != nil {
		return err
	}
	var b userBody
	if err := c.decode(&b); err != nil {
		return err
	}
	in := b.User
	if in.Name != nil {
		u.Name = *in.Name
	}
	if in.Password != nil {
		u.Password = *in.Password
	}
	if in.Enabled != nil {
		u.Enabled = *in.Enabled
	}
	if in.DefaultProjectID != nil {
		u.DefaultProjectID = *in.DefaultProjectID
	}
	if in.Email != nil {
		u.Email = *in.Email
	}
	if in.Description != nil {
		u.Description = *in.Description
	}
	c.json(http.StatusOK, map[string]any{"user": c.renderUser(u)})
	return nil
}

func (c *call) changePassword() *apiError {
	u, err := c.user()
	if err != nil {
		return err
	}
	var b struct {
		User struct {
			Password         string `json:"password"`
			OriginalPassword string `json:"original_password"`
		} `json:"user"`
	}
	if err := c.decode(&b); err != nil {
		return err
	}
	if b.User.OriginalPassword != u.Password {
		return errUnauthenticated
	}
	u.Password = b.User.Password
	c.noContent(http.StatusNoContent)
	return nil
}

func (c *call) deleteUser() *apiError {
	if err := c.requireAdmin(); err != nil {
		return err
	}
	u, err := c.user()
	if err != nil {
		return err
	}
	if c.s().seeded[u.ID] {
		return errf(http.StatusForbidden, "The OpenStack emulator keeps its admin user.")
	}
	c.s().users.del(u.ID)
	c.s().assignments = slices.DeleteFunc(c.s().assignments, func(a RoleAssignment) bool { return a.UserID == u.ID })
	c.noContent(http.StatusNoContent)
	return nil
}

// Roles and assignments.

func (c *call) renderRole(r *Role) map[string]any {
	return map[string]any{"id": r.ID, "name": r.Name, "domain_id": nil, "description": nil, "options": map[string]any{},
		"links": map[string]any{"self": c.identityURL("roles", r.ID)}}
}

func (c *call) listRoles() *apiError {
	if err := c.requireAdmin(); err != nil {
		return err
	}
	var items []map[string]any
	for _, r := range c.s().roles.all() {
		items = append(items, c.renderRole(r))
	}
	c.json(http.StatusOK, map[string]any{"roles": nonNil(filterMaps(items, c.query())), "links": c.listLinks()})
	return nil
}

func (c *call) getRole() *apiError {
	if err := c.requireAdmin(); err != nil {
		return err
	}
	r := c.s().roles.get(c.r.PathValue("id"))
	if r == nil {
		return errf(http.StatusNotFound, "Could not find role: %s.", c.r.PathValue("id"))
	}
	c.json(http.StatusOK, map[string]any{"role": c.renderRole(r)})
	return nil
}

// grantTarget resolves {target}, {user} and, when withRole, {role} of an assignment path.
func (c *call) grantTarget(withRole bool) (a RoleAssignment, err *apiError) {
	if err := c.requireAdmin(); err != nil {
		return a, err
	}
	s := c.s()
	target := c.r.PathValue("target")
	if strings.Contains(c.r.URL.Path, "/projects/") {
		if s.projects.get(target) == nil {
			return a, errf(http.StatusNotFound, "Could not find project: %s.", target)
		}
		a.ProjectID = target
	} else {
		if s.domains.get(target) == nil {
			return a, errf(http.StatusNotFound, "Could not find domain: %s.", target)
		}
		a.DomainID = target
	}
	a.UserID = c.r.PathValue("user")
	if s.users.get(a.UserID) == nil {
		return a, errf(http.StatusNotFound, "Could not find user: %s.", a.UserID)
	}
	if withRole {
		a.RoleID = c.r.PathValue("role")
		if s.roles.get(a.RoleID) == nil {
			return a, errf(http.StatusNotFound, "Could not find role: %s.", a.RoleID)
		}
	}
	return a, nil
}

func (c *call) grant() *apiError {
	a, err := c.grantTarget(true)
	if err != nil {
		return err
	}
	if !slices.Contains(c.s().assignments, a) {
		c.s().assignments = append(c.s().assignments, a)
		c.s().grants++
	}
	c.noContent(http.StatusNoContent)
	return nil
}

func (c *call) checkGrant() *apiError {
	a, err := c.grantTarget(true)
	if err != nil {
		return err
	}
	if !slices.Contains(c.s().assignments, a) {
		return errf(http.StatusNotFound, "Could not find role assignment.")
	}
	c.noContent(http.StatusNoContent)
	return nil
}

func (c *call) revokeGrant() *apiError {
	a, err := c.grantTarget(true)
	if err != nil {
		return err
	}
	i := slices.Index(c.s().assignments, a)
	if i < 0 {
		return errf(http.StatusNotFound, "Could not find role assignment.")
	}
	c.s().assignments = slices.Delete(c.s().assignments, i, i+1)
	c.noContent(http.StatusNoContent)
	return nil
}

func (c *call) listGrants() *apiError {
	a, err := c.grantTarget(false)
	if err != nil {
		return err
	}
	items := []map[string]any{}
	for _, r := range c.e.rolesOn(a.UserID, a.ProjectID, a.DomainID) {
		items = append(items, c.renderRole(r))
	}
	c.json(http.StatusOK, map[string]any{"roles": items, "links": c.listLinks()})
	return nil
}

func (c *call) listAssignments() *apiError {
	if err := c.requireAdmin(); err != nil {
		return err
	}
	q := c.query()
	match := func(key, v string) bool { w := q.Get(key); return w == "" || w == v }
	items := []map[string]any{}
	for _, a := range c.s().assignments {
		if !match("user.id", a.UserID) || !match("role.id", a.RoleID) || !match("scope.project.id", a.ProjectID) ||
			!match("scope.domain.id", a.DomainID) {
			continue
		}
		if q.Get("scope.project.id") != "" && a.ProjectID == "" || q.Get("scope.domain.id") != "" && a.DomainID == "" {
			continue
		}
		scope, link := map[string]any{}, ""
		if a.ProjectID != "" {
			scope["project"] = map[string]any{"id": a.ProjectID}
			link = c.identityURL("projects", a.ProjectID, "users", a.UserID, "roles", a.RoleID)
		} else {
			scope["domain"] = map[string]any{"id": a.DomainID}
			link = c.identityURL("domains", a.DomainID, "users", a.UserID, "roles", a.RoleID)
		}
		role := map[string]any{"id": a.RoleID}
		if boolParam(q, "include_names") {
			if r := c.s().roles.get(a.RoleID); r != nil {
				role["name"] = r.Name
			}
		}
		items = append(items, map[string]any{"role": role, "user": map[string]any{"id": a.UserID}, "scope": scope,
			"links": map[string]any{"assignment": link}})
	}
	c.json(http.StatusOK, map[string]any{"role_assignments": items, "links": c.listLinks()})
	return nil
}

func nonNil(items []map[string]any) []map[string]any {
	if items == nil {
		return []map[string]any{}
	}
	return items
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
