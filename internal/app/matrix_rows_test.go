package app_test

// The rows of the RBAC matrix (matrix_test.go): each served route with a
// request on the matrix world (matrix_world_test.go) and the rule its
// expectations are derived from. ok is the answer to an allowed caller:
// 200/201/204, or the state's refusal (409, 400) or 503 (no Temporal here)
// once the permission check has passed.

const (
	whyTeam         = "Waldur: a customer's team (owners included) is CUSTOMER.*_PERMISSION, no default role's: staff's (docs/roles.md)."
	whyProjTeam     = "Waldur's project add_user/update_user/delete_user: PROJECT.*_PERMISSION on the project or its customer."
	whyCustomer     = "Waldur's customer update/destroy: CUSTOMER.UPDATE/DELETE on the customer."
	whyOrder        = "Waldur: an order's project is any project the user sees (a role in force on it or its customer, whatever the role)."
	whyInvite       = "Waldur's invitations: PROJECT.CREATE_PERMISSION on the invitation's project or customer."
	whyUsage        = "Waldur's set_usage: RESOURCE.SET_USAGE on the resource's offering or its customer (as set_user_usage's x-permissions)."
	whyOffering     = "Waldur's offering create: OFFERING.CREATE on the customer."
	whyPlan         = "Waldur's plan create: OFFERING.CREATE_PLAN on the offering's customer."
	whyOU           = "Waldur's offering users: OFFERING.*_USER on the offering's customer (as the other offering-user actions' x-permissions)."
	whyAgent        = "Waldur's site agent identities: OFFERING.CREATE on the offering's customer (as register_service's x-permissions)."
	whyRegister     = "Waldur: SERVICE_PROVIDER.REGISTER on the customer, no default role's (docs/roles.md)."
	whyIsOwner      = "Waldur's is_owner on the provider's customer, as CUSTOMER.UPDATE (docs/roles.md)."
	whyKeys         = "SERVICE_PROVIDER.LIST_KEYS on the provider's customer (docs/roles.md)."
	whyImport       = "Import into a shared offering is staff's (docs/roles.md)."
	whyOverview     = "update_overview of an Active offering is staff's: Waldur's can_update_offering (docs/roles.md)."
	whyEndpoints    = "not in Waldur's API: set_endpoints (ours) is RESOURCE.SET_BACKEND_METADATA on the offering's customer, as set_backend_metadata."
	whyProjTypes    = "not in Waldur's API: project types are written by staff (Waldur's admin)."
	whyCSV          = "not in Waldur's API: the invoice as CSV is seen as the invoice."
	whyRestrict     = "Waldur's update_restricted: OFFERINGUSER.UPDATE_RESTRICTION on the offering's customer."
	whyEndDate      = "Waldur's user_can_set_end_date_by_provider: RESOURCE.SET_END_DATE on the offering's customer."
	whyPull         = "Waldur's pull has no action permission: whoever sees the resource may ask (one pull runs at a time per resource)."
	whyOfferingTeam = "Waldur's offering add_user/update_user/delete_user: OFFERING.*_PERMISSION on the offering or its customer."
)

