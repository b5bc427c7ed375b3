package api

// GET /api/configuration/: the public settings a front end (Waldur
// HomePort) boots from, built as Waldur's get_public_settings builds them
// (waldur_core/core/views.py):
//
//   - FEATURES: every feature flag, by section ({"marketplace":
//     {"conceal_prices": false, …}}), off unless switched on;
//   - LANGUAGES and LANGUAGE_CODE, the two public top-level settings;
//   - one object per WALDUR_* settings section, holding only the keys Waldur
//     marks public (its Meta.public_settings), with Waldur's defaults;
//   - the public Constance (runtime-editable) settings, merged into
//     WALDUR_CORE; the three WALDUR_SUPPORT_* ones form WALDUR_SUPPORT.
//
// Waldur's defaults are overridden where this server knows better: the
// sign-in methods it serves, its token lifetime, its languages, the site
// name and feature flags it is configured with (WALDUR_SITE_NAME,
// WALDUR_FEATURES), and no support desk. version and temporal_namespace are
// this platform's own. Nothing secret is ever part of it: no password,
// token, client secret or private key, configured or not
// (TestConfigurationHasNoSecrets checks every key).

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/internal/version"
	"github.com/waldur-go/waldur/models"
)

// AuthenticationMethods are the sign-in methods this server serves
// (WALDUR_CORE.AUTHENTICATION_METHODS): LOCAL_SIGNIN is the password login
// of POST /api-auth/password/. Add a method here when its login is served.
var AuthenticationMethods = []string{"LOCAL_SIGNIN"}

// defaultSiteName is WALDUR_CORE.SITE_NAME when WALDUR_SITE_NAME is unset.
const defaultSiteName = "Waldur"

// setting is one public setting and its value when nothing overrides it.
type setting struct {
	Key     string
	Default any
}

// configSection is one WALDUR_* object of the answer and its public settings.
type configSection struct {
	Name     string
	Settings []setting
}