var matrixRows = []mrow{
	// Meta. No Temporal client here, so the health check reports 503 — to everyone, without credentials.
	get("/health-check/", "/health-check/", rulePublic(503)),
	get("/metrics", "/metrics", rulePublic(200)),
	get("/api/schema/", "/api/schema/", rulePublic(200)),
	get("/api/docs/*any", "/api/docs/index.html", rulePublic(200)),
	get("/api/configuration/", "/api/configuration/", rulePublic(200)),
	get("/api/version/", "/api/version/", ruleSignedIn(200)), // the site agent asks first

	// Authentication.
	row("POST", "/api-auth/password/", "/api-auth/password/", `{"username":"target","password":"Secret-pass-1"}`, rulePublic(200)),
	row("POST", "/api-auth/logout/", "/api-auth/logout/", "", ruleSignedIn(204)),
	// SAML2 (api/saml2): the matrix world configures no SP, so its login
	// routes answer 404 "SAML2 login is not configured." to everyone (the
	// logout after authentication); the IdP list is public, as the login
	// page shows it. api/saml2's tests run them configured, against SimpleSAMLphp.
	get("/api-auth/saml2/login/", "/api-auth/saml2/login/?idp=https://idp.example.org", rulePublic(404)),
	row("POST", "/api-auth/saml2/login/", "/api-auth/saml2/login/", `{"idp":"https://idp.example.org"}`, rulePublic(404)),
	row("POST", "/api-auth/saml2/login/complete/", "/api-auth/saml2/login/complete/", `{"SAMLResponse":"PHNhbWxwOlJlc3BvbnNlLz4="}`, rulePublic(404)),
	get("/api-auth/saml2/logout/", "/api-auth/saml2/logout/", ruleSignedIn(404)),
	get("/api-auth/saml2/logout/complete/", "/api-auth/saml2/logout/complete/", rulePublic(404)),
	row("POST", "/api-auth/saml2/logout/complete/", "/api-auth/saml2/logout/complete/", `{"SAMLResponse":"PHNhbWxwOlJlc3BvbnNlLz4="}`, rulePublic(404)),
	get("/api-auth/saml2/metadata/", "/api-auth/saml2/metadata/", rulePublic(404)),
	get("/api-auth/saml2/providers/", "/api-auth/saml2/providers/", rulePublic(200)),
	// OpenID Connect (api/oidc): the matrix world sets no public base URL,
	// so the login routes answer 404 "OpenID Connect login is not
	// configured." to everyone; api/oidc's tests run them against its
	// emulator. The providers are listed to anyone (the login page shows
	// them, credentials hidden) and written by staff only.
	get("/api-auth/:provider/init/", "/api-auth/keycloak/init/", rulePublic(404)),
	get("/api-auth/:provider/complete/", "/api-auth/keycloak/complete/?code=c&state=s", rulePublic(404)),
	get("/api/identity-providers/", "/api/identity-providers/", rulePublic(200)),
	get("/api/identity-providers/:provider/", "/api/identity-providers/keycloak/", rulePublic(200)),
	row("POST", "/api/identity-providers/", "/api/identity-providers/",
		`{"provider":"eduteams","label":"eduTEAMS","client_id":"waldur","client_secret":"s3cr3t","discovery_url":"https://proxy.eduteams.org"}`,
		ruleStaff(everyone, 201)),
	row("PUT", "/api/identity-providers/:provider/", "/api/identity-providers/keycloak/",
		`{"provider":"keycloak","label":"SSO","client_id":"waldur","client_secret":"s3cr3t","discovery_url":"https://sso.example.org"}`,
		ruleStaff(everyone, 200)),
	row("PATCH", "/api/identity-providers/:provider/", "/api/identity-providers/keycloak/", `{"label":"SSO"}`, ruleStaff(everyone, 200)),
	row("DELETE", "/api/identity-providers/:provider/", "/api/identity-providers/keycloak/", "", ruleStaff(everyone, 204)),
	// A discovery URL nothing listens on: staff passes the check and gets 400.
	row("POST", "/api/identity-providers/discover_metadata/", "/api/identity-providers/discover_metadata/",
		`{"discovery_url":"http://127.0.0.1:1/.well-known/openid-configuration"}`, ruleStaff(everyone, 400)),
	row("POST", "/api/identity-providers/generate-mapping/", "/api/identity-providers/generate-mapping/",
		`{"discovery_url":"http://127.0.0.1:1/.well-known/openid-configuration"}`, ruleStaff(everyone, 400)),
	// Valimo mobile ID (api/valimo): anonymous as in Waldur; the matrix
	// world does not enable it, so both answer 404 "Valimo login is not
	// configured." to everyone. api/valimo's tests run them against its
	// MSSP emulator on Temporal.
	row("POST", "/api/auth-valimo/", "/api/auth-valimo/", `{"phone":"+37200000766"}`, rulePublic(404)),
	row("POST", "/api/auth-valimo/result/", "/api/auth-valimo/result/", `{"uuid":"e42473f39c844333a80107e139a4dd06"}`, rulePublic(404)),

	// Customers: C1, the consumer, with a live project.
	get("/api/customers/", "/api/customers/", ruleSignedIn(200)),
	row("POST", "/api/customers/", "/api/customers/", `{"name":"New org"}`, ruleStaff(everyone, 201)),
	get("/api/customers/:uuid/", "/api/customers/{customer}/", ruleVisible(seeConsumer, 200)),
	row("PUT", "/api/customers/:uuid/", "/api/customers/{customer}/", `{"name":"C1 renamed"}`, perm("C1", seeConsumer, 200, whyCustomer, "CUSTOMER.UPDATE", "*")),
	row("PATCH", "/api/customers/:uuid/", "/api/customers/{customer}/", `{"name":"C1 renamed"}`, perm("C1", seeConsumer, 200, whyCustomer, "CUSTOMER.UPDATE", "*")),
	// An owner may delete it but for its live project (409); staff deletes it cascading.
	row("DELETE", "/api/customers/:uuid/", "/api/customers/{customer}/", "",
		perm("C1", seeConsumer, 409, whyCustomer, "CUSTOMER.DELETE", "*").with("staff", 204, "Staff's delete cascades to the live project.")),
	get("/api/customers/:uuid/list_users/", "/api/customers/{customer}/list_users/", ruleVisible(seeConsumer, 200)),
	row("POST", "/api/customers/:uuid/add_user/", "/api/customers/{customer}/add_user/", `{"user":"{user:newbie}","role":"CUSTOMER.OWNER"}`,
		perm("C1", seeConsumer, 201, whyTeam, "CUSTOMER.CREATE_PERMISSION", "*")),
	row("POST", "/api/customers/:uuid/update_user/", "/api/customers/{customer}/update_user/", `{"user":"{user:victim}","role":"CUSTOMER.OWNER","expiration_time":"2099-01-01T00:00:00Z"}`,
		perm("C1", seeConsumer, 200, whyTeam, "CUSTOMER.UPDATE_PERMISSION", "*")),
	row("POST", "/api/customers/:uuid/delete_user/", "/api/customers/{customer}/delete_user/", `{"user":"{user:victim}","role":"CUSTOMER.OWNER"}`,
		perm("C1", seeConsumer, 200, whyTeam, "CUSTOMER.DELETE_PERMISSION", "*")),

	// Projects: P1.
	get("/api/projects/", "/api/projects/", ruleSignedIn(200)),
	row("POST", "/api/projects/", "/api/projects/", `{"name":"P2","customer":"{customer}"}`,
		perm("C1", seeConsumer, 201, "Waldur's project create: PROJECT.CREATE on the customer.", "PROJECT.CREATE", "*").inBody()),
	get("/api/projects/:uuid/", "/api/projects/{project}/", ruleVisible(seeConsumer, 200)),
	row("PUT", "/api/projects/:uuid/", "/api/projects/{project}/", `{"name":"P1 renamed","customer":"{customer}"}`, xperm("P1", seeConsumer, 200)),
	row("PATCH", "/api/projects/:uuid/", "/api/projects/{project}/", `{"name":"P1 renamed"}`, xperm("P1", seeConsumer, 200)),
	// P1 holds resources: a caller allowed to delete it is refused by the
	// state (409, Waldur's "Project contains active resources"), after the
	// permission check that refuses the others (403/404).
	row("DELETE", "/api/projects/:uuid/", "/api/projects/{project}/", "", xperm("P1", seeConsumer, 409)),
	get("/api/projects/:uuid/list_users/", "/api/projects/{project}/list_users/", ruleVisible(seeConsumer, 200)),
	row("POST", "/api/projects/:uuid/add_user/", "/api/projects/{project}/add_user/", `{"user":"{user:newbie}","role":"PROJECT.MEMBER"}`,
		perm("P1", seeConsumer, 201, whyProjTeam, "PROJECT.CREATE_PERMISSION", "*", "customer")),
	row("POST", "/api/projects/:uuid/update_user/", "/api/projects/{project}/update_user/", `{"user":"{user:target}","role":"PROJECT.MEMBER","expiration_time":"2099-01-01T00:00:00Z"}`,
		perm("P1", seeConsumer, 200, whyProjTeam, "PROJECT.UPDATE_PERMISSION", "*", "customer")),
	row("POST", "/api/projects/:uuid/delete_user/", "/api/projects/{project}/delete_user/", `{"user":"{user:target}","role":"PROJECT.MEMBER"}`,
		perm("P1", seeConsumer, 200, whyProjTeam, "PROJECT.DELETE_PERMISSION", "*", "customer")),

	// Project types: read by everyone signed in, written by staff.
	get("/api/project-types/", "/api/project-types/", ruleSignedIn(200)),
	get("/api/project-types/:uuid/", "/api/project-types/{ptype}/", ruleSignedIn(200)),
	row("POST", "/api/project-types/", "/api/project-types/", `{"name":"Teaching"}`, ruleStaff(everyone, 201).because(whyProjTypes)),
	row("PUT", "/api/project-types/:uuid/", "/api/project-types/{ptype}/", `{"name":"Teaching"}`, ruleStaff(everyone, 200).because(whyProjTypes)),
	row("PATCH", "/api/project-types/:uuid/", "/api/project-types/{ptype}/", `{"name":"Teaching"}`, ruleStaff(everyone, 200).because(whyProjTypes)),
	row("DELETE", "/api/project-types/:uuid/", "/api/project-types/{ptype}/", "", ruleStaff(everyone, 204).because(whyProjTypes)),

	// Users. target is a member of P1: seen by those who share its project or customer.
	get("/api/users/", "/api/users/", ruleSignedIn(200)),
	get("/api/users/me/", "/api/users/me/", ruleSignedIn(200)),
	row("POST", "/api/users/", "/api/users/", `{"username":"fresh","email":"fresh@example.com","agree_with_policy":true}`, ruleStaff(everyone, 201)),
	get("/api/users/:uuid/", "/api/users/{user:target}/", ruleVisible(seeConsumer, 200)),
	row("PUT", "/api/users/:uuid/", "/api/users/{user:target}/", `{"first_name":"T","email":"target@example.com","agree_with_policy":true}`, ruleStaff(seeConsumer, 200)),
	row("PATCH", "/api/users/:uuid/", "/api/users/{user:target}/", `{"first_name":"T"}`, ruleStaff(seeConsumer, 200)),
	// Staff-only actions refuse every other caller before looking the user up (as DRF's view permissions do).
	row("DELETE", "/api/users/:uuid/", "/api/users/{user:target}/", "", ruleStaff(everyone, 204)),
	row("POST", "/api/users/:uuid/change_password/", "/api/users/{user:target}/change_password/", `{"new_password":"Another-pass-2"}`, ruleStaff(seeConsumer, 200)),
	row("POST", "/api/users/:uuid/refresh_token/", "/api/users/{user:target}/refresh_token/", "", ruleStaff(everyone, 200)),
	get("/api/users/:uuid/token/", "/api/users/{user:target}/token/", ruleStaff(everyone, 200)),
	// The Identity Bridge is off by default (WALDUR_FEDERATED_IDENTITY_SYNC_ENABLED): Waldur refuses every caller 403
	// before looking at who they are; when on, staff and identity managers for the source (api/identity's tests).
	row("POST", "/api/identity-bridge/", "/api/identity-bridge/", `{"username":"isd-user","source":"isd:puhuri"}`,
		ruleSignedIn(403).because("Waldur's IdentityBridgeView: 403 while FEDERATED_IDENTITY_SYNC_ENABLED is off, its default.")),
	row("POST", "/api/identity-bridge/remove/", "/api/identity-bridge/remove/", `{"username":"target","source":"isd:puhuri"}`,
		ruleSignedIn(403).because("Waldur's IdentityBridgeRemoveView: 403 while FEDERATED_IDENTITY_SYNC_ENABLED is off, its default.")),
	get("/api/identity-bridge/stats/", "/api/identity-bridge/stats/", ruleStaff(everyone, 200)),

	// SSH keys: c-owner's.
	get("/api/keys/", "/api/keys/", ruleSignedIn(200)),
	row("POST", "/api/keys/", "/api/keys/", `{"name":"new","public_key":"{pubkey}"}`, ruleSignedIn(201)),
	get("/api/keys/:uuid/", "/api/keys/{key}/", ruleVisible(seeOwnKey, 200)),
	row("DELETE", "/api/keys/:uuid/", "/api/keys/{key}/", "", ruleOwn(seeOwnKey, 204)),

	// Roles: anyone may read (as Waldur); staff change them.
	get("/api/roles/", "/api/roles/", rulePublic(200)),
	get("/api/roles/:uuid/", "/api/roles/{role}/", rulePublic(200)),
	row("POST", "/api/roles/", "/api/roles/", `{"name":"TEST.NEW","content_type":"project","permissions":["PROJECT.UPDATE"]}`, ruleStaff(everyone, 201)),
	row("PUT", "/api/roles/:uuid/", "/api/roles/{role}/", `{"name":"TEST.CUSTOM","content_type":"project","permissions":["PROJECT.UPDATE"]}`, ruleStaff(everyone, 200)),
	row("PATCH", "/api/roles/:uuid/", "/api/roles/{role}/", `{"description":"changed"}`, ruleStaff(everyone, 200)),
	row("DELETE", "/api/roles/:uuid/", "/api/roles/{role}/", "", ruleStaff(everyone, 204)),
	row("POST", "/api/roles/:uuid/enable/", "/api/roles/{role}/enable/", "", ruleStaff(everyone, 200)),
	row("POST", "/api/roles/:uuid/disable/", "/api/roles/{role}/disable/", "", ruleStaff(everyone, 200)),
	row("PUT", "/api/roles/:uuid/update_descriptions/", "/api/roles/{role}/update_descriptions/", `{"description":"x"}`, ruleStaff(everyone, 200)),

	// Invitations to P1 (PROJECT.ADMIN for newbie@example.com).
	get("/api/user-invitations/", "/api/user-invitations/", ruleSignedIn(200)),
	row("POST", "/api/user-invitations/", "/api/user-invitations/", `{"scope":"http://x/api/projects/{project}/","role":"{role:PROJECT.MEMBER}","email":"someone@example.com"}`,
		perm("P1", seeConsumer, 201, whyInvite, "PROJECT.CREATE_PERMISSION", "*", "customer").inBody()),
	row("POST", "/api/user-invitations/check-duplicates/", "/api/user-invitations/check-duplicates/", `{"scope":"http://x/api/projects/{project}/","invitations":[{"email":"someone@example.com","role":"{role:PROJECT.MEMBER}"}]}`,
		perm("P1", seeConsumer, 200, whyInvite, "PROJECT.CREATE_PERMISSION", "*", "customer").inBody()),
	get("/api/user-invitations/:uuid/", "/api/user-invitations/{invitation}/", ruleVisible(seeInvitation, 200)),
	row("PUT", "/api/user-invitations/:uuid/", "/api/user-invitations/{invitation}/", `{"extra_invitation_text":"hi","email":"newbie@example.com"}`,
		perm("invitation", seeInvitation, 200, whyInvite, "PROJECT.CREATE_PERMISSION", "project", "customer")),
	row("PATCH", "/api/user-invitations/:uuid/", "/api/user-invitations/{invitation}/", `{"extra_invitation_text":"hi"}`,
		perm("invitation", seeInvitation, 200, whyInvite, "PROJECT.CREATE_PERMISSION", "project", "customer")),
	row("DELETE", "/api/user-invitations/:uuid/", "/api/user-invitations/{invitation}/", "",
		perm("invitation", seeInvitation, 204, whyInvite, "PROJECT.CREATE_PERMISSION", "project", "customer")),
	row("POST", "/api/user-invitations/:uuid/send/", "/api/user-invitations/{invitation}/send/", "",
		perm("invitation", seeInvitation, 200, whyInvite, "PROJECT.CREATE_PERMISSION", "project", "customer")),
	row("POST", "/api/user-invitations/:uuid/cancel/", "/api/user-invitations/{invitation}/cancel/", "",
		perm("invitation", seeInvitation, 200, whyInvite, "PROJECT.CREATE_PERMISSION", "project", "customer")),
	row("POST", "/api/user-invitations/:uuid/delete/", "/api/user-invitations/{invitation}/delete/", "", ruleStaff(everyone, 200)),
	// Anyone signed in may accept; p-admin holds the invited role already.
	row("POST", "/api/user-invitations/:uuid/accept/", "/api/user-invitations/{invitation}/accept/", "",
		ruleSignedIn(200).with("p-admin", 400, "p-admin holds the invited role already.")),
	row("POST", "/api/user-invitations/:uuid/check/", "/api/user-invitations/{invitation}/check/", "", rulePublic(200)),
	// Public details of a pending invitation: whoever holds its link (UUID) and is signed in.
	get("/api/user-invitations/:uuid/details/", "/api/user-invitations/{invitation}/details/", ruleSignedIn(200)),
	row("POST", "/api/user-invitations/approve/", "/api/user-invitations/approve/", `{"token":"{invitation-requested}"}`, ruleStaff(everyone, 200)),
	row("POST", "/api/user-invitations/reject/", "/api/user-invitations/reject/", `{"token":"{invitation-requested}"}`, ruleStaff(everyone, 200)),

	// Events: one fed to P1 and C1. By UUID without ?scope: staff's and support's (docs/roles.md).
	get("/api/events/", "/api/events/", ruleSignedIn(200)),
	get("/api/events/:id/", "/api/events/{event}/", ruleVisible(staffAndSupport, 200)),
	get("/api/events/:id/", "/api/events/{event}/?scope=http://x/api/projects/{project}/", ruleVisible(seeConsumer, 200)),
	get("/api/events/count/", "/api/events/count/", ruleSignedIn(200)),
	get("/api/events/event_groups/", "/api/events/event_groups/", ruleSignedIn(200)),
	get("/api/events/scope_types/", "/api/events/scope_types/", ruleSignedIn(200)),

	// Usage of r1: seen from either side; reported by the provider.
	get("/api/marketplace-component-usages/", "/api/marketplace-component-usages/", ruleSignedIn(200)),
	get("/api/marketplace-component-usages/:uuid/", "/api/marketplace-component-usages/{usage}/", ruleVisible(seeBoth, 200)),
	row("POST", "/api/marketplace-component-usages/set_usage/", "/api/marketplace-component-usages/set_usage/", `{"resource":"{resource}","usages":[{"type":"hours","amount":"1.5"}]}`,
		perm("resource", seeBoth, 201, whyUsage, "RESOURCE.SET_USAGE", "offering", "offering.customer").inBody()),
	row("POST", "/api/marketplace-component-usages/:uuid/set_user_usage/", "/api/marketplace-component-usages/{usage}/set_user_usage/", `{"username":"alice","usage":"1"}`,
		xperm("usage", seeBoth, 201)),
	row("POST", "/api/marketplace-component-usages/:uuid/set_user_usages/", "/api/marketplace-component-usages/{usage}/set_user_usages/", `{"usages":[{"username":"bob","usage":"1"}]}`,
		xperm("usage", seeBoth, 201)),
	get("/api/marketplace-component-user-usages/", "/api/marketplace-component-user-usages/", ruleSignedIn(200)),
	get("/api/marketplace-component-user-usages/:uuid/", "/api/marketplace-component-user-usages/{user-usage}/", ruleVisible(seeBoth, 200)),
	get("/api/component-user-usage-limits/", "/api/component-user-usage-limits/", ruleSignedIn(200)),

	// Orders: r2's create order waits for the provider. A permitted action
	// in a wrong state is 409 at once; a permitted one in the right state
	// reaches the workflow call and gets 503 (no Temporal). Permission first.
	get("/api/marketplace-orders/", "/api/marketplace-orders/", ruleSignedIn(200)),
	row("POST", "/api/marketplace-orders/", "/api/marketplace-orders/", `{"offering":"{offering}","project":"{project}","plan":"{plan}","attributes":{"name":"new"}}`,
		ruleVisible(seeConsumer, 201).because(whyOrder).inBody().with("support", 403, "Global support cannot order (docs/roles.md).")),
	// The preview answers 200 to every user: a refusal is its answer.
	row("POST", "/api/marketplace-orders/preview/", "/api/marketplace-orders/preview/", `{"offering":"{offering}","project":"{project}","plan":"{plan}","attributes":{"name":"new"}}`, ruleSignedIn(200)),
	get("/api/marketplace-orders/:uuid/", "/api/marketplace-orders/{order}/", ruleVisible(seeBoth, 200)),
	row("DELETE", "/api/marketplace-orders/:uuid/", "/api/marketplace-orders/{order}/", "", xperm("order", seeBoth, 503)),
	row("POST", "/api/marketplace-orders/:uuid/approve_by_consumer/", "/api/marketplace-orders/{order}/approve_by_consumer/", "", xperm("order", seeBoth, 409)),
	row("POST", "/api/marketplace-orders/:uuid/approve_by_provider/", "/api/marketplace-orders/{order}/approve_by_provider/", "", xperm("order", seeBoth, 503)),
	// Waldur's reject_by_consumer: the order's creator (c-owner), or ORDER.REJECT on the project or its customer.
	row("POST", "/api/marketplace-orders/:uuid/reject_by_consumer/", "/api/marketplace-orders/{order}/reject_by_consumer/", "",
		perm("order", seeBoth, 409, "Waldur's reject_by_consumer: the creator, or ORDER.REJECT on the project or its customer.", "ORDER.REJECT", "project", "project.customer").by("c-owner")),
	row("POST", "/api/marketplace-orders/:uuid/reject_by_provider/", "/api/marketplace-orders/{order}/reject_by_provider/", "", xperm("order", seeBoth, 503)),
	row("POST", "/api/marketplace-orders/:uuid/cancel/", "/api/marketplace-orders/{order}/cancel/", "", xperm("order", seeBoth, 503)),
	row("POST", "/api/marketplace-orders/:uuid/set_state_executing/", "/api/marketplace-orders/{order}/set_state_executing/", "", xperm("order", seeBoth, 400)),
	row("POST", "/api/marketplace-orders/:uuid/set_state_done/", "/api/marketplace-orders/{order}/set_state_done/", "", xperm("order", seeBoth, 409)),
	row("POST", "/api/marketplace-orders/:uuid/set_state_erred/", "/api/marketplace-orders/{order}/set_state_erred/", "", xperm("order", seeBoth, 400)),

	// Resources: r1, the consumer's view (its project's and customer's roles:
	// the provider acts through its own view, so its x-permissions scope
	// offering.customer is never reached here) and the provider's.
	get("/api/marketplace-resources/", "/api/marketplace-resources/", ruleSignedIn(200)),
	get("/api/marketplace-resources/:uuid/", "/api/marketplace-resources/{resource}/", ruleVisible(seeConsumer, 200)),
	get("/api/marketplace-resources/:uuid/team/", "/api/marketplace-resources/{resource}/team/", ruleVisible(seeConsumer, 200)),
	get("/api/marketplace-resources/:uuid/plan_periods/", "/api/marketplace-resources/{resource}/plan_periods/", ruleVisible(seeConsumer, 200)),
	row("PUT", "/api/marketplace-resources/:uuid/", "/api/marketplace-resources/{resource}/", `{"name":"renamed"}`, xperm("resource", seeConsumer, 200)),
	row("PATCH", "/api/marketplace-resources/:uuid/", "/api/marketplace-resources/{resource}/", `{"description":"d"}`, xperm("resource", seeConsumer, 200)),
	row("POST", "/api/marketplace-resources/:uuid/terminate/", "/api/marketplace-resources/{resource}/terminate/", "", xperm("resource", seeConsumer, 200)),
	row("POST", "/api/marketplace-resources/:uuid/update_limits/", "/api/marketplace-resources/{resource}/update_limits/", `{"limits":{}}`, xperm("resource", seeConsumer, 200)),
	row("POST", "/api/marketplace-resources/:uuid/switch_plan/", "/api/marketplace-resources/{resource}/switch_plan/", `{"plan":"{plan2}"}`, xperm("resource", seeConsumer, 200)),
	// Staff's direct changes of a resource ("Requires staff permissions.", no x-permissions), on both views.
	row("POST", "/api/marketplace-resources/:uuid/set_downscaled/", "/api/marketplace-resources/{resource}/set_downscaled/", `{"downscaled":true}`, ruleStaff(seeConsumer, 200)),
	row("POST", "/api/marketplace-resources/:uuid/set_paused/", "/api/marketplace-resources/{resource}/set_paused/", `{"paused":true}`, ruleStaff(seeConsumer, 200)),
	row("POST", "/api/marketplace-resources/:uuid/set_restrict_member_access/", "/api/marketplace-resources/{resource}/set_restrict_member_access/", `{"restrict_member_access":true}`, ruleStaff(seeConsumer, 200)),
	row("POST", "/api/marketplace-resources/:uuid/set_slug/", "/api/marketplace-resources/{resource}/set_slug/", `{"slug":"r1-renamed"}`, ruleStaff(seeConsumer, 200)),
	row("POST", "/api/marketplace-resources/:uuid/set_end_date_by_staff/", "/api/marketplace-resources/{resource}/set_end_date_by_staff/", `{"end_date":"2099-01-31"}`, ruleStaff(seeConsumer, 200)),
	// The matrix resource is a Basic offering's, whose provider cannot pull: whoever sees it gets that 409.
	row("POST", "/api/marketplace-resources/:uuid/pull/", "/api/marketplace-resources/{resource}/pull/", "", ruleVisible(seeConsumer, 409).because(whyPull)),
	row("POST", "/api/marketplace-resources/:uuid/unlink/", "/api/marketplace-resources/{resource}/unlink/", "", ruleStaff(seeConsumer, 204)),
	get("/api/marketplace-provider-resources/", "/api/marketplace-provider-resources/", ruleSignedIn(200)),
	get("/api/marketplace-provider-resources/:uuid/", "/api/marketplace-provider-resources/{resource}/", ruleVisible(seeProvider, 200)),
	get("/api/marketplace-provider-resources/:uuid/team/", "/api/marketplace-provider-resources/{resource}/team/", ruleVisible(seeProvider, 200)),
	row("POST", "/api/marketplace-provider-resources/:uuid/set_backend_id/", "/api/marketplace-provider-resources/{resource}/set_backend_id/", `{"backend_id":"b-1"}`, xperm("resource", seeProvider, 200)),
	row("POST", "/api/marketplace-provider-resources/:uuid/set_backend_metadata/", "/api/marketplace-provider-resources/{resource}/set_backend_metadata/", `{"backend_metadata":{"k":"v"}}`, xperm("resource", seeProvider, 200)),
	row("POST", "/api/marketplace-provider-resources/:uuid/set_limits/", "/api/marketplace-provider-resources/{resource}/set_limits/", `{"limits":{}}`, xperm("resource", seeProvider, 200)),
	row("POST", "/api/marketplace-provider-resources/:uuid/set_as_ok/", "/api/marketplace-provider-resources/{resource}/set_as_ok/", "", xperm("resource", seeProvider, 200)),
	row("POST", "/api/marketplace-provider-resources/:uuid/set_as_erred/", "/api/marketplace-provider-resources/{resource}/set_as_erred/", "", xperm("resource", seeProvider, 200)),
	row("POST", "/api/marketplace-provider-resources/:uuid/refresh_last_sync/", "/api/marketplace-provider-resources/{resource}/refresh_last_sync/", "", xperm("resource", seeProvider, 200)),
	row("POST", "/api/marketplace-provider-resources/:uuid/terminate/", "/api/marketplace-provider-resources/{resource}/terminate/", "", xperm("resource", seeProvider, 200)),
	row("POST", "/api/marketplace-provider-resources/:uuid/set_endpoints/", "/api/marketplace-provider-resources/{resource}/set_endpoints/", `{"endpoints":[{"name":"ssh","url":"ssh://login.example"}]}`,
		perm("resource", seeProvider, 200, whyEndpoints, "RESOURCE.SET_BACKEND_METADATA", "offering.customer")),
	get("/api/marketplace-provider-resources/:uuid/plan_periods/", "/api/marketplace-provider-resources/{resource}/plan_periods/", ruleVisible(seeProvider, 200)),
	row("POST", "/api/marketplace-provider-resources/:uuid/set_downscaled/", "/api/marketplace-provider-resources/{resource}/set_downscaled/", `{"downscaled":true}`, ruleStaff(seeProvider, 200)),
	row("POST", "/api/marketplace-provider-resources/:uuid/set_paused/", "/api/marketplace-provider-resources/{resource}/set_paused/", `{"paused":true}`, ruleStaff(seeProvider, 200)),
	row("POST", "/api/marketplace-provider-resources/:uuid/set_restrict_member_access/", "/api/marketplace-provider-resources/{resource}/set_restrict_member_access/", `{"restrict_member_access":true}`, ruleStaff(seeProvider, 200)),
	row("POST", "/api/marketplace-provider-resources/:uuid/set_slug/", "/api/marketplace-provider-resources/{resource}/set_slug/", `{"slug":"r1-renamed"}`, ruleStaff(seeProvider, 200)),
	row("POST", "/api/marketplace-provider-resources/:uuid/set_end_date_by_staff/", "/api/marketplace-provider-resources/{resource}/set_end_date_by_staff/", `{"end_date":"2099-01-31"}`, ruleStaff(seeProvider, 200)),
	row("POST", "/api/marketplace-provider-resources/:uuid/pull/", "/api/marketplace-provider-resources/{resource}/pull/", "", ruleVisible(seeProvider, 409).because(whyPull)),
	row("POST", "/api/marketplace-provider-resources/:uuid/unlink/", "/api/marketplace-provider-resources/{resource}/unlink/", "", ruleStaff(seeProvider, 204)),
	row("POST", "/api/marketplace-provider-resources/:uuid/set_end_date_by_provider/", "/api/marketplace-provider-resources/{resource}/set_end_date_by_provider/", `{"end_date":"2099-01-31"}`,
		perm("resource", seeProvider, 200, whyEndDate, "RESOURCE.SET_END_DATE", "offering.customer").with("support", 200, "Global support passes too.")),

	// The catalog: category groups and categories are staff's to write.
	get("/api/marketplace-category-groups/", "/api/marketplace-category-groups/", ruleSignedIn(200)),
	row("POST", "/api/marketplace-category-groups/", "/api/marketplace-category-groups/", `{"title":"New group"}`, ruleStaff(everyone, 201)),
	get("/api/marketplace-category-groups/:uuid/", "/api/marketplace-category-groups/{cgroup}/", ruleSignedIn(200)),
	row("PUT", "/api/marketplace-category-groups/:uuid/", "/api/marketplace-category-groups/{cgroup}/", `{"title":"Renamed"}`, ruleStaff(everyone, 200)),
	row("PATCH", "/api/marketplace-category-groups/:uuid/", "/api/marketplace-category-groups/{cgroup}/", `{"title":"Renamed"}`, ruleStaff(everyone, 200)),
	row("DELETE", "/api/marketplace-category-groups/:uuid/", "/api/marketplace-category-groups/{cgroup}/", "", ruleStaff(everyone, 204)),
	get("/api/marketplace-categories/", "/api/marketplace-categories/", ruleSignedIn(200)),
	row("POST", "/api/marketplace-categories/", "/api/marketplace-categories/", `{"title":"New category"}`, ruleStaff(everyone, 201)),
	get("/api/marketplace-categories/:uuid/", "/api/marketplace-categories/{category}/", ruleSignedIn(200)),
	row("PUT", "/api/marketplace-categories/:uuid/", "/api/marketplace-categories/{category}/", `{"title":"Renamed"}`, ruleStaff(everyone, 200)),
	row("PATCH", "/api/marketplace-categories/:uuid/", "/api/marketplace-categories/{category}/", `{"title":"Renamed"}`, ruleStaff(everyone, 200)),
	row("DELETE", "/api/marketplace-categories/:uuid/", "/api/marketplace-categories/{category}/", "", ruleStaff(everyone, 204)),

	// Service providers: PROV's is public; C2 is not a provider yet.
	get("/api/marketplace-service-providers/", "/api/marketplace-service-providers/", ruleSignedIn(200)),
	row("POST", "/api/marketplace-service-providers/", "/api/marketplace-service-providers/", `{"customer":"{customer2}"}`,
		perm("C2", seeC2, 201, whyRegister, "SERVICE_PROVIDER.REGISTER", "*").inBody()),
	get("/api/marketplace-service-providers/:uuid/", "/api/marketplace-service-providers/{service-provider}/", ruleSignedIn(200)),
	row("PUT", "/api/marketplace-service-providers/:uuid/", "/api/marketplace-service-providers/{service-provider}/", `{"description":"We serve"}`,
		perm("service-provider", everyone, 200, whyIsOwner, "CUSTOMER.UPDATE", "customer")),
	row("PATCH", "/api/marketplace-service-providers/:uuid/", "/api/marketplace-service-providers/{service-provider}/", `{"description":"We serve"}`,
		perm("service-provider", everyone, 200, whyIsOwner, "CUSTOMER.UPDATE", "customer")),
	get("/api/marketplace-service-providers/:uuid/keys/", "/api/marketplace-service-providers/{service-provider}/keys/",
		perm("service-provider", everyone, 200, whyKeys, "SERVICE_PROVIDER.LIST_KEYS", "customer")),
	// The provider still has a live offering.
	row("DELETE", "/api/marketplace-service-providers/:uuid/", "/api/marketplace-service-providers/{service-provider}/", "",
		perm("service-provider", everyone, 409, whyIsOwner, "CUSTOMER.UPDATE", "customer")),

	// Offerings: O, PROV's Active shared Basic offering.
	get("/api/marketplace-provider-offerings/", "/api/marketplace-provider-offerings/", ruleSignedIn(200)),
	row("POST", "/api/marketplace-provider-offerings/", "/api/marketplace-provider-offerings/", `{"name":"New","category":"{category-used}","customer":"{provider}","type":"Marketplace.Basic"}`,
		perm("PROV", everyone, 201, whyOffering, "OFFERING.CREATE", "*")),
	get("/api/marketplace-provider-offerings/:uuid/", "/api/marketplace-provider-offerings/{offering}/", ruleVisible(seeProvider, 200)),
	row("DELETE", "/api/marketplace-provider-offerings/:uuid/", "/api/marketplace-provider-offerings/{offering}/", "", xperm("O", seeProvider, 409)),
	row("POST", "/api/marketplace-provider-offerings/:uuid/activate/", "/api/marketplace-provider-offerings/{offering}/activate/", "", xperm("O", seeProvider, 409)),
	row("POST", "/api/marketplace-provider-offerings/:uuid/pause/", "/api/marketplace-provider-offerings/{offering}/pause/", `{"paused_reason":"maintenance"}`, xperm("O", seeProvider, 200)),
	row("POST", "/api/marketplace-provider-offerings/:uuid/unpause/", "/api/marketplace-provider-offerings/{offering}/unpause/", "", xperm("O", seeProvider, 409)),
	row("POST", "/api/marketplace-provider-offerings/:uuid/archive/", "/api/marketplace-provider-offerings/{offering}/archive/", "", xperm("O", seeProvider, 200)),
	row("POST", "/api/marketplace-provider-offerings/:uuid/draft/", "/api/marketplace-provider-offerings/{offering}/draft/", "", xperm("O", seeProvider, 200)),
	row("POST", "/api/marketplace-provider-offerings/:uuid/check_unique_backend_id/", "/api/marketplace-provider-offerings/{offering}/check_unique_backend_id/", `{"backend_id":"x"}`, xperm("O", seeProvider, 200)),
	get("/api/marketplace-provider-offerings/:uuid/list_project_service_accounts/", "/api/marketplace-provider-offerings/{offering}/list_project_service_accounts/", ruleVisible(seeProvider, 200)),
	get("/api/marketplace-provider-offerings/:uuid/list_course_accounts/", "/api/marketplace-provider-offerings/{offering}/list_course_accounts/", ruleVisible(seeProvider, 200)),
	// Imports read the backend through Temporal: staff gets past the check to the 503.
	get("/api/marketplace-provider-offerings/:uuid/importable_resources/", "/api/marketplace-provider-offerings/{offering}/importable_resources/", ruleStaff(seeProvider, 503).because(whyImport)),
	row("POST", "/api/marketplace-provider-offerings/:uuid/import_resource/", "/api/marketplace-provider-offerings/{offering}/import_resource/", `{"backend_id":"x","project":"{project}"}`,
		ruleStaff(seeProvider, 503).because(whyImport)),
	get("/api/marketplace-provider-offerings/:uuid/list_users/", "/api/marketplace-provider-offerings/{offering}/list_users/", ruleVisible(seeProvider, 200)),
	row("POST", "/api/marketplace-provider-offerings/:uuid/add_user/", "/api/marketplace-provider-offerings/{offering}/add_user/", `{"user":"{user:newbie}","role":"OFFERING.MANAGER"}`,
		perm("O", seeProvider, 201, whyOfferingTeam, "OFFERING.CREATE_PERMISSION", "*", "customer")),
	row("POST", "/api/marketplace-provider-offerings/:uuid/update_user/", "/api/marketplace-provider-offerings/{offering}/update_user/", `{"user":"{user:o-manager}","role":"OFFERING.MANAGER","expiration_time":"2099-01-01T00:00:00Z"}`,
		perm("O", seeProvider, 200, whyOfferingTeam, "OFFERING.UPDATE_PERMISSION", "*", "customer")),
	row("POST", "/api/marketplace-provider-offerings/:uuid/delete_user/", "/api/marketplace-provider-offerings/{offering}/delete_user/", `{"user":"{user:o-manager}","role":"OFFERING.MANAGER"}`,
		perm("O", seeProvider, 200, whyOfferingTeam, "OFFERING.DELETE_PERMISSION", "*", "customer")),
	get("/api/marketplace-provider-offerings/:uuid/user-attribute-config/", "/api/marketplace-provider-offerings/{offering}/user-attribute-config/", ruleVisible(seeProvider, 200)),
	row("POST", "/api/marketplace-provider-offerings/:uuid/update_description/", "/api/marketplace-provider-offerings/{offering}/update_description/", `{"category":"{category-used}"}`, xperm("O", seeProvider, 200)),
	row("POST", "/api/marketplace-provider-offerings/:uuid/update_overview/", "/api/marketplace-provider-offerings/{offering}/update_overview/", `{"name":"Consulting","description":"d"}`,
		ruleStaff(seeProvider, 200).because(whyOverview)),
	row("POST", "/api/marketplace-provider-offerings/:uuid/update_options/", "/api/marketplace-provider-offerings/{offering}/update_options/", `{"options":{"order":[],"options":{}}}`, xperm("O", seeProvider, 200)),
	row("POST", "/api/marketplace-provider-offerings/:uuid/update_resource_options/", "/api/marketplace-provider-offerings/{offering}/update_resource_options/", `{"resource_options":{"order":[],"options":{}}}`, xperm("O", seeProvider, 200)),
	row("POST", "/api/marketplace-provider-offerings/:uuid/update_integration/", "/api/marketplace-provider-offerings/{offering}/update_integration/", `{"plugin_options":{}}`, xperm("O", seeProvider, 200)),
	row("POST", "/api/marketplace-provider-offerings/:uuid/update_attributes/", "/api/marketplace-provider-offerings/{offering}/update_attributes/", `{}`, xperm("O", seeProvider, 200)),
	row("POST", "/api/marketplace-provider-offerings/:uuid/create_offering_component/", "/api/marketplace-provider-offerings/{offering}/create_offering_component/", `{"type":"days","name":"Days","billing_type":"usage","measured_unit":"d"}`, xperm("O", seeProvider, 201)),
	row("POST", "/api/marketplace-provider-offerings/:uuid/update_offering_component/", "/api/marketplace-provider-offerings/{offering}/update_offering_component/", `{"uuid":"{component}","type":"hours","name":"Hours of work","billing_type":"usage","measured_unit":"h"}`, xperm("O", seeProvider, 200)),
	row("POST", "/api/marketplace-provider-offerings/:uuid/remove_offering_component/", "/api/marketplace-provider-offerings/{offering}/remove_offering_component/", `{"uuid":"{component}"}`, xperm("O", seeProvider, 200)),
	// HPC's SLURM partitions, as the site agent keeps them.
	row("POST", "/api/marketplace-provider-offerings/:uuid/add_partition/", "/api/marketplace-provider-offerings/{hpc}/add_partition/", `{"offering":"{hpc}","partition_name":"gpu","max_time":60}`, xperm("HPC", seeProvider, 201)),
	row("PATCH", "/api/marketplace-provider-offerings/:uuid/update_partition/", "/api/marketplace-provider-offerings/{hpc}/update_partition/", `{"partition_uuid":"{partition}","qos":"high"}`, xperm("HPC", seeProvider, 200)),
	row("POST", "/api/marketplace-provider-offerings/:uuid/remove_partition/", "/api/marketplace-provider-offerings/{hpc}/remove_partition/", `{"partition_uuid":"{partition}"}`, xperm("HPC", seeProvider, 204)),
	get("/api/marketplace-public-offerings/", "/api/marketplace-public-offerings/", ruleSignedIn(200)),
	get("/api/marketplace-public-offerings/:uuid/", "/api/marketplace-public-offerings/{offering}/", ruleSignedIn(200)),
	get("/api/marketplace-public-offerings/:uuid/plans/", "/api/marketplace-public-offerings/{offering}/plans/", ruleSignedIn(200)),
	get("/api/marketplace-public-offerings/:uuid/plans/:plan/", "/api/marketplace-public-offerings/{offering}/plans/{plan}/", ruleSignedIn(200)),

	// Plans of O: public; changed by the provider.
	get("/api/marketplace-plans/", "/api/marketplace-plans/", ruleSignedIn(200)),
	get("/api/marketplace-plans/:uuid/", "/api/marketplace-plans/{plan}/", ruleSignedIn(200)),
	row("POST", "/api/marketplace-plans/", "/api/marketplace-plans/", `{"offering":"{offering}","name":"Weekly","unit":"month","unit_price":"100"}`,
		perm("O", seeProvider, 201, whyPlan, "OFFERING.CREATE_PLAN", "customer").inBody()),
	row("PUT", "/api/marketplace-plans/:uuid/", "/api/marketplace-plans/{plan}/", `{"name":"Hourly+","unit":"hour","unit_price":"11"}`, xperm("plan", everyone, 200)),
	row("PATCH", "/api/marketplace-plans/:uuid/", "/api/marketplace-plans/{plan}/", `{"name":"Hourly+"}`, xperm("plan", everyone, 200)),
	row("POST", "/api/marketplace-plans/:uuid/archive/", "/api/marketplace-plans/{plan}/archive/", "", xperm("plan", everyone, 200)),
	row("POST", "/api/marketplace-plans/:uuid/update_prices/", "/api/marketplace-plans/{plan}/update_prices/", `{"prices":{"hours":"2.5"}}`, xperm("plan", everyone, 200)),
	row("POST", "/api/marketplace-plans/:uuid/update_quotas/", "/api/marketplace-plans/{plan}/update_quotas/", `{"quotas":{"hours":10}}`, xperm("plan", everyone, 200)),

	// Billing of C1: its invoice (pending) with r1's item, its credit and P1's share; changes are staff's.
	get("/api/invoices/", "/api/invoices/", ruleSignedIn(200)),
	get("/api/invoices/:uuid/", "/api/invoices/{invoice}/", ruleVisible(seeCustomer, 200)),
	get("/api/invoices/:uuid/items/", "/api/invoices/{invoice}/items/", ruleVisible(seeCustomer, 200)),
	get("/api/invoices/:uuid/stats/", "/api/invoices/{invoice}/stats/", ruleVisible(seeCustomer, 200)),
	get("/api/invoices/:uuid/csv/", "/api/invoices/{invoice}/csv/", ruleVisible(seeCustomer, 200).because(whyCSV)),
	row("POST", "/api/invoices/:uuid/paid/", "/api/invoices/{invoice}/paid/", `{"date":"2026-01-05"}`, ruleStaff(everyone, 409)),
	row("POST", "/api/invoices/:uuid/set_backend_id/", "/api/invoices/{invoice}/set_backend_id/", `{"backend_id":"erp-1"}`, ruleStaff(everyone, 200)),
	row("POST", "/api/invoices/:uuid/set_payment_url/", "/api/invoices/{invoice}/set_payment_url/", `{"payment_url":"https://pay.example.com/1"}`, ruleStaff(everyone, 200)),
	row("POST", "/api/invoices/:uuid/set_reference_number/", "/api/invoices/{invoice}/set_reference_number/", `{"reference_number":"R-1"}`, ruleStaff(everyone, 200)),
	get("/api/invoice-items/", "/api/invoice-items/", ruleSignedIn(200)),
	get("/api/invoice-items/total_price/", "/api/invoice-items/total_price/", ruleSignedIn(200)),
	get("/api/invoice-items/:uuid/", "/api/invoice-items/{invoice-item}/", ruleVisible(seeCustomer, 200)),
	row("PUT", "/api/invoice-items/:uuid/", "/api/invoice-items/{invoice-item}/", `{"quantity":"1"}`, ruleStaff(everyone, 200)),
	row("PATCH", "/api/invoice-items/:uuid/", "/api/invoice-items/{invoice-item}/", `{"article_code":"A-1"}`, ruleStaff(everyone, 200)),
	row("DELETE", "/api/invoice-items/:uuid/", "/api/invoice-items/{invoice-item}/", "", ruleStaff(everyone, 204)),
	row("POST", "/api/invoice-items/:uuid/create_compensation/", "/api/invoice-items/{invoice-item}/create_compensation/", `{"offering_component_name":"Hours"}`, ruleStaff(everyone, 200)),
	row("POST", "/api/invoice-items/:uuid/migrate_to/", "/api/invoice-items/{invoice-item}/migrate_to/", `{"invoice":"{invoice}"}`, ruleStaff(everyone, 200)),
	get("/api/customer-credits/", "/api/customer-credits/", ruleSignedIn(200)),
	row("POST", "/api/customer-credits/", "/api/customer-credits/", `{"customer":"{customer2}","value":"10"}`, ruleStaff(everyone, 201)),
	get("/api/customer-credits/:uuid/", "/api/customer-credits/{customer-credit}/", ruleVisible(seeCustomer, 200)),
	row("PUT", "/api/customer-credits/:uuid/", "/api/customer-credits/{customer-credit}/", `{"customer":"{customer}","value":"900"}`, ruleStaff(everyone, 200)),
	row("PATCH", "/api/customer-credits/:uuid/", "/api/customer-credits/{customer-credit}/", `{"value":"900"}`, ruleStaff(everyone, 200)),
	row("DELETE", "/api/customer-credits/:uuid/", "/api/customer-credits/{customer-credit}/", "", ruleStaff(everyone, 204)),
	get("/api/customer-credits/:uuid/consumptions/", "/api/customer-credits/{customer-credit}/consumptions/", ruleVisible(seeCustomer, 200)),
	get("/api/project-credits/", "/api/project-credits/", ruleSignedIn(200)),
	// P1 has its credit already: staff gets the validation error.
	row("POST", "/api/project-credits/", "/api/project-credits/", `{"project":"{project}","value":"5"}`, ruleStaff(everyone, 400)),
	get("/api/project-credits/:uuid/", "/api/project-credits/{project-credit}/", ruleVisible(seeConsumer, 200)),
	row("PUT", "/api/project-credits/:uuid/", "/api/project-credits/{project-credit}/", `{"project":"{project}","value":"20"}`, ruleStaff(everyone, 200)),
	row("PATCH", "/api/project-credits/:uuid/", "/api/project-credits/{project-credit}/", `{"value":"20"}`, ruleStaff(everyone, 200)),
	row("DELETE", "/api/project-credits/:uuid/", "/api/project-credits/{project-credit}/", "", ruleStaff(everyone, 204)),

	// AWS: the catalog is any signed-in user's to read; r1's instance is seen as r1 is.
	get("/api/aws-regions/", "/api/aws-regions/", ruleSignedIn(200)),
	get("/api/aws-regions/:uuid/", "/api/aws-regions/{aws-region}/", ruleSignedIn(200)),
	get("/api/aws-images/", "/api/aws-images/", ruleSignedIn(200)),
	get("/api/aws-images/:uuid/", "/api/aws-images/{aws-image}/", ruleSignedIn(200)),
	get("/api/aws-sizes/", "/api/aws-sizes/", ruleSignedIn(200)),
	get("/api/aws-sizes/:uuid/", "/api/aws-sizes/{aws-size}/", ruleSignedIn(200)),
	get("/api/aws-instances/", "/api/aws-instances/", ruleSignedIn(200)),
	get("/api/aws-instances/:uuid/", "/api/aws-instances/{aws-instance}/", ruleVisible(seeBoth, 200)),

	// Hooks: c-owner's.
	get("/api/hooks/", "/api/hooks/", ruleSignedIn(200)),
	get("/api/hooks-web/", "/api/hooks-web/", ruleSignedIn(200)),
	row("POST", "/api/hooks-web/", "/api/hooks-web/", `{"event_types":["role_granted"],"destination_url":"https://example.com/new"}`, ruleSignedIn(201)),
	get("/api/hooks-web/:uuid/", "/api/hooks-web/{hook-web}/", ruleVisible(seeOwnKey, 200)),
	row("PUT", "/api/hooks-web/:uuid/", "/api/hooks-web/{hook-web}/", `{"event_types":["role_granted"],"destination_url":"https://example.com/other"}`, ruleOwn(seeOwnKey, 200)),
	row("PATCH", "/api/hooks-web/:uuid/", "/api/hooks-web/{hook-web}/", `{"is_active":false}`, ruleOwn(seeOwnKey, 200)),
	row("DELETE", "/api/hooks-web/:uuid/", "/api/hooks-web/{hook-web}/", "", ruleOwn(seeOwnKey, 204)),
	get("/api/hooks-email/", "/api/hooks-email/", ruleSignedIn(200)),
	row("POST", "/api/hooks-email/", "/api/hooks-email/", `{"event_types":["role_granted"],"email":"me@example.com"}`, ruleSignedIn(201)),
	get("/api/hooks-email/:uuid/", "/api/hooks-email/{hook-email}/", ruleVisible(seeOwnKey, 200)),
	row("PUT", "/api/hooks-email/:uuid/", "/api/hooks-email/{hook-email}/", `{"event_types":["role_granted"],"email":"other@example.com"}`, ruleOwn(seeOwnKey, 200)),
	row("PATCH", "/api/hooks-email/:uuid/", "/api/hooks-email/{hook-email}/", `{"is_active":false}`, ruleOwn(seeOwnKey, 200)),
	row("DELETE", "/api/hooks-email/:uuid/", "/api/hooks-email/{hook-email}/", "", ruleOwn(seeOwnKey, 204)),

	// Offering users: target's account on HPC, in state Creating.
	// Marketplace policies (api/policies): a project's are seen from the project or its customer and written by the
	// customer's owners; a customer's are seen by its team and written by staff; an offering's are seen by the
	// provider's team and the offering's managers, written by OFFERING.UPDATE. A scope the caller does not see is a 400.
	get("/api/marketplace-project-estimated-cost-policies/", "/api/marketplace-project-estimated-cost-policies/", ruleSignedIn(200)),
	get("/api/marketplace-project-estimated-cost-policies/actions/", "/api/marketplace-project-estimated-cost-policies/actions/", ruleSignedIn(200)),
	row("POST", "/api/marketplace-project-estimated-cost-policies/", "/api/marketplace-project-estimated-cost-policies/", `{"scope":"{project}","actions":"notify_organization_owners","limit_cost":100}`, perm("P1", seeConsumer, 201, "Waldur's project policies: the owners of the project's customer (is_owner, as CUSTOMER.UPDATE); the OpenAPI file gives no x-permissions.", "CUSTOMER.UPDATE", "customer").inBody()),
	get("/api/marketplace-project-estimated-cost-policies/:uuid/", "/api/marketplace-project-estimated-cost-policies/{policy-project}/", ruleVisible(seeConsumer, 200)),
	row("PUT", "/api/marketplace-project-estimated-cost-policies/:uuid/", "/api/marketplace-project-estimated-cost-policies/{policy-project}/", `{"scope":"{project}","actions":"notify_organization_owners","limit_cost":100}`, perm("P1", seeConsumer, 200, "Waldur's project policies: the owners of the project's customer (is_owner, as CUSTOMER.UPDATE); the OpenAPI file gives no x-permissions.", "CUSTOMER.UPDATE", "customer")),
	row("PATCH", "/api/marketplace-project-estimated-cost-policies/:uuid/", "/api/marketplace-project-estimated-cost-policies/{policy-project}/", `{"actions":"notify_organization_owners"}`, perm("P1", seeConsumer, 200, "Waldur's project policies: the owners of the project's customer (is_owner, as CUSTOMER.UPDATE); the OpenAPI file gives no x-permissions.", "CUSTOMER.UPDATE", "customer")),
	row("DELETE", "/api/marketplace-project-estimated-cost-policies/:uuid/", "/api/marketplace-project-estimated-cost-policies/{policy-project}/", "", perm("P1", seeConsumer, 204, "Waldur's project policies: the owners of the project's customer (is_owner, as CUSTOMER.UPDATE); the OpenAPI file gives no x-permissions.", "CUSTOMER.UPDATE", "customer")),
	get("/api/marketplace-customer-estimated-cost-policies/", "/api/marketplace-customer-estimated-cost-policies/", ruleSignedIn(200)),
	get("/api/marketplace-customer-estimated-cost-policies/actions/", "/api/marketplace-customer-estimated-cost-policies/actions/", ruleSignedIn(200)),
	row("POST", "/api/marketplace-customer-estimated-cost-policies/", "/api/marketplace-customer-estimated-cost-policies/", `{"scope":"{customer}","actions":"notify_organization_owners","limit_cost":100}`, ruleStaff(seeCustomer, 201).inBody()),
	get("/api/marketplace-customer-estimated-cost-policies/:uuid/", "/api/marketplace-customer-estimated-cost-policies/{policy-customer}/", ruleVisible(seeCustomer, 200)),
	row("PUT", "/api/marketplace-customer-estimated-cost-policies/:uuid/", "/api/marketplace-customer-estimated-cost-policies/{policy-customer}/", `{"scope":"{customer}","actions":"notify_organization_owners","limit_cost":100}`, ruleStaff(seeCustomer, 200)),
	row("PATCH", "/api/marketplace-customer-estimated-cost-policies/:uuid/", "/api/marketplace-customer-estimated-cost-policies/{policy-customer}/", `{"actions":"notify_organization_owners"}`, ruleStaff(seeCustomer, 200)),
	row("DELETE", "/api/marketplace-customer-estimated-cost-policies/:uuid/", "/api/marketplace-customer-estimated-cost-policies/{policy-customer}/", "", ruleStaff(seeCustomer, 204)),
	get("/api/marketplace-offering-estimated-cost-policies/", "/api/marketplace-offering-estimated-cost-policies/", ruleSignedIn(200)),
	get("/api/marketplace-offering-estimated-cost-policies/actions/", "/api/marketplace-offering-estimated-cost-policies/actions/", ruleSignedIn(200)),
	row("POST", "/api/marketplace-offering-estimated-cost-policies/", "/api/marketplace-offering-estimated-cost-policies/", `{"scope":"{offering}","actions":"notify_organization_owners","limit_cost":100}`, perm("O", via("PROV", "O"), 201, "Waldur's offering policies: who may update the offering (OFFERING.UPDATE on it or its customer); the OpenAPI file gives no x-permissions.", "OFFERING.UPDATE", "*", "customer").inBody()),
	get("/api/marketplace-offering-estimated-cost-policies/:uuid/", "/api/marketplace-offering-estimated-cost-policies/{policy-offering-cost}/", ruleVisible(via("PROV", "O"), 200)),
	row("PUT", "/api/marketplace-offering-estimated-cost-policies/:uuid/", "/api/marketplace-offering-estimated-cost-policies/{policy-offering-cost}/", `{"scope":"{offering}","actions":"notify_organization_owners","limit_cost":100}`, perm("O", via("PROV", "O"), 200, "Waldur's offering policies: who may update the offering (OFFERING.UPDATE on it or its customer); the OpenAPI file gives no x-permissions.", "OFFERING.UPDATE", "*", "customer")),
	row("PATCH", "/api/marketplace-offering-estimated-cost-policies/:uuid/", "/api/marketplace-offering-estimated-cost-policies/{policy-offering-cost}/", `{"actions":"notify_organization_owners"}`, perm("O", via("PROV", "O"), 200, "Waldur's offering policies: who may update the offering (OFFERING.UPDATE on it or its customer); the OpenAPI file gives no x-permissions.", "OFFERING.UPDATE", "*", "customer")),
	row("DELETE", "/api/marketplace-offering-estimated-cost-policies/:uuid/", "/api/marketplace-offering-estimated-cost-policies/{policy-offering-cost}/", "", perm("O", via("PROV", "O"), 204, "Waldur's offering policies: who may update the offering (OFFERING.UPDATE on it or its customer); the OpenAPI file gives no x-permissions.", "OFFERING.UPDATE", "*", "customer")),
	get("/api/marketplace-offering-usage-policies/", "/api/marketplace-offering-usage-policies/", ruleSignedIn(200)),
	get("/api/marketplace-offering-usage-policies/actions/", "/api/marketplace-offering-usage-policies/actions/", ruleSignedIn(200)),
	row("POST", "/api/marketplace-offering-usage-policies/", "/api/marketplace-offering-usage-policies/", `{"scope":"{offering}","actions":"notify_organization_owners","component_limits_set":[{"type":"hours","limit":10}]}`, perm("O", via("PROV", "O"), 201, "Waldur's offering policies: who may update the offering (OFFERING.UPDATE on it or its customer); the OpenAPI file gives no x-permissions.", "OFFERING.UPDATE", "*", "customer").inBody()),
	get("/api/marketplace-offering-usage-policies/:uuid/", "/api/marketplace-offering-usage-policies/{policy-offering-usage}/", ruleVisible(via("PROV", "O"), 200)),
	row("PUT", "/api/marketplace-offering-usage-policies/:uuid/", "/api/marketplace-offering-usage-policies/{policy-offering-usage}/", `{"scope":"{offering}","actions":"notify_organization_owners","component_limits_set":[{"type":"hours","limit":10}]}`, perm("O", via("PROV", "O"), 200, "Waldur's offering policies: who may update the offering (OFFERING.UPDATE on it or its customer); the OpenAPI file gives no x-permissions.", "OFFERING.UPDATE", "*", "customer")),
	row("PATCH", "/api/marketplace-offering-usage-policies/:uuid/", "/api/marketplace-offering-usage-policies/{policy-offering-usage}/", `{"actions":"notify_organization_owners"}`, perm("O", via("PROV", "O"), 200, "Waldur's offering policies: who may update the offering (OFFERING.UPDATE on it or its customer); the OpenAPI file gives no x-permissions.", "OFFERING.UPDATE", "*", "customer")),
	row("DELETE", "/api/marketplace-offering-usage-policies/:uuid/", "/api/marketplace-offering-usage-policies/{policy-offering-usage}/", "", perm("O", via("PROV", "O"), 204, "Waldur's offering policies: who may update the offering (OFFERING.UPDATE on it or its customer); the OpenAPI file gives no x-permissions.", "OFFERING.UPDATE", "*", "customer")),
	get("/api/marketplace-slurm-periodic-usage-policies/", "/api/marketplace-slurm-periodic-usage-policies/", ruleSignedIn(200)),
	get("/api/marketplace-slurm-periodic-usage-policies/actions/", "/api/marketplace-slurm-periodic-usage-policies/actions/", ruleSignedIn(200)),
	row("POST", "/api/marketplace-slurm-periodic-usage-policies/", "/api/marketplace-slurm-periodic-usage-policies/", `{"scope":"{offering}","actions":"request_slurm_resource_pausing","component_limits_set":[{"type":"hours","limit":10}]}`, perm("O", via("PROV", "O"), 201, "Waldur's offering policies: who may update the offering (OFFERING.UPDATE on it or its customer); the OpenAPI file gives no x-permissions.", "OFFERING.UPDATE", "*", "customer").inBody()),
	get("/api/marketplace-slurm-periodic-usage-policies/:uuid/", "/api/marketplace-slurm-periodic-usage-policies/{policy-slurm}/", ruleVisible(via("PROV", "O"), 200)),
	row("PUT", "/api/marketplace-slurm-periodic-usage-policies/:uuid/", "/api/marketplace-slurm-periodic-usage-policies/{policy-slurm}/", `{"scope":"{offering}","actions":"request_slurm_resource_pausing","component_limits_set":[{"type":"hours","limit":10}]}`, perm("O", via("PROV", "O"), 200, "Waldur's offering policies: who may update the offering (OFFERING.UPDATE on it or its customer); the OpenAPI file gives no x-permissions.", "OFFERING.UPDATE", "*", "customer")),
	row("PATCH", "/api/marketplace-slurm-periodic-usage-policies/:uuid/", "/api/marketplace-slurm-periodic-usage-policies/{policy-slurm}/", `{"actions":"request_slurm_resource_pausing"}`, perm("O", via("PROV", "O"), 200, "Waldur's offering policies: who may update the offering (OFFERING.UPDATE on it or its customer); the OpenAPI file gives no x-permissions.", "OFFERING.UPDATE", "*", "customer")),
	row("DELETE", "/api/marketplace-slurm-periodic-usage-policies/:uuid/", "/api/marketplace-slurm-periodic-usage-policies/{policy-slurm}/", "", perm("O", via("PROV", "O"), 204, "Waldur's offering policies: who may update the offering (OFFERING.UPDATE on it or its customer); the OpenAPI file gives no x-permissions.", "OFFERING.UPDATE", "*", "customer")),
	get("/api/marketplace-slurm-periodic-usage-policies/:uuid/evaluation-logs/", "/api/marketplace-slurm-periodic-usage-policies/{policy-slurm}/evaluation-logs/", ruleVisible(via("PROV", "O"), 200)),
	get("/api/marketplace-slurm-periodic-usage-policies/:uuid/command-history/", "/api/marketplace-slurm-periodic-usage-policies/{policy-slurm}/command-history/", ruleVisible(via("PROV", "O"), 200)),
	row("POST", "/api/marketplace-slurm-periodic-usage-policies/:uuid/dry-run/", "/api/marketplace-slurm-periodic-usage-policies/{policy-slurm}/dry-run/", `{}`, ruleStaff(via("PROV", "O"), 200)),
	row("POST", "/api/marketplace-slurm-periodic-usage-policies/:uuid/evaluate/", "/api/marketplace-slurm-periodic-usage-policies/{policy-slurm}/evaluate/", `{}`, ruleStaff(via("PROV", "O"), 200)),
	row("POST", "/api/marketplace-slurm-periodic-usage-policies/:uuid/report-command-result/", "/api/marketplace-slurm-periodic-usage-policies/{policy-slurm}/report-command-result/", `{"resource_uuid":"{resource}","success":true}`,
		perm("O", via("PROV", "O"), 200, "Waldur's offering policies: who may update the offering (OFFERING.UPDATE on it or its customer); the OpenAPI file gives no x-permissions.", "OFFERING.UPDATE", "*", "customer")),
	row("POST", "/api/marketplace-slurm-periodic-usage-policies/preview_impact/", "/api/marketplace-slurm-periodic-usage-policies/preview_impact/", `{"allocation":1000}`, ruleSignedIn(200)),
	get("/api/marketplace-offering-users/", "/api/marketplace-offering-users/", ruleSignedIn(200)),
	row("POST", "/api/marketplace-offering-users/", "/api/marketplace-offering-users/", `{"offering":"{hpc}","user":"{user:newbie}"}`,
		perm("HPC", everyone, 201, whyOU, "OFFERING.CREATE_USER", "customer")),
	get("/api/marketplace-offering-users/:uuid/", "/api/marketplace-offering-users/{offering-user}/", ruleVisible(seeHPC, 200)),
	row("PUT", "/api/marketplace-offering-users/:uuid/", "/api/marketplace-offering-users/{offering-user}/", `{"username":"t1"}`,
		perm("offering-user", seeHPC, 200, whyOU, "OFFERING.UPDATE_USER", "offering.customer")),
	row("PATCH", "/api/marketplace-offering-users/:uuid/", "/api/marketplace-offering-users/{offering-user}/", `{"username":"t1"}`,
		perm("offering-user", seeHPC, 200, whyOU, "OFFERING.UPDATE_USER", "offering.customer")),
	row("DELETE", "/api/marketplace-offering-users/:uuid/", "/api/marketplace-offering-users/{offering-user}/", "",
		perm("offering-user", seeHPC, 204, whyOU, "OFFERING.DELETE_USER", "offering.customer")),
	row("POST", "/api/marketplace-offering-users/:uuid/begin_creating/", "/api/marketplace-offering-users/{offering-user}/begin_creating/", "", xperm("offering-user", seeHPC, 409)),
	row("POST", "/api/marketplace-offering-users/:uuid/set_ok/", "/api/marketplace-offering-users/{offering-user}/set_ok/", "",
		perm("offering-user", seeHPC, 200, whyOU, "OFFERING.UPDATE_USER", "offering.customer")),
	row("POST", "/api/marketplace-offering-users/:uuid/set_pending_additional_validation/", "/api/marketplace-offering-users/{offering-user}/set_pending_additional_validation/", `{"comment":"ID please"}`, xperm("offering-user", seeHPC, 200)),
	row("POST", "/api/marketplace-offering-users/:uuid/set_pending_account_linking/", "/api/marketplace-offering-users/{offering-user}/set_pending_account_linking/", "", xperm("offering-user", seeHPC, 200)),
	row("POST", "/api/marketplace-offering-users/:uuid/set_validation_complete/", "/api/marketplace-offering-users/{offering-user}/set_validation_complete/", "", xperm("offering-user", seeHPC, 409)),
	row("POST", "/api/marketplace-offering-users/:uuid/request_deletion/", "/api/marketplace-offering-users/{offering-user}/request_deletion/", "", xperm("offering-user", seeHPC, 200)),
	row("POST", "/api/marketplace-offering-users/:uuid/set_deleting/", "/api/marketplace-offering-users/{offering-user}/set_deleting/", "", xperm("offering-user", seeHPC, 409)),
	row("POST", "/api/marketplace-offering-users/:uuid/set_deleted/", "/api/marketplace-offering-users/{offering-user}/set_deleted/", "", xperm("offering-user", seeHPC, 409)),
	row("POST", "/api/marketplace-offering-users/:uuid/set_error_creating/", "/api/marketplace-offering-users/{offering-user}/set_error_creating/", "",
		perm("offering-user", seeHPC, 200, whyOU, "OFFERING.UPDATE_USER", "offering.customer")),
	row("POST", "/api/marketplace-offering-users/:uuid/set_error_deleting/", "/api/marketplace-offering-users/{offering-user}/set_error_deleting/", "",
		perm("offering-user", seeHPC, 409, whyOU, "OFFERING.UPDATE_USER", "offering.customer")),
	row("POST", "/api/marketplace-offering-users/:uuid/update_restricted/", "/api/marketplace-offering-users/{offering-user}/update_restricted/", `{"is_restricted":true}`,
		perm("offering-user", seeHPC, 200, whyRestrict, "OFFERINGUSER.UPDATE_RESTRICTION", "offering.customer")),
	row("PATCH", "/api/marketplace-offering-users/:uuid/update_comments/", "/api/marketplace-offering-users/{offering-user}/update_comments/", `{"service_provider_comment":"hi"}`,
		perm("offering-user", seeHPC, 200, whyOU, "OFFERING.UPDATE_USER", "offering.customer")),

	// Site agent identities, services and processors of HPC.
	get("/api/marketplace-site-agent-identities/", "/api/marketplace-site-agent-identities/", ruleSignedIn(200)),
	row("POST", "/api/marketplace-site-agent-identities/", "/api/marketplace-site-agent-identities/", `{"offering":"{hpc}","name":"agent-2"}`,
		perm("HPC", everyone, 201, whyAgent, "OFFERING.CREATE", "customer")),
	get("/api/marketplace-site-agent-identities/:uuid/", "/api/marketplace-site-agent-identities/{agent}/", ruleVisible(seeHPC, 200)),
	row("PUT", "/api/marketplace-site-agent-identities/:uuid/", "/api/marketplace-site-agent-identities/{agent}/", `{"offering":"{hpc}","name":"agent-1","version":"0.7.1"}`,
		perm("agent", seeHPC, 200, whyAgent, "OFFERING.CREATE", "offering.customer")),
	row("DELETE", "/api/marketplace-site-agent-identities/:uuid/", "/api/marketplace-site-agent-identities/{agent}/", "", xperm("agent", seeHPC, 204)),
	row("POST", "/api/marketplace-site-agent-identities/:uuid/register_service/", "/api/marketplace-site-agent-identities/{agent}/register_service/", `{"name":"report","mode":"report"}`, xperm("agent", seeHPC, 201)),
	get("/api/marketplace-site-agent-services/", "/api/marketplace-site-agent-services/", ruleSignedIn(200)),
	get("/api/marketplace-site-agent-services/:uuid/", "/api/marketplace-site-agent-services/{agent-service}/", ruleVisible(seeHPC, 200)),
	row("DELETE", "/api/marketplace-site-agent-services/:uuid/", "/api/marketplace-site-agent-services/{agent-service}/", "", xperm("agent-service", seeHPC, 204)),
	row("POST", "/api/marketplace-site-agent-services/:uuid/register_processor/", "/api/marketplace-site-agent-services/{agent-service}/register_processor/", `{"name":"OfferingOrderProcessor","backend_type":"slurm"}`, xperm("agent-service", seeHPC, 200)),
	row("POST", "/api/marketplace-site-agent-services/:uuid/set_statistics/", "/api/marketplace-site-agent-services/{agent-service}/set_statistics/", `{"statistics":{"orders":1}}`, xperm("agent-service", seeHPC, 200)),
	get("/api/marketplace-site-agent-processors/", "/api/marketplace-site-agent-processors/", ruleSignedIn(200)),
	get("/api/marketplace-site-agent-processors/:uuid/", "/api/marketplace-site-agent-processors/{agent-processor}/", ruleVisible(seeHPC, 200)),
	row("DELETE", "/api/marketplace-site-agent-processors/:uuid/", "/api/marketplace-site-agent-processors/{agent-processor}/", "", xperm("agent-processor", seeHPC, 204)),

	// OpenStack: read-only; a tenant of P1, ordered from O, and what it holds.
	get("/api/openstack-tenants/", "/api/openstack-tenants/", ruleSignedIn(200)),
	get("/api/openstack-tenants/:uuid/", "/api/openstack-tenants/{os-tenant}/", ruleVisible(seeTenant, 200)),
	get("/api/openstack-instances/", "/api/openstack-instances/", ruleSignedIn(200)),
	get("/api/openstack-instances/:uuid/", "/api/openstack-instances/{os-instance}/", ruleVisible(seeTenant, 200)),
	get("/api/openstack-volumes/", "/api/openstack-volumes/", ruleSignedIn(200)),
	get("/api/openstack-volumes/:uuid/", "/api/openstack-volumes/{os-volume}/", ruleVisible(seeTenant, 200)),
	get("/api/openstack-flavors/", "/api/openstack-flavors/", ruleSignedIn(200)),
	get("/api/openstack-flavors/:uuid/", "/api/openstack-flavors/{os-flavor}/", ruleVisible(seeTenant, 200)),
	get("/api/openstack-images/", "/api/openstack-images/", ruleSignedIn(200)),
	get("/api/openstack-images/:uuid/", "/api/openstack-images/{os-image}/", ruleVisible(seeTenant, 200)),
	get("/api/openstack-volume-types/", "/api/openstack-volume-types/", ruleSignedIn(200)),
	get("/api/openstack-volume-types/:uuid/", "/api/openstack-volume-types/{os-volume-type}/", ruleVisible(seeTenant, 200)),
	get("/api/openstack-networks/", "/api/openstack-networks/", ruleSignedIn(200)),
	get("/api/openstack-networks/:uuid/", "/api/openstack-networks/{os-network}/", ruleVisible(seeTenant, 200)),
	get("/api/openstack-subnets/", "/api/openstack-subnets/", ruleSignedIn(200)),
	get("/api/openstack-subnets/:uuid/", "/api/openstack-subnets/{os-subnet}/", ruleVisible(seeTenant, 200)),
	get("/api/openstack-security-groups/", "/api/openstack-security-groups/", ruleSignedIn(200)),
	get("/api/openstack-security-groups/:uuid/", "/api/openstack-security-groups/{os-security-group}/", ruleVisible(seeTenant, 200)),
	get("/api/openstack-floating-ips/", "/api/openstack-floating-ips/", ruleSignedIn(200)),
	get("/api/openstack-floating-ips/:uuid/", "/api/openstack-floating-ips/{os-floating-ip}/", ruleVisible(seeTenant, 200)),
	// What the pull reads about a tenant's surroundings (providers/openstack/api_zones.go,
	// api_external_networks.go) and the catalogs' statistics (api_usage_stats.go).
	get("/api/openstack-instance-availability-zones/", "/api/openstack-instance-availability-zones/", ruleSignedIn(200)),
	get("/api/openstack-instance-availability-zones/:uuid/", "/api/openstack-instance-availability-zones/{os-instance-zone}/", ruleVisible(seeTenant, 200)),
	get("/api/openstack-volume-availability-zones/", "/api/openstack-volume-availability-zones/", ruleSignedIn(200)),
	get("/api/openstack-volume-availability-zones/:uuid/", "/api/openstack-volume-availability-zones/{os-volume-zone}/", ruleVisible(seeTenant, 200)),
	get("/api/openstack-external-networks/", "/api/openstack-external-networks/", ruleSignedIn(200)),
	get("/api/openstack-external-networks/:uuid/", "/api/openstack-external-networks/{os-external-network}/", ruleVisible(seeTenant, 200)),
	get("/api/openstack-flavors/usage_stats/", "/api/openstack-flavors/usage_stats/", ruleSignedIn(200)),
	get("/api/openstack-images/usage_stats/", "/api/openstack-images/usage_stats/", ruleSignedIn(200)),
	get("/api/openstack-volume-types/names/", "/api/openstack-volume-types/names/", ruleSignedIn(200)),
	// The networks' RBAC policies (providers/openstack/api_rbac_policies.go): seen with the network's
	// tenant; made and deleted by Waldur's structure is_administrator (a network the caller does not
	// see is a 400 in the body); the network's deprecated rbac_policy_create/_delete likewise.
	get("/api/openstack-network-rbac-policies/", "/api/openstack-network-rbac-policies/", ruleSignedIn(200)),
	get("/api/openstack-network-rbac-policies/:uuid/", "/api/openstack-network-rbac-policies/{os-rbac-policy}/", ruleVisible(seeTenant, 200)),
	row("POST", "/api/openstack-network-rbac-policies/", "/api/openstack-network-rbac-policies/",
		`{"network":"http://x/api/openstack-networks/{os-network}/","target_tenant":"http://x/api/openstack-tenants/{os-tenant-2}/"}`,
		osAdmin("os-tenant", 201).inBody()),
	row("DELETE", "/api/openstack-network-rbac-policies/:uuid/", "/api/openstack-network-rbac-policies/{os-rbac-policy}/", "", osAdmin("os-tenant", 204)),
	row("PUT", "/api/openstack-network-rbac-policies/:uuid/", "/api/openstack-network-rbac-policies/{os-rbac-policy}/",
		`{"network":"http://x/api/openstack-networks/{os-network}/","target_tenant":"http://x/api/openstack-tenants/{os-tenant-2}/","policy_type":"access_as_external"}`,
		osAdmin("os-tenant", 200)),
	row("PATCH", "/api/openstack-network-rbac-policies/:uuid/", "/api/openstack-network-rbac-policies/{os-rbac-policy}/", `{}`, osAdmin("os-tenant", 200)),
	row("POST", "/api/openstack-networks/:uuid/rbac_policy_create/", "/api/openstack-networks/{os-network}/rbac_policy_create/",
		`{"target_tenant":"http://x/api/openstack-tenants/{os-tenant-2}/"}`, osAdmin("os-tenant", 200)),
	row("DELETE", "/api/openstack-networks/:uuid/rbac_policy_delete/:rbac_policy_uuid/",
		"/api/openstack-networks/{os-network}/rbac_policy_delete/{os-rbac-policy}/", "", osAdmin("os-tenant", 204)),
	// A tenant's Glance images (providers/openstack/api_images.go): Waldur's structure is_administrator;
	// the fixture tenant is not in a cloud (no backend id), so the call meets its state (409).
	row("POST", "/api/openstack-marketplace-tenants/:uuid/create_image/", "/api/openstack-marketplace-tenants/{os-tenant}/create_image/",
		`{"name":"img"}`, osAdmin("os-tenant", 409)),
	row("POST", "/api/openstack-marketplace-tenants/:uuid/upload_image_data/:image_id/",
		"/api/openstack-marketplace-tenants/{os-tenant}/upload_image_data/0b8c7c1e-52a4-4f5e-9d2a-1c1d2e3f4a5b/", "", osAdmin("os-tenant", 409)),
	// The tenants' migrations (providers/openstack/api_migrations.go): seen with the source resource's
	// project; the fixture's source is no tenant, so a create is 400 to everyone (the resource does
	// not exist for those who do not see it); changed and deleted by staff and the creator (c-owner).
	get("/api/openstack-migrations/", "/api/openstack-migrations/", ruleSignedIn(200)),
	get("/api/openstack-migrations/:uuid/", "/api/openstack-migrations/{os-migration}/", ruleVisible(seeConsumer, 200)),
	row("POST", "/api/openstack-migrations/", "/api/openstack-migrations/",
		`{"src_resource":"{resource}","dst_offering":"{offering}","dst_plan":"{plan}"}`, ruleSignedIn(400)),
	row("PUT", "/api/openstack-migrations/:uuid/", "/api/openstack-migrations/{os-migration}/", `{"mappings":{}}`, migrationEditors(200)),
	row("PATCH", "/api/openstack-migrations/:uuid/", "/api/openstack-migrations/{os-migration}/", `{"error_message":"x"}`, migrationEditors(200)),
	row("DELETE", "/api/openstack-migrations/:uuid/", "/api/openstack-migrations/{os-migration}/", "", migrationEditors(204)),
	// The objects' actions (providers/openstack/api_actions.go): Waldur's
	// structure is_administrator; set_ok, set_erred and unlink are staff's.
	// The fixture instance is OK and SHUTOFF without a server id, the volume
	// OK with no backend state: start, change_flavor, extend and retype are
	// scheduled (202); stop, restart, detach and console_log meet the
	// object's state (409); attach names an instance with no server (400).
	row("PUT", "/api/openstack-tenants/:uuid/", "/api/openstack-tenants/{os-tenant}/", `{"name":"renamed"}`, osAdmin("os-tenant", 200)),
	row("PATCH", "/api/openstack-tenants/:uuid/", "/api/openstack-tenants/{os-tenant}/", `{"description":"d"}`, osAdmin("os-tenant", 200)),
	row("POST", "/api/openstack-tenants/:uuid/set_ok/", "/api/openstack-tenants/{os-tenant}/set_ok/", "", ruleStaff(seeTenant, 200)),
	row("POST", "/api/openstack-tenants/:uuid/set_erred/", "/api/openstack-tenants/{os-tenant}/set_erred/", "", ruleStaff(seeTenant, 200)),
	row("POST", "/api/openstack-tenants/:uuid/unlink/", "/api/openstack-tenants/{os-tenant}/unlink/", "", ruleStaff(seeTenant, 204)),
	row("PUT", "/api/openstack-instances/:uuid/", "/api/openstack-instances/{os-instance}/", `{"name":"renamed"}`, osAdmin("os-instance", 200)),
	row("PATCH", "/api/openstack-instances/:uuid/", "/api/openstack-instances/{os-instance}/", `{"description":"d"}`, osAdmin("os-instance", 200)),
	row("POST", "/api/openstack-instances/:uuid/set_ok/", "/api/openstack-instances/{os-instance}/set_ok/", "", ruleStaff(seeTenant, 200)),
	row("POST", "/api/openstack-instances/:uuid/set_erred/", "/api/openstack-instances/{os-instance}/set_erred/", "", ruleStaff(seeTenant, 200)),
	row("POST", "/api/openstack-instances/:uuid/unlink/", "/api/openstack-instances/{os-instance}/unlink/", "", ruleStaff(seeTenant, 204)),
	row("PUT", "/api/openstack-volumes/:uuid/", "/api/openstack-volumes/{os-volume}/", `{"name":"renamed"}`, osAdmin("os-volume", 200)),
	row("PATCH", "/api/openstack-volumes/:uuid/", "/api/openstack-volumes/{os-volume}/", `{"description":"d"}`, osAdmin("os-volume", 200)),
	row("POST", "/api/openstack-volumes/:uuid/set_ok/", "/api/openstack-volumes/{os-volume}/set_ok/", "", ruleStaff(seeTenant, 200)),
	row("POST", "/api/openstack-volumes/:uuid/set_erred/", "/api/openstack-volumes/{os-volume}/set_erred/", "", ruleStaff(seeTenant, 200)),
	row("POST", "/api/openstack-volumes/:uuid/unlink/", "/api/openstack-volumes/{os-volume}/unlink/", "", ruleStaff(seeTenant, 204)),
	row("POST", "/api/openstack-instances/:uuid/start/", "/api/openstack-instances/{os-instance}/start/", "", osAdmin("os-instance", 202)),
	row("POST", "/api/openstack-instances/:uuid/stop/", "/api/openstack-instances/{os-instance}/stop/", "", osAdmin("os-instance", 409)),
	row("POST", "/api/openstack-instances/:uuid/restart/", "/api/openstack-instances/{os-instance}/restart/", "", osAdmin("os-instance", 409)),
	row("POST", "/api/openstack-instances/:uuid/change_flavor/", "/api/openstack-instances/{os-instance}/change_flavor/", `{"flavor":"{os-flavor}"}`, osAdmin("os-instance", 202)),
	row("GET", "/api/openstack-instances/:uuid/console_log/", "/api/openstack-instances/{os-instance}/console_log/", "", osAdmin("os-instance", 409)),
	row("POST", "/api/openstack-volumes/:uuid/extend/", "/api/openstack-volumes/{os-volume}/extend/", `{"disk_size":2048}`, osAdmin("os-volume", 202)),
	row("POST", "/api/openstack-volumes/:uuid/attach/", "/api/openstack-volumes/{os-volume}/attach/", `{"instance":"{os-instance}"}`, osAdmin("os-volume", 400)),
	row("POST", "/api/openstack-volumes/:uuid/detach/", "/api/openstack-volumes/{os-volume}/detach/", "", osAdmin("os-volume", 409)),
	row("POST", "/api/openstack-volumes/:uuid/retype/", "/api/openstack-volumes/{os-volume}/retype/", `{"type":"{os-volume-type}"}`, osAdmin("os-volume", 202)),
	// A tenant's set_quotas (its service provider's), change_password, the
	// listings of what its cloud holds that Waldur does not manage, and the
	// pulls (providers/openstack/api_tenant_actions.go). The fixture objects
	// have no backend id: the listings and the pulls meet that (409).
	row("POST", "/api/openstack-tenants/:uuid/set_quotas/", "/api/openstack-tenants/{os-tenant}/set_quotas/", `{"vcpu":10,"ram":20480}`,
		ruleRoles("O", seeTenant, 202, "Waldur's can_update_tenant_quotas_as_service_provider (openstack permissions.py): staff, or the owner or manager of the customer of the tenant's service settings (its offering O)",
			[]string{"CUSTOMER.OWNER", "CUSTOMER.MANAGER"}, "customer")),
	row("POST", "/api/openstack-tenants/:uuid/change_password/", "/api/openstack-tenants/{os-tenant}/change_password/", `{"user_password":"n3w-Secret"}`, osAdmin("os-tenant", 202)),
	get("/api/openstack-tenants/:uuid/backend_instances/", "/api/openstack-tenants/{os-tenant}/backend_instances/", ruleVisible(seeTenant, 409)),
	get("/api/openstack-tenants/:uuid/backend_volumes/", "/api/openstack-tenants/{os-tenant}/backend_volumes/", ruleVisible(seeTenant, 409)),
	row("POST", "/api/openstack-tenants/:uuid/pull/", "/api/openstack-tenants/{os-tenant}/pull/", "", osAdmin("os-tenant", 409)),
	row("POST", "/api/openstack-tenants/:uuid/pull_quotas/", "/api/openstack-tenants/{os-tenant}/pull_quotas/", "", osAdmin("os-tenant", 409)),
	row("POST", "/api/openstack-tenants/:uuid/pull_security_groups/", "/api/openstack-tenants/{os-tenant}/pull_security_groups/", "", osAdmin("os-tenant", 409)),
	row("POST", "/api/openstack-tenants/:uuid/pull_floating_ips/", "/api/openstack-tenants/{os-tenant}/pull_floating_ips/", "", osAdmin("os-tenant", 409)),
	row("POST", "/api/openstack-instances/:uuid/pull/", "/api/openstack-instances/{os-instance}/pull/", "", osAdmin("os-instance", 409)),
	row("POST", "/api/openstack-volumes/:uuid/pull/", "/api/openstack-volumes/{os-volume}/pull/", "", osAdmin("os-volume", 409)),
	// Security groups made, changed and deleted through the API
	// (providers/openstack/api_security_groups.go): is_administrator over
	// the group's tenant's project (the group has no project of its own, so
	// the rule names the tenant); set_ok, set_erred and unlink are staff's.
	row("POST", "/api/openstack-tenants/:uuid/create_security_group/", "/api/openstack-tenants/{os-tenant}/create_security_group/",
		`{"name":"new-group","rules":[{"protocol":"tcp","from_port":22,"to_port":22,"cidr":"0.0.0.0/0"}]}`, osAdmin("os-tenant", 201)),
	row("PUT", "/api/openstack-security-groups/:uuid/", "/api/openstack-security-groups/{os-security-group}/", `{"name":"renamed"}`, osAdmin("os-tenant", 200)),
	row("PATCH", "/api/openstack-security-groups/:uuid/", "/api/openstack-security-groups/{os-security-group}/", `{"description":"d"}`, osAdmin("os-tenant", 200)),
	row("DELETE", "/api/openstack-security-groups/:uuid/", "/api/openstack-security-groups/{os-security-group}/", "", osAdmin("os-tenant", 202)),
	row("POST", "/api/openstack-security-groups/:uuid/set_rules/", "/api/openstack-security-groups/{os-security-group}/set_rules/",
		`[{"protocol":"icmp","cidr":"0.0.0.0/0"}]`, osAdmin("os-tenant", 202)),
	row("POST", "/api/openstack-security-groups/:uuid/set_ok/", "/api/openstack-security-groups/{os-security-group}/set_ok/", "", ruleStaff(seeTenant, 200)),
	row("POST", "/api/openstack-security-groups/:uuid/set_erred/", "/api/openstack-security-groups/{os-security-group}/set_erred/", "", ruleStaff(seeTenant, 200)),
	row("POST", "/api/openstack-security-groups/:uuid/unlink/", "/api/openstack-security-groups/{os-security-group}/unlink/", "", ruleStaff(seeTenant, 204)),
	// Networks and subnets likewise (providers/openstack/api_networks.go).
	row("POST", "/api/openstack-tenants/:uuid/create_network/", "/api/openstack-tenants/{os-tenant}/create_network/", `{"name":"new-net"}`, osAdmin("os-tenant", 201)),
	row("PUT", "/api/openstack-networks/:uuid/", "/api/openstack-networks/{os-network}/", `{"name":"renamed"}`, osAdmin("os-tenant", 200)),
	row("PATCH", "/api/openstack-networks/:uuid/", "/api/openstack-networks/{os-network}/", `{"description":"d"}`, osAdmin("os-tenant", 200)),
	row("DELETE", "/api/openstack-networks/:uuid/", "/api/openstack-networks/{os-network}/", "", osAdmin("os-tenant", 202)),
	row("POST", "/api/openstack-networks/:uuid/create_subnet/", "/api/openstack-networks/{os-network}/create_subnet/", `{"name":"new-sub","cidr":"10.50.0.0/24"}`, osAdmin("os-tenant", 201)),
	row("POST", "/api/openstack-networks/:uuid/set_mtu/", "/api/openstack-networks/{os-network}/set_mtu/", `{"mtu":1400}`, osAdmin("os-tenant", 200)),
	row("POST", "/api/openstack-networks/:uuid/set_ok/", "/api/openstack-networks/{os-network}/set_ok/", "", ruleStaff(seeTenant, 200)),
	row("POST", "/api/openstack-networks/:uuid/set_erred/", "/api/openstack-networks/{os-network}/set_erred/", "", ruleStaff(seeTenant, 200)),
	row("POST", "/api/openstack-networks/:uuid/unlink/", "/api/openstack-networks/{os-network}/unlink/", "", ruleStaff(seeTenant, 204)),
	row("PUT", "/api/openstack-subnets/:uuid/", "/api/openstack-subnets/{os-subnet}/", `{"name":"renamed"}`, osAdmin("os-tenant", 200)),
	row("PATCH", "/api/openstack-subnets/:uuid/", "/api/openstack-subnets/{os-subnet}/", `{"description":"d"}`, osAdmin("os-tenant", 200)),
	row("DELETE", "/api/openstack-subnets/:uuid/", "/api/openstack-subnets/{os-subnet}/", "", osAdmin("os-tenant", 202)),
	row("POST", "/api/openstack-subnets/:uuid/set_ok/", "/api/openstack-subnets/{os-subnet}/set_ok/", "", ruleStaff(seeTenant, 200)),
	row("POST", "/api/openstack-subnets/:uuid/set_erred/", "/api/openstack-subnets/{os-subnet}/set_erred/", "", ruleStaff(seeTenant, 200)),
	row("POST", "/api/openstack-subnets/:uuid/unlink/", "/api/openstack-subnets/{os-subnet}/unlink/", "", ruleStaff(seeTenant, 204)),
	// Server groups, snapshots and backups (providers/openstack/api_server_groups.go, api_snapshots.go, api_backups.go):
	// seen by whoever sees their tenant; made, changed, pulled and deleted by Waldur's is_administrator over the
	// tenant's project (no project of their own); set_ok, set_erred and unlink are staff's. pull_server_groups of
	// a tenant not in the cloud, and a snapshot of a volume with no runtime state, are 409.
	get("/api/openstack-server-groups/", "/api/openstack-server-groups/", ruleSignedIn(200)),
	get("/api/openstack-server-groups/:uuid/", "/api/openstack-server-groups/{os-server-group}/", ruleVisible(seeTenant, 200)),
	row("POST", "/api/openstack-tenants/:uuid/create_server_group/", "/api/openstack-tenants/{os-tenant}/create_server_group/",
		`{"name":"new-group","policy":"anti-affinity"}`, osAdmin("os-tenant", 201)),
	row("POST", "/api/openstack-server-groups/", "/api/openstack-server-groups/",
		`{"tenant":"http://x/api/openstack-tenants/{os-tenant}/","name":"new-group-2","policy":"affinity"}`, osAdmin("os-tenant", 201).inBody()),
	get("/api/openstack-marketplace-tenants/", "/api/openstack-marketplace-tenants/", ruleSignedIn(200)),
	get("/api/openstack-marketplace-tenants/:uuid/", "/api/openstack-marketplace-tenants/{os-tenant}/", ruleVisible(seeTenant, 200)),
	row("POST", "/api/openstack-tenants/:uuid/pull_server_groups/", "/api/openstack-tenants/{os-tenant}/pull_server_groups/", "", osAdmin("os-tenant", 409)),
	row("DELETE", "/api/openstack-server-groups/:uuid/", "/api/openstack-server-groups/{os-server-group}/", "", osAdmin("os-tenant", 202)),
	row("POST", "/api/openstack-server-groups/:uuid/pull/", "/api/openstack-server-groups/{os-server-group}/pull/", "", osAdmin("os-tenant", 202)),
	row("POST", "/api/openstack-server-groups/:uuid/set_ok/", "/api/openstack-server-groups/{os-server-group}/set_ok/", "", ruleStaff(seeTenant, 200)),
	row("POST", "/api/openstack-server-groups/:uuid/set_erred/", "/api/openstack-server-groups/{os-server-group}/set_erred/", "", ruleStaff(seeTenant, 200)),
	row("POST", "/api/openstack-server-groups/:uuid/unlink/", "/api/openstack-server-groups/{os-server-group}/unlink/", "", ruleStaff(seeTenant, 204)),
	get("/api/openstack-snapshots/", "/api/openstack-snapshots/", ruleSignedIn(200)),
	get("/api/openstack-snapshots/:uuid/", "/api/openstack-snapshots/{os-snapshot}/", ruleVisible(seeTenant, 200)),
	get("/api/openstack-snapshots/:uuid/restorations/", "/api/openstack-snapshots/{os-snapshot}/restorations/", ruleVisible(seeTenant, 200)),
	row("POST", "/api/openstack-volumes/:uuid/snapshot/", "/api/openstack-volumes/{os-volume}/snapshot/", `{"name":"snap"}`, osAdmin("os-volume", 409)),
	row("PUT", "/api/openstack-snapshots/:uuid/", "/api/openstack-snapshots/{os-snapshot}/", `{"name":"renamed"}`, osAdmin("os-tenant", 200)),
	row("PATCH", "/api/openstack-snapshots/:uuid/", "/api/openstack-snapshots/{os-snapshot}/", `{"description":"d"}`, osAdmin("os-tenant", 200)),
	row("DELETE", "/api/openstack-snapshots/:uuid/", "/api/openstack-snapshots/{os-snapshot}/", "", osAdmin("os-tenant", 202)),
	row("POST", "/api/openstack-snapshots/:uuid/pull/", "/api/openstack-snapshots/{os-snapshot}/pull/", "", osAdmin("os-tenant", 202)),
	row("POST", "/api/openstack-snapshots/:uuid/restore/", "/api/openstack-snapshots/{os-snapshot}/restore/", `{"name":"restored"}`, osAdmin("os-tenant", 201)),
	row("POST", "/api/openstack-snapshots/:uuid/set_ok/", "/api/openstack-snapshots/{os-snapshot}/set_ok/", "", ruleStaff(seeTenant, 200)),
	row("POST", "/api/openstack-snapshots/:uuid/set_erred/", "/api/openstack-snapshots/{os-snapshot}/set_erred/", "", ruleStaff(seeTenant, 200)),
	row("POST", "/api/openstack-snapshots/:uuid/unlink/", "/api/openstack-snapshots/{os-snapshot}/unlink/", "", ruleStaff(seeTenant, 204)),
	get("/api/openstack-backups/", "/api/openstack-backups/", ruleSignedIn(200)),
	get("/api/openstack-backups/:uuid/", "/api/openstack-backups/{os-backup}/", ruleVisible(seeTenant, 200)),
	row("POST", "/api/openstack-instances/:uuid/backup/", "/api/openstack-instances/{os-instance}/backup/", `{"name":"nightly"}`, osAdmin("os-instance", 201)),
	row("PUT", "/api/openstack-backups/:uuid/", "/api/openstack-backups/{os-backup}/", `{"name":"renamed"}`, osAdmin("os-tenant", 200)),
	row("PATCH", "/api/openstack-backups/:uuid/", "/api/openstack-backups/{os-backup}/", `{"description":"d"}`, osAdmin("os-tenant", 200)),
	row("DELETE", "/api/openstack-backups/:uuid/", "/api/openstack-backups/{os-backup}/", "", osAdmin("os-tenant", 202)),
	row("POST", "/api/openstack-backups/:uuid/pull/", "/api/openstack-backups/{os-backup}/pull/", "", osAdmin("os-tenant", 202)),
	// A backup's restore (providers/openstack/api_backup_restore.go): the fixture backup has no snapshots (400).
	row("POST", "/api/openstack-backups/:uuid/restore/", "/api/openstack-backups/{os-backup}/restore/", `{"flavor":"{os-flavor}"}`, osAdmin("os-tenant", 400)),
	row("POST", "/api/openstack-backups/:uuid/set_ok/", "/api/openstack-backups/{os-backup}/set_ok/", "", ruleStaff(seeTenant, 200)),
	row("POST", "/api/openstack-backups/:uuid/set_erred/", "/api/openstack-backups/{os-backup}/set_erred/", "", ruleStaff(seeTenant, 200)),
	row("POST", "/api/openstack-backups/:uuid/unlink/", "/api/openstack-backups/{os-backup}/unlink/", "", ruleStaff(seeTenant, 204)),
	// Ports, routers and floating IPs (providers/openstack/api_ports.go, api_routers.go, api_floating_ips.go):
	// seen by whoever sees their tenant; made, changed, pulled and deleted by Waldur's is_administrator over the
	// tenant's project (a port's create over its network's, named in the body); set_ok, set_erred and unlink are
	// staff's. No Temporal here: a pull is 503. A subnet without a gateway is 400 to connect or add; a floating IP
	// on no port 400 to detach; a tenant with no external network 400 to create a floating IP.
	get("/api/openstack-ports/", "/api/openstack-ports/", ruleSignedIn(200)),
	get("/api/openstack-ports/:uuid/", "/api/openstack-ports/{os-port}/", ruleVisible(seeTenant, 200)),
	row("POST", "/api/openstack-ports/", "/api/openstack-ports/", `{"name":"new-port","network":"http://x/api/openstack-networks/{os-network}/"}`,
		osAdmin("os-tenant", 201).inBody()),
	row("PUT", "/api/openstack-ports/:uuid/", "/api/openstack-ports/{os-port}/", `{"name":"renamed"}`, osAdmin("os-tenant", 200)),
	row("PATCH", "/api/openstack-ports/:uuid/", "/api/openstack-ports/{os-port}/", `{"description":"d"}`, osAdmin("os-tenant", 200)),
	row("DELETE", "/api/openstack-ports/:uuid/", "/api/openstack-ports/{os-port}/", "", osAdmin("os-tenant", 202)),
	row("POST", "/api/openstack-ports/:uuid/enable_port/", "/api/openstack-ports/{os-port}/enable_port/", "", osAdmin("os-tenant", 202)),
	row("POST", "/api/openstack-ports/:uuid/disable_port/", "/api/openstack-ports/{os-port}/disable_port/", "", osAdmin("os-tenant", 202)),
	row("POST", "/api/openstack-ports/:uuid/enable_port_security/", "/api/openstack-ports/{os-port}/enable_port_security/", "", osAdmin("os-tenant", 202)),
	row("POST", "/api/openstack-ports/:uuid/disable_port_security/", "/api/openstack-ports/{os-port}/disable_port_security/", "", osAdmin("os-tenant", 202)),
	row("POST", "/api/openstack-ports/:uuid/update_port_ip/", "/api/openstack-ports/{os-port}/update_port_ip/",
		`{"subnet":"http://x/api/openstack-subnets/{os-subnet}/","ip_address":"192.168.42.30"}`, osAdmin("os-tenant", 202)),
	row("POST", "/api/openstack-ports/:uuid/update_security_groups/", "/api/openstack-ports/{os-port}/update_security_groups/",
		`{"security_groups":["http://x/api/openstack-security-groups/{os-security-group}/"]}`, osAdmin("os-tenant", 202)),
	row("POST", "/api/openstack-ports/:uuid/pull/", "/api/openstack-ports/{os-port}/pull/", "", osAdmin("os-tenant", 503)),
	row("POST", "/api/openstack-networks/:uuid/pull/", "/api/openstack-networks/{os-network}/pull/", "", osAdmin("os-tenant", 503)),
	row("POST", "/api/openstack-subnets/:uuid/pull/", "/api/openstack-subnets/{os-subnet}/pull/", "", osAdmin("os-tenant", 503)),
	row("POST", "/api/openstack-security-groups/:uuid/pull/", "/api/openstack-security-groups/{os-security-group}/pull/", "", osAdmin("os-tenant", 503)),
	row("POST", "/api/openstack-ports/:uuid/set_ok/", "/api/openstack-ports/{os-port}/set_ok/", "", ruleStaff(seeTenant, 200)),
	row("POST", "/api/openstack-ports/:uuid/set_erred/", "/api/openstack-ports/{os-port}/set_erred/", "", ruleStaff(seeTenant, 200)),
	row("POST", "/api/openstack-ports/:uuid/unlink/", "/api/openstack-ports/{os-port}/unlink/", "", ruleStaff(seeTenant, 204)),
	get("/api/openstack-instances/:uuid/ports/", "/api/openstack-instances/{os-instance}/ports/", ruleVisible(seeTenant, 200)),
	get("/api/openstack-routers/", "/api/openstack-routers/", ruleSignedIn(200)),
	get("/api/openstack-routers/:uuid/", "/api/openstack-routers/{os-router}/", ruleVisible(seeTenant, 200)),
	row("POST", "/api/openstack-routers/", "/api/openstack-routers/", `{"name":"edge","tenant":"http://x/api/openstack-tenants/{os-tenant}/"}`,
		osAdmin("os-tenant", 201).inBody()),
	row("DELETE", "/api/openstack-routers/:uuid/", "/api/openstack-routers/{os-router}/", "", osAdmin("os-tenant", 202)),
	row("POST", "/api/openstack-routers/:uuid/add_router_interface/", "/api/openstack-routers/{os-router}/add_router_interface/",
		`{"subnet":"http://x/api/openstack-subnets/{os-subnet}/"}`, osAdmin("os-tenant", 400)),
	row("POST", "/api/openstack-routers/:uuid/remove_router_interface/", "/api/openstack-routers/{os-router}/remove_router_interface/",
		`{"subnet":"http://x/api/openstack-subnets/{os-subnet}/"}`, osAdmin("os-tenant", 202)),
	row("POST", "/api/openstack-routers/:uuid/set_routes/", "/api/openstack-routers/{os-router}/set_routes/", `{"routes":[]}`, osAdmin("os-tenant", 202)),
	row("POST", "/api/openstack-routers/:uuid/set_ok/", "/api/openstack-routers/{os-router}/set_ok/", "", ruleStaff(seeTenant, 200)),
	row("POST", "/api/openstack-routers/:uuid/set_erred/", "/api/openstack-routers/{os-router}/set_erred/", "", ruleStaff(seeTenant, 200)),
	row("POST", "/api/openstack-subnets/:uuid/connect/", "/api/openstack-subnets/{os-subnet}/connect/", "", osAdmin("os-tenant", 400)),
	row("POST", "/api/openstack-subnets/:uuid/disconnect/", "/api/openstack-subnets/{os-subnet}/disconnect/", "", osAdmin("os-tenant", 202)),
	row("POST", "/api/openstack-tenants/:uuid/create_floating_ip/", "/api/openstack-tenants/{os-tenant}/create_floating_ip/", "", osAdmin("os-tenant", 400)),
	row("DELETE", "/api/openstack-floating-ips/:uuid/", "/api/openstack-floating-ips/{os-floating-ip}/", "", osAdmin("os-tenant", 202)),
	row("POST", "/api/openstack-floating-ips/:uuid/attach_to_port/", "/api/openstack-floating-ips/{os-floating-ip}/attach_to_port/",
		`{"port":"http://x/api/openstack-ports/{os-port}/"}`, osAdmin("os-tenant", 202)),
	row("POST", "/api/openstack-floating-ips/:uuid/detach_from_port/", "/api/openstack-floating-ips/{os-floating-ip}/detach_from_port/", "", osAdmin("os-tenant", 400)),
	row("POST", "/api/openstack-floating-ips/:uuid/update_description/", "/api/openstack-floating-ips/{os-floating-ip}/update_description/",
		`{"description":"d"}`, osAdmin("os-tenant", 202)),
	row("POST", "/api/openstack-floating-ips/:uuid/pull/", "/api/openstack-floating-ips/{os-floating-ip}/pull/", "", osAdmin("os-tenant", 503)),
	row("POST", "/api/openstack-floating-ips/:uuid/set_ok/", "/api/openstack-floating-ips/{os-floating-ip}/set_ok/", "", ruleStaff(seeTenant, 200)),
	row("POST", "/api/openstack-floating-ips/:uuid/set_erred/", "/api/openstack-floating-ips/{os-floating-ip}/set_erred/", "", ruleStaff(seeTenant, 200)),
	row("POST", "/api/openstack-floating-ips/:uuid/unlink/", "/api/openstack-floating-ips/{os-floating-ip}/unlink/", "", ruleStaff(seeTenant, 204)),
	get("/api/openstack-instances/:uuid/floating_ips/", "/api/openstack-instances/{os-instance}/floating_ips/", ruleVisible(seeTenant, 200)),
	row("POST", "/api/openstack-instances/:uuid/update_floating_ips/", "/api/openstack-instances/{os-instance}/update_floating_ips/",
		`{"floating_ips":[]}`, osAdmin("os-instance", 409)),
	// An instance's network actions and console (providers/openstack/api_instance_network.go): Waldur's
	// is_administrator; the fixture instance has no server in the cloud (409).
	row("POST", "/api/openstack-instances/:uuid/update_security_groups/", "/api/openstack-instances/{os-instance}/update_security_groups/",
		`{"security_groups":["http://x/api/openstack-security-groups/{os-security-group}/"]}`, osAdmin("os-instance", 409)),
	row("POST", "/api/openstack-instances/:uuid/update_ports/", "/api/openstack-instances/{os-instance}/update_ports/",
		`{"ports":[]}`, osAdmin("os-instance", 409)),
	row("POST", "/api/openstack-instances/:uuid/update_allowed_address_pairs/", "/api/openstack-instances/{os-instance}/update_allowed_address_pairs/",
		`{"subnet":"http://x/api/openstack-subnets/{os-subnet}/","allowed_address_pairs":[]}`, osAdmin("os-instance", 409)),
	row("GET", "/api/openstack-instances/:uuid/console/", "/api/openstack-instances/{os-instance}/console/", "", osAdmin("os-instance", 409)),
	// A tenant's push_security_groups (providers/openstack/api_push_security_groups.go): is_administrator; scheduled (202).
	row("POST", "/api/openstack-tenants/:uuid/push_security_groups/", "/api/openstack-tenants/{os-tenant}/push_security_groups/", `[]`, osAdmin("os-tenant", 202)),

	// Statistics (api/stats). The marketplace-stats actions are Waldur's
	// MarketplaceStatsViewSet (IsSupport: staff and global support); its
	// provider_* actions also the provider's SERVICE_PROVIDER.GET_STATISTICS.
	get("/api/marketplace-stats/order_stats/", "/api/marketplace-stats/order_stats/", ruleStaffOrSupport(200)),
	get("/api/marketplace-stats/resource_provisioning_stats/", "/api/marketplace-stats/resource_provisioning_stats/", ruleStaffOrSupport(200)),
	get("/api/marketplace-stats/component_usages/", "/api/marketplace-stats/component_usages/", ruleStaffOrSupport(200)),
	get("/api/marketplace-stats/component_usages_per_month/", "/api/marketplace-stats/component_usages_per_month/", ruleStaffOrSupport(200)),
	get("/api/marketplace-stats/component_usages_per_project/", "/api/marketplace-stats/component_usages_per_project/", ruleStaffOrSupport(200)),
	get("/api/marketplace-stats/count_active_resources_grouped_by_offering/", "/api/marketplace-stats/count_active_resources_grouped_by_offering/", ruleStaffOrSupport(200)),
	get("/api/marketplace-stats/customer_member_count/", "/api/marketplace-stats/customer_member_count/", ruleStaffOrSupport(200)),
	get("/api/marketplace-stats/offering_costs_summary/", "/api/marketplace-stats/offering_costs_summary/", ruleStaffOrSupport(200)),
	get("/api/marketplace-stats/total_cost_of_active_resources_per_offering/", "/api/marketplace-stats/total_cost_of_active_resources_per_offering/", ruleStaffOrSupport(200)),
	get("/api/marketplace-stats/resources_limits/", "/api/marketplace-stats/resources_limits/", ruleStaffOrSupport(200)),
	get("/api/marketplace-stats/resources_missing_usage/", "/api/marketplace-stats/resources_missing_usage/", ruleStaffOrSupport(200)),
	get("/api/marketplace-stats/organization_project_count/", "/api/marketplace-stats/organization_project_count/", ruleStaffOrSupport(200)),
	get("/api/marketplace-stats/organization_resource_count/", "/api/marketplace-stats/organization_resource_count/", ruleStaffOrSupport(200)),
	get("/api/marketplace-stats/count_active_resources_grouped_by_offering_country/", "/api/marketplace-stats/count_active_resources_grouped_by_offering_country/", ruleStaffOrSupport(200)),
	get("/api/marketplace-stats/count_projects_of_service_providers/", "/api/marketplace-stats/count_projects_of_service_providers/", ruleStaffOrSupport(200)),
	get("/api/marketplace-stats/count_users_of_service_providers/", "/api/marketplace-stats/count_users_of_service_providers/", ruleStaffOrSupport(200)),
	get("/api/marketplace-stats/count_unique_users_connected_with_active_resources_of_service_provider/", "/api/marketplace-stats/count_unique_users_connected_with_active_resources_of_service_provider/", ruleStaffOrSupport(200)),
	get("/api/marketplace-stats/offerings_counter_stats/", "/api/marketplace-stats/offerings_counter_stats/", ruleStaffOrSupport(200)),
	get("/api/marketplace-stats/customer_member_summary/", "/api/marketplace-stats/customer_member_summary/", ruleStaffOrSupport(200)),
	get("/api/marketplace-stats/resources_geography_summary/", "/api/marketplace-stats/resources_geography_summary/", ruleStaffOrSupport(200)),
	get("/api/marketplace-stats/aggregated_usage_trends/", "/api/marketplace-stats/aggregated_usage_trends/", ruleStaffOrSupport(200)),
	get("/api/marketplace-stats/user_auth_method_count/", "/api/marketplace-stats/user_auth_method_count/", ruleStaffOrSupport(200)),
	get("/api/marketplace-stats/user_job_title_count/", "/api/marketplace-stats/user_job_title_count/", ruleStaffOrSupport(200)),
	get("/api/marketplace-stats/user_organization_count/", "/api/marketplace-stats/user_organization_count/", ruleStaffOrSupport(200)),
	get("/api/marketplace-stats/user_identity_source_count/", "/api/marketplace-stats/user_identity_source_count/", ruleStaffOrSupport(200)),
	get("/api/marketplace-stats/user_organization_type_count/", "/api/marketplace-stats/user_organization_type_count/", ruleStaffOrSupport(200)),
	get("/api/marketplace-stats/user_affiliation_count/", "/api/marketplace-stats/user_affiliation_count/", ruleStaffOrSupport(200)),
	get("/api/marketplace-stats/project_classification_summary/", "/api/marketplace-stats/project_classification_summary/", ruleStaffOrSupport(200)),
	get("/api/marketplace-stats/provider_offerings/", "/api/marketplace-stats/provider_offerings/?provider_uuid={service-provider}",
		perm("service-provider", everyone, 200, whyStats, "SERVICE_PROVIDER.GET_STATISTICS", "customer").with("support", 200, "Global support passes too (IsSupport).")),
	get("/api/marketplace-stats/provider_resources/", "/api/marketplace-stats/provider_resources/?provider_uuid={service-provider}",
		perm("service-provider", everyone, 200, whyStats, "SERVICE_PROVIDER.GET_STATISTICS", "customer").with("support", 200, "Global support passes too (IsSupport).")),
	get("/api/marketplace-stats/provider_customers/", "/api/marketplace-stats/provider_customers/?provider_uuid={service-provider}",
		perm("service-provider", everyone, 200, whyStats, "SERVICE_PROVIDER.GET_STATISTICS", "customer").with("support", 200, "Global support passes too (IsSupport).")),
	get("/api/marketplace-service-providers/:uuid/stat/", "/api/marketplace-service-providers/{service-provider}/stat/", xperm("service-provider", everyone, 200)),
	get("/api/marketplace-service-providers/:uuid/revenue/", "/api/marketplace-service-providers/{service-provider}/revenue/", xperm("service-provider", everyone, 200)),
	get("/api/marketplace-service-providers/:uuid/customers/", "/api/marketplace-service-providers/{service-provider}/customers/",
		perm("service-provider", everyone, 200, whyConsumers, "SERVICE_PROVIDER.LIST_CUSTOMERS", "customer")),
	get("/api/marketplace-service-providers/:uuid/users/", "/api/marketplace-service-providers/{service-provider}/users/",
		perm("service-provider", everyone, 200, whyConsumers, "SERVICE_PROVIDER.LIST_USERS", "customer")),
	get("/api/marketplace-service-providers/:uuid/projects/", "/api/marketplace-service-providers/{service-provider}/projects/",
		perm("service-provider", everyone, 200, whyConsumers, "SERVICE_PROVIDER.LIST_PROJECTS", "customer")),
	get("/api/customers/:uuid/stats/", "/api/customers/{customer}/stats/", ruleVisible(seeConsumer, 200)),
	get("/api/projects/:uuid/stats/", "/api/projects/{project}/stats/", ruleVisible(seeConsumer, 200)),
	// Quota history: a scope's, to whoever sees it; the quota lists staff's and support's (Waldur's analytics views).
	get("/api/daily-quotas/", "/api/daily-quotas/?scope={customer}", ruleVisible(seeConsumer, 200)),
	get("/api/customer-quotas/", "/api/customer-quotas/?quota_name=nc_project_count", ruleStaffOrSupport(200)),
	get("/api/project-quotas/", "/api/project-quotas/?quota_name=nc_resource_count", ruleStaffOrSupport(200)),
}