// configSections are the WALDUR_* sections of the answer with the settings
// Waldur makes public in each (waldur_core/core/metadata.py and the
// extensions' get_public_settings), at Waldur's defaults. WALDUR_CORE also
// receives constanceSettings; WALDUR_SUPPORT is supportSettings.
var configSections = []configSection{
	{"WALDUR_CORE", []setting{
		{"MASTERMIND_URL", ""},
		{"AUTHENTICATION_METHODS", AuthenticationMethods},
		{"INVITATIONS_ENABLED", true},
		{"VALIDATE_INVITATION_EMAIL", false},
		{"PROTECT_USER_DETAILS_FOR_REGISTRATION_METHODS", []string{}},
		{"TRANSLATION_DOMAIN", ""},
		{"MATOMO_URL_BASE", nil},
		{"MATOMO_SITE_ID", nil},
		{"SUPPORT_PORTAL_URL", ""},
		{"EXTERNAL_LINKS", []any{}},
		{"USER_MANDATORY_FIELDS", []string{"first_name", "last_name", "email"}},
		{"USER_REGISTRATION_HIDDEN_FIELDS", []string{"registration_method", "job_title", "phone_number", "organization"}},
		{"INVITATION_CIVIL_NUMBER_LABEL", ""},
		{"HOMEPORT_SENTRY_DSN", nil},
		{"HOMEPORT_SENTRY_ENVIRONMENT", "waldur-production"},
		{"HOMEPORT_SENTRY_TRACES_SAMPLE_RATE", 0.01},
		{"OECD_FOS_2007_CODE_MANDATORY", false},
		{"INVITATION_USE_WEBHOOKS", false},
		{"SERVICE_ACCOUNT_USE_API", false},
		{"COURSE_ACCOUNT_USE_API", false},
		{"ENABLE_PROJECT_KIND_COURSE", false},
		// Public in earlier Waldur releases and in this server's first
		// answer; kept for the clients that read them.
		{"OWNER_CAN_MANAGE_CUSTOMER", false},
		{"OWNERS_CAN_MANAGE_OWNERS", false},
		{"NATIVE_NAME_ENABLED", false},
		{"ONLY_STAFF_MANAGES_SERVICES", false},
		{"TOKEN_KEY", "x-auth-token"},                   // also accepted as a query parameter
		{"TOKEN_LIFETIME", models.DefaultTokenLifetime}, // seconds
	}},
	{"WALDUR_AUTH_SOCIAL", []setting{
		{"REMOTE_EDUTEAMS_ENABLED", false},
		{"ENABLE_EDUTEAMS_SYNC", false},
	}},
	{"WALDUR_AUTH_SAML2", []setting{
		{"ENABLE_SINGLE_LOGOUT", false},
		{"ALLOW_TO_SELECT_IDENTITY_PROVIDER", true},
		{"IDENTITY_PROVIDER_URL", nil},
		{"IDENTITY_PROVIDER_LABEL", nil},
		{"DISCOVERY_SERVICE_URL", nil},
		{"DISCOVERY_SERVICE_LABEL", nil},
	}},
	{"WALDUR_MARKETPLACE", []setting{
		{"OWNER_CAN_APPROVE_ORDER", true},
		{"MANAGER_CAN_APPROVE_ORDER", false},
		{"ADMIN_CAN_APPROVE_ORDER", false},
		{"OWNER_CAN_REGISTER_SERVICE_PROVIDER", false},
		{"ANONYMOUS_USER_CAN_VIEW_OFFERINGS", true},
		{"ENABLE_RESOURCE_END_DATE", true},
	}},
	{"WALDUR_OPENSTACK", []setting{
		{"ALLOW_CUSTOMER_USERS_OPENSTACK_CONSOLE_ACCESS", true},
		{"REQUIRE_AVAILABILITY_ZONE", false},
		{"ALLOW_DIRECT_EXTERNAL_NETWORK_CONNECTION", false},
		{"TENANT_CREDENTIALS_VISIBLE", false},
	}},
	{"WALDUR_OPENSTACK_TENANT", []setting{
		{"ALLOW_CUSTOMER_USERS_OPENSTACK_CONSOLE_ACCESS", true},
		{"REQUIRE_AVAILABILITY_ZONE", false},
		{"ALLOW_DIRECT_EXTERNAL_NETWORK_CONNECTION", false},
	}},
	{"WALDUR_OPENPORTAL", []setting{
		{"ENABLED", false},
	}},
	{"WALDUR_FREEIPA", []setting{
		{"ENABLED", false},
		{"USERNAME_PREFIX", "waldur_"},
	}},
	// Sections Waldur makes none of whose keys public: present, empty.
	{"WALDUR_HPC", nil},
	{"WALDUR_SLURM", nil},
	{"WALDUR_PID", nil},
	{"WALDUR_INVOICES", nil},
}

// supportSettings are WALDUR_SUPPORT: the Constance settings
// WALDUR_SUPPORT_<key>, public under their short names. This server has no
// support desk, so ENABLED is false (Waldur's default is true).
var supportSettings = []setting{
	{"ENABLED", false},
	{"DISPLAY_REQUEST_TYPE", true},
	{"ACTIVE_BACKEND_TYPE", "atlassian"},
}

// constanceSettings are the public Constance settings (Waldur's
// PUBLIC_CONSTANCE_SETTINGS that are properties of ConstanceSettings in the
// OpenAPI file), at their defaults (waldur_core/server/constance_settings.py).
// They land in WALDUR_CORE. Images are "" (not set): this server serves no
// /api/icons/, so none is rendered as a URL.
var constanceSettings = []setting{
	// Branding
	{"SITE_NAME", defaultSiteName}, // WALDUR_SITE_NAME when set
	{"SITE_DESCRIPTION", "Your single pane of control for managing projects, teams and resources in a self-service manner."},
	{"SITE_ADDRESS", ""},
	{"SITE_EMAIL", ""},
	{"SITE_PHONE", ""},
	{"CURRENCY_NAME", "EUR"},
	{"SHORT_PAGE_TITLE", "Waldur"},
	{"FULL_PAGE_TITLE", "Waldur | Cloud Service Management"},
	{"HOMEPORT_URL", "https://example.com/"},
	{"RANCHER_USERNAME_INPUT_LABEL", "Username"},
	{"DISCLAIMER_AREA_TEXT", ""},
	// Marketplace
	{"ANONYMOUS_USER_CAN_VIEW_OFFERINGS", true},
	{"RESTRICTED_OFFERING_VISIBILITY_MODE", "show_all"},
	{"MARKETPLACE_LANDING_PAGE", "Marketplace"},
	{"ENABLE_ORDER_START_DATE", false},
	{"ALLOW_SERVICE_PROVIDER_OFFERING_MANAGEMENT", false},
	{"ENFORCE_USER_CONSENT_FOR_OFFERINGS", false},
	{"ENFORCE_OFFERING_USER_PROFILE_COMPLETENESS", false},
	// Links
	{"DOCS_URL", ""},
	{"HERO_LINK_LABEL", ""},
	{"HERO_LINK_URL", ""},
	{"SUPPORT_PORTAL_URL", ""},
	// Theme and images
	{"BRAND_COLOR", "#307300"},
	{"SIDEBAR_STYLE", "dark"},
	{"FONT_FAMILY", "Inter"},
	{"DISABLE_DARK_THEME", false},
	{"SIDEBAR_LOGO", ""},
	{"SIDEBAR_LOGO_MOBILE", ""},
	{"SIDEBAR_LOGO_DARK", ""},
	{"POWERED_BY_LOGO", ""},
	{"HERO_IMAGE", ""},
	{"MARKETPLACE_HERO_IMAGE", ""},
	{"CALL_MANAGEMENT_HERO_IMAGE", ""},
	{"LOGIN_LOGO", ""},
	{"FAVICON", ""},
	{"OFFERING_LOGO_PLACEHOLDER", ""},
	{"DISCLAIMER_AREA_LOGO", ""},
	{"KEYCLOAK_ICON", ""},
	// Login page
	{"LOGIN_PAGE_LAYOUT", "split-screen"},
	{"LOGIN_PAGE_VIDEO_URL", ""},
	{"LOGIN_PAGE_STATS", []any{}},
	{"LOGIN_PAGE_CAROUSEL_SLIDES", []any{}},
	{"LOGIN_PAGE_NEWS", []any{}},
	// Notifications
	{"COMMON_FOOTER_TEXT", ""},
	{"COMMON_FOOTER_HTML", ""},
	// Localization and tables
	{"LANGUAGE_CHOICES", strings.Join(models.DescriptionLanguages, ",")}, // the server's languages (Waldur's default lists 14)
	{"USER_TABLE_COLUMNS", ""},
	// Users and authentication
	{"DEFAULT_IDP", ""},
	{"OIDC_ACCESS_TOKEN_ENABLED", false},
	{"ENABLED_USER_PROFILE_ATTRIBUTES", []string{"phone_number", "organization", "job_title", "affiliations"}},
	{"MANDATORY_USER_ATTRIBUTES", []string{}},
	{"ENFORCE_MANDATORY_USER_ATTRIBUTES", false},
	{"ONBOARDING_VALIDATION_METHODS", []string{}},
	{"FREEIPA_ENABLED", false},
	{"FREEIPA_USERNAME_PREFIX", "waldur_"},
	// Other services
	{"LLM_CHAT_ENABLED", false},
	{"USER_ACTIONS_ENABLED", false},
	{"ENABLE_PROJECT_DIGEST", false},
}

// Feature is one feature flag: a switch the front end reads to show or hide
// a part of itself. Its name is "<section>.<key>".
type Feature struct {
	Key         string
	Description string
}

// FeatureSection is a group of feature flags (Waldur's FeatureSection).
type FeatureSection struct {
	Key         string
	Description string
	Features    []Feature
}