// migrationEditors: an OpenStack migration is changed and deleted by staff
// and its creator (c-owner made the fixture's); others who see it get 403.
func migrationEditors(ok int) mrule {
	return ruleRoles("os-migration", seeConsumer, ok, "ours: Waldur's Migration views have no rule beyond their list filter; staff and the creator",
		nil).by("c-owner")
}

// osAdmin is Waldur's structure is_administrator over an OpenStack object
// of P1: staff, the customer's owner, the project's manager or administrator.
func osAdmin(obj string, ok int) mrule {
	return ruleRoles(obj, seeTenant, ok, "Waldur's structure is_administrator (permissions.py: _has_admin_access)",
		[]string{"CUSTOMER.OWNER", "PROJECT.MANAGER", "PROJECT.ADMIN"}, "project", "project.customer")
}

// whyConsumers: Waldur's service provider customers/users actions.
const whyConsumers = "Waldur's ServiceProviderViewSet customers/projects/users: SERVICE_PROVIDER.LIST_CUSTOMERS / LIST_PROJECTS / LIST_USERS on the provider's customer."

// whyStats: Waldur's marketplace-stats provider_* actions, for the provider's statistics.
const whyStats = "Waldur's marketplace-stats provider_* actions: SERVICE_PROVIDER.GET_STATISTICS on the provider's customer, or staff and support."

// ruleStaffOrSupport: staff and global support only, 403 to everyone else
// signed in (Waldur's IsSupport permission class).
func ruleStaffOrSupport(ok int) mrule {
	return mrule{kind: "visible", sees: staffAndSupport, hidden: 403, ok: ok, why: "Waldur's IsSupport: staff and global support."}
}