// FeatureSections are Waldur's feature flags (waldur_core/core/features.py),
// all off by default as in Waldur; WALDUR_FEATURES switches some on.
var FeatureSections = []FeatureSection{
	{"customer", "Organization workspace", []Feature{
		{"show_domain", "Allows to hide domain field in organization detail."},
		{"payments_for_staff_only", "Make payments menu visible for staff users only."},
		{"show_permission_reviews", "Allows to show permission reviews tab and popups for organisations."},
		{"show_banking_data", "Display banking related data under customer profile."},
		{"show_onboarding", "Enable onboarding functionality."},
		{"show_project_digest", "Enable display of project digest configuration in organization settings."},
	}},
	{"project", "Project workspace", []Feature{
		{"estimated_cost", "Render estimated cost column in projects list."},
		{"oecd_fos_2007_code", "Enable OECD code."},
		{"show_industry_flag", "Show industry flag."},
		{"show_description_in_create_dialog", "Show description field in project create dialog."},
		{"show_type_in_create_dialog", "Show type field in project create dialog."},
		{"show_start_date_in_create_dialog", "Show start date field in project create dialog."},
		{"show_end_date_in_create_dialog", "Show end date field in project create dialog."},
		{"show_image_in_create_dialog", "Show image field in project create dialog."},
		{"show_credit_in_create_dialog", "Show credit field in project create dialog."},
		{"mandatory_start_date", "Make the project start date mandatory."},
		{"show_permission_reviews", "Allows to show permission reviews tab and popups for projects."},
		{"show_kind_in_create_dialog", "Show kind field in project create dialog."},
	}},
	{"user", "User workspace", []Feature{
		{"preferred_language", "Render preferred language column in users list."},
		{"ssh_keys", "Enable SSH keys management in user workspace."},
		{"notifications", "Enable email and webhook notifications management in user workspace."},
		{"disable_user_termination", "Disable user termination in user workspace."},
		{"show_slug", "Enable display of slug field in user summary."},
		{"show_username", "Enable display of username field in user tables."},
		{"pending_user_actions", "Show pending user actions."},
		{"show_data_access", "Enable Data Access tab showing who can access user profile data."},
		{"show_identity_bridge", "Show identity bridge information in user profiles and admin views."},
		{"conceal_api_token", "Hide API token management tab from non-staff and non-support users."},
		{"conceal_permission_requests", "Hide permission requests tab from non-staff and non-support users."},
		{"conceal_remote_accounts", "Hide remote accounts tab from non-staff and non-support users."},
	}},
	{"marketplace", "Marketplace offerings and resources", []Feature{
		{"import_resources", "Allow to import resources from service provider to project."},
		{"conceal_prices", "Do not render prices in order details."},
		{"show_experimental_ui_components", "Enabled display of experimental or mocked components in marketplace."},
		{"show_call_management_functionality", "Enabled display of call management functionality."},
		{"lexis_links", "Enabled LEXIS link integrations for offerings."},
		{"catalogue_only", "Allow marketplace to function as a catalogue only."},
		{"conceal_offering_pricing_tab_in_public_view", "Conceal offering pricing tab in the offering's public view."},
		{"call_only", "Allow marketplace to serve only as aggregator of call info."},
		{"show_resource_end_date", "Show resource end date as a non optional column in resources list."},
		{"allow_display_of_images_in_markdown", "Allow display of images in markdown format."},
		{"display_user_tos", "Enable display of user terms of service in UI."},
		{"display_software_catalog", "Enable display of software catalog in UI."},
		{"display_offering_partitions", "Enable display of offering partitions in UI."},
		{"conceal_resource_metadata", "Conceal resource metadata from non-staff users in resource detail view."},
		{"hide_marketplace_from_end_users", "Hide marketplace functionality from end users but allow staff access."},
		{"hide_add_resource_button_from_end_users", "Hide add resource button from end users but allow staff/support access."},
		{"hide_organization_information_from_project_members", "Hide organization information from project-level users. Organization owners, managers, and staff retain full access."},
		{"conceal_audit_log_from_end_users", "Hide audit log tab from non-staff and non-support users."},
		{"conceal_pending_provider_orders", "Hide pending provider orders section from the pending confirmations drawer."},
		{"conceal_pending_consumer_orders", "Hide pending consumer orders section from the pending confirmations drawer."},
	}},
	{"support", "Support workspace", []Feature{
		{"pricelist", "Render marketplace plan components pricelist in support workspace."},
		{"vm_type_overview", "Enable VM type overview in support workspace."},
		{"conceal_change_request", `Conceal "Change request" from a selection of issue types for non-staff/non-support users.`},
		{"enable_llm_assistant", "Enable AI Assistant"},
	}},
	{"invitations", "Invitations management", []Feature{
		{"conceal_civil_number", "Conceal civil number in invitation creation dialog."},
		{"civil_number_required", "Make civil number field mandatory in invitation creation form."},
		{"show_service_accounts", "Show service accounts of the scopes."},
		{"show_course_accounts", "Show course accounts of the scopes."},
	}},
	{"rancher", "Rancher resources provisioning", []Feature{
		{"volume_mount_point", "Allow to select mount point for data volume when Rancher cluster is provisioned."},
		{"apps", "Render Rancher apps as a separate tab in resource details page."},
	}},
	{"slurm", "SLURM resources provisioning", []Feature{
		{"jobs", "Render list of SLURM jobs as a separate tab in allocation details page."},
	}},
	{"openstack", "OpenStack resources provisioning", []Feature{
		{"hide_volume_type_selector", "Allow to hide OpenStack volume type selector when instance or volume is provisioned."},
		{"show_migrations", "Show OpenStack tenant migrations action and tab"},
	}},
	{"deployment", "Waldur deployment settings", []Feature{
		{"send_metrics", "Send telemetry metrics."},
		{"enable_cookie_notice", "Enable cookie notice in marketplace."},
		{"enable_disclaimer_area", "Enable disclaimer area below the footer."},
	}},
	{"reseller", "Reseller integrations", []Feature{
		{"arrow", "Enable Arrow integration menu in administration."},
	}},
}

// KnownFeature reports whether name ("<section>.<key>") is a feature flag.
func KnownFeature(name string) bool {
	section, key, ok := strings.Cut(name, ".")
	if !ok {
		return false
	}
	for _, s := range FeatureSections {
		if s.Key != section {
			continue
		}
		for _, f := range s.Features {
			if f.Key == key {
				return true
			}
		}
	}
	return false
}

// languageNames name the languages this server serves
// (models.DescriptionLanguages: a role's description_<lang>), each in its
// own language, for LANGUAGES.
var languageNames = map[string]string{
	"en": "English", "et": "Eesti", "lt": "Lietuvių", "lv": "Latviešu", "ru": "Русский",
	"it": "Italiano", "de": "Deutsch", "da": "Dansk", "sv": "Svenska", "es": "Español",
	"fr": "Français", "nb": "Norsk (bokmål)", "ar": "العربية", "cs": "Čeština",
}

// defaultLanguage is LANGUAGE_CODE: the language of a role's Description.
const defaultLanguage = "en"

func settingsObject(list []setting) map[string]any {
	out := make(map[string]any, len(list))
	for _, s := range list {
		out[s.Key] = s.Default
	}
	return out
}

// publicConfiguration is the answer of /api/configuration/.
func (s *Server) publicConfiguration() map[string]any {
	out := map[string]any{
		"version":            version.String(),
		"temporal_namespace": s.deps.Namespace,
		"LANGUAGE_CODE":      defaultLanguage,
	}

	languages := make([][2]string, 0, len(models.DescriptionLanguages))
	for _, code := range models.DescriptionLanguages {
		name := languageNames[code]
		if name == "" {
			name = code
		}
		languages = append(languages, [2]string{code, name})
	}
	out["LANGUAGES"] = languages

	on := map[string]bool{}
	for _, f := range s.deps.Features {
		on[f] = true
	}
	features := make(map[string]map[string]bool, len(FeatureSections))
	for _, sec := range FeatureSections {
		flags := make(map[string]bool, len(sec.Features))
		for _, f := range sec.Features {
			flags[f.Key] = on[sec.Key+"."+f.Key]
		}
		features[sec.Key] = flags
	}
	out["FEATURES"] = features

	for _, sec := range configSections {
		out[sec.Name] = settingsObject(sec.Settings)
	}
	core := out["WALDUR_CORE"].(map[string]any)
	for _, c := range constanceSettings {
		core[c.Key] = c.Default
	}
	out["WALDUR_SUPPORT"] = settingsObject(supportSettings)

	if s.deps.SiteName != "" {
		core["SITE_NAME"] = s.deps.SiteName
	}
	return out
}

// configuration godoc
//
//	@Summary		Get public configuration
//	@Description	Public settings of the deployment: version, authentication methods, Temporal namespace and feature settings safe to show anyone.
//	@Tags			configuration
//	@Produce		json
//	@Success		200	{object}	map[string]any
//	@Router			/api/configuration/ [get]
func (s *Server) configuration(c *gin.Context) error {
	c.JSON(http.StatusOK, s.publicConfiguration())
	return nil
}
