package policies

import "github.com/gin-gonic/gin"

// The routes of each family, one method per route so each has its own
// OpenAPI annotations (swag); each runs the family's shared handler.

// listProjectEstimatedCostPolicies serves /api/marketplace-project-estimated-cost-policies/.
//
// @Summary	List project estimated cost policies
// @Description	A project's estimated cost limit over the period (invoice items of the project's resources). Seen by whoever holds a role on the project or its customer; written by the customer's owners and staff. Newest first.
// @Tags		marketplace-project-estimated-cost-policies
// @Produce	json
// @Param		scope	query	string	false	"Scope URL"
// @Param		scope_uuid	query	string	false	"Scope UUID"
// @Param		project	query	string	false	"Project URL"
// @Param		project_uuid	query	string	false	"Project UUID"
// @Param		customer	query	string	false	"Customer URL"
// @Param		customer_uuid	query	string	false	"Customer UUID"
// @Param		page	query	int	false	"Page"
// @Param		page_size	query	int	false	"Page size"
// @Success	200	{array}	ProjectEstimatedCostPolicy
// @Router		/api/marketplace-project-estimated-cost-policies/ [get]
func (m *Module) listProjectEstimatedCostPolicies(c *gin.Context) error {
	return m.list(families[0])(c)
}

// createProjectEstimatedCostPolicies serves /api/marketplace-project-estimated-cost-policies/.
//
// @Summary	Create a project estimated cost policy
// @Description	A project's estimated cost limit over the period (invoice items of the project's resources). Seen by whoever holds a role on the project or its customer; written by the customer's owners and staff. The policy is evaluated at once.
// @Tags		marketplace-project-estimated-cost-policies
// @Produce	json
// @Accept		json
// @Param		body	body	ProjectEstimatedCostPolicy	true	"The policy"
// @Success	201	{object}	ProjectEstimatedCostPolicy
// @Failure	400	{object}	map[string][]string
// @Failure	403	{object}	api.ErrorBody
// @Router		/api/marketplace-project-estimated-cost-policies/ [post]
func (m *Module) createProjectEstimatedCostPolicies(c *gin.Context) error {
	return m.create(families[0])(c)
}

// actionsProjectEstimatedCostPolicies serves /api/marketplace-project-estimated-cost-policies/actions/.
//
// @Summary	The actions of project estimated cost policies
// @Description	The names of the actions the family accepts (Waldur's get_all_actions: a list of strings).
// @Tags		marketplace-project-estimated-cost-policies
// @Produce	json
// @Success	200	{array}	string
// @Router		/api/marketplace-project-estimated-cost-policies/actions/ [get]
func (m *Module) actionsProjectEstimatedCostPolicies(c *gin.Context) error {
	return m.actions(families[0])(c)
}

// retrieveProjectEstimatedCostPolicies serves /api/marketplace-project-estimated-cost-policies/{uuid}/.
//
// @Summary	Retrieve a project estimated cost policy
// @Description	A project's estimated cost limit over the period (invoice items of the project's resources). Seen by whoever holds a role on the project or its customer; written by the customer's owners and staff.
// @Tags		marketplace-project-estimated-cost-policies
// @Produce	json
// @Param		uuid	path	string	true	"Policy UUID"
// @Success	200	{object}	ProjectEstimatedCostPolicy
// @Failure	404	{object}	api.ErrorBody
// @Router		/api/marketplace-project-estimated-cost-policies/{uuid}/ [get]
func (m *Module) retrieveProjectEstimatedCostPolicies(c *gin.Context) error {
	return m.retrieve(families[0])(c)
}

// updateProjectEstimatedCostPolicies serves /api/marketplace-project-estimated-cost-policies/{uuid}/.
//
// @Summary	Update a project estimated cost policy
// @Description	A project's estimated cost limit over the period (invoice items of the project's resources). Seen by whoever holds a role on the project or its customer; written by the customer's owners and staff. PUT needs every required field, PATCH the changed ones; the policy is evaluated at once (a raised limit lifts its block and flags).
// @Tags		marketplace-project-estimated-cost-policies
// @Produce	json
// @Accept		json
// @Param		uuid	path	string	true	"Policy UUID"
// @Param		body	body	ProjectEstimatedCostPolicy	true	"The policy"
// @Success	200	{object}	ProjectEstimatedCostPolicy
// @Failure	400	{object}	map[string][]string
// @Failure	403	{object}	api.ErrorBody
// @Failure	404	{object}	api.ErrorBody
// @Router		/api/marketplace-project-estimated-cost-policies/{uuid}/ [put]
// @Router		/api/marketplace-project-estimated-cost-policies/{uuid}/ [patch]
func (m *Module) updateProjectEstimatedCostPolicies(c *gin.Context) error {
	if c.Request.Method == "PATCH" {
		return m.update(families[0], true)(c)
	}
	return m.update(families[0], false)(c)
}

// destroyProjectEstimatedCostPolicies serves /api/marketplace-project-estimated-cost-policies/{uuid}/.
//
// @Summary	Delete a project estimated cost policy
// @Description	A project's estimated cost limit over the period (invoice items of the project's resources). Seen by whoever holds a role on the project or its customer; written by the customer's owners and staff. The flags its crossings in force set are lifted.
// @Tags		marketplace-project-estimated-cost-policies
// @Produce	json
// @Param		uuid	path	string	true	"Policy UUID"
// @Success	204
// @Failure	403	{object}	api.ErrorBody
// @Failure	404	{object}	api.ErrorBody
// @Router		/api/marketplace-project-estimated-cost-policies/{uuid}/ [delete]
func (m *Module) destroyProjectEstimatedCostPolicies(c *gin.Context) error {
	return m.destroy(families[0])(c)
}

// listCustomerEstimatedCostPolicies serves /api/marketplace-customer-estimated-cost-policies/.
//
// @Summary	List customer estimated cost policies
// @Description	A customer's estimated cost limit over the period (its invoices' items). Seen by the customer's team; written by staff only. Newest first.
// @Tags		marketplace-customer-estimated-cost-policies
// @Produce	json
// @Param		scope	query	string	false	"Scope URL"
// @Param		scope_uuid	query	string	false	"Scope UUID"
// @Param		customer	query	string	false	"Customer URL"
// @Param		customer_uuid	query	string	false	"Customer UUID"
// @Param		page	query	int	false	"Page"
// @Param		page_size	query	int	false	"Page size"
// @Success	200	{array}	CustomerEstimatedCostPolicy
// @Router		/api/marketplace-customer-estimated-cost-policies/ [get]
func (m *Module) listCustomerEstimatedCostPolicies(c *gin.Context) error {
	return m.list(families[1])(c)
}

// createCustomerEstimatedCostPolicies serves /api/marketplace-customer-estimated-cost-policies/.
//
// @Summary	Create a customer estimated cost policy
// @Description	A customer's estimated cost limit over the period (its invoices' items). Seen by the customer's team; written by staff only. The policy is evaluated at once.
// @Tags		marketplace-customer-estimated-cost-policies
// @Produce	json
// @Accept		json
// @Param		body	body	CustomerEstimatedCostPolicy	true	"The policy"
// @Success	201	{object}	CustomerEstimatedCostPolicy
// @Failure	400	{object}	map[string][]string
// @Failure	403	{object}	api.ErrorBody
// @Router		/api/marketplace-customer-estimated-cost-policies/ [post]
func (m *Module) createCustomerEstimatedCostPolicies(c *gin.Context) error {
	return m.create(families[1])(c)
}

// actionsCustomerEstimatedCostPolicies serves /api/marketplace-customer-estimated-cost-policies/actions/.
//
// @Summary	The actions of customer estimated cost policies
// @Description	The names of the actions the family accepts (Waldur's get_all_actions: a list of strings).
// @Tags		marketplace-customer-estimated-cost-policies
// @Produce	json
// @Success	200	{array}	string
// @Router		/api/marketplace-customer-estimated-cost-policies/actions/ [get]
func (m *Module) actionsCustomerEstimatedCostPolicies(c *gin.Context) error {
	return m.actions(families[1])(c)
}

// retrieveCustomerEstimatedCostPolicies serves /api/marketplace-customer-estimated-cost-policies/{uuid}/.
//
// @Summary	Retrieve a customer estimated cost policy
// @Description	A customer's estimated cost limit over the period (its invoices' items). Seen by the customer's team; written by staff only.
// @Tags		marketplace-customer-estimated-cost-policies
// @Produce	json
// @Param		uuid	path	string	true	"Policy UUID"
// @Success	200	{object}	CustomerEstimatedCostPolicy
// @Failure	404	{object}	api.ErrorBody
// @Router		/api/marketplace-customer-estimated-cost-policies/{uuid}/ [get]
func (m *Module) retrieveCustomerEstimatedCostPolicies(c *gin.Context) error {
	return m.retrieve(families[1])(c)
}

// updateCustomerEstimatedCostPolicies serves /api/marketplace-customer-estimated-cost-policies/{uuid}/.
//
// @Summary	Update a customer estimated cost policy
// @Description	A customer's estimated cost limit over the period (its invoices' items). Seen by the customer's team; written by staff only. PUT needs every required field, PATCH the changed ones; the policy is evaluated at once (a raised limit lifts its block and flags).
// @Tags		marketplace-customer-estimated-cost-policies
// @Produce	json
// @Accept		json
// @Param		uuid	path	string	true	"Policy UUID"
// @Param		body	body	CustomerEstimatedCostPolicy	true	"The policy"
// @Success	200	{object}	CustomerEstimatedCostPolicy
// @Failure	400	{object}	map[string][]string
// @Failure	403	{object}	api.ErrorBody
// @Failure	404	{object}	api.ErrorBody
// @Router		/api/marketplace-customer-estimated-cost-policies/{uuid}/ [put]
// @Router		/api/marketplace-customer-estimated-cost-policies/{uuid}/ [patch]
func (m *Module) updateCustomerEstimatedCostPolicies(c *gin.Context) error {
	if c.Request.Method == "PATCH" {
		return m.update(families[1], true)(c)
	}
	return m.update(families[1], false)(c)
}

// destroyCustomerEstimatedCostPolicies serves /api/marketplace-customer-estimated-cost-policies/{uuid}/.
//
// @Summary	Delete a customer estimated cost policy
// @Description	A customer's estimated cost limit over the period (its invoices' items). Seen by the customer's team; written by staff only. The flags its crossings in force set are lifted.
// @Tags		marketplace-customer-estimated-cost-policies
// @Produce	json
// @Param		uuid	path	string	true	"Policy UUID"
// @Success	204
// @Failure	403	{object}	api.ErrorBody
// @Failure	404	{object}	api.ErrorBody
// @Router		/api/marketplace-customer-estimated-cost-policies/{uuid}/ [delete]
func (m *Module) destroyCustomerEstimatedCostPolicies(c *gin.Context) error {
	return m.destroy(families[1])(c)
}

// listOfferingEstimatedCostPolicies serves /api/marketplace-offering-estimated-cost-policies/.
//
// @Summary	List offering estimated cost policies
// @Description	An offering's estimated cost limit per customer over the period (the items of each customer's resources of the offering). Seen by the provider's team and the offering's managers; written by who may update the offering (OFFERING.UPDATE) and staff. Newest first.
// @Tags		marketplace-offering-estimated-cost-policies
// @Produce	json
// @Param		scope	query	string	false	"Scope URL"
// @Param		scope_uuid	query	string	false	"Scope UUID"
// @Param		customer	query	string	false	"Customer URL"
// @Param		customer_uuid	query	string	false	"Customer UUID"
// @Param		page	query	int	false	"Page"
// @Param		page_size	query	int	false	"Page size"
// @Success	200	{array}	OfferingEstimatedCostPolicy
// @Router		/api/marketplace-offering-estimated-cost-policies/ [get]
func (m *Module) listOfferingEstimatedCostPolicies(c *gin.Context) error {
	return m.list(families[2])(c)
}

// createOfferingEstimatedCostPolicies serves /api/marketplace-offering-estimated-cost-policies/.
//
// @Summary	Create a offering estimated cost policy
// @Description	An offering's estimated cost limit per customer over the period (the items of each customer's resources of the offering). Seen by the provider's team and the offering's managers; written by who may update the offering (OFFERING.UPDATE) and staff. The policy is evaluated at once.
// @Tags		marketplace-offering-estimated-cost-policies
// @Produce	json
// @Accept		json
// @Param		body	body	OfferingEstimatedCostPolicy	true	"The policy"
// @Success	201	{object}	OfferingEstimatedCostPolicy
// @Failure	400	{object}	map[string][]string
// @Failure	403	{object}	api.ErrorBody
// @Router		/api/marketplace-offering-estimated-cost-policies/ [post]
func (m *Module) createOfferingEstimatedCostPolicies(c *gin.Context) error {
	return m.create(families[2])(c)
}

// actionsOfferingEstimatedCostPolicies serves /api/marketplace-offering-estimated-cost-policies/actions/.
//
// @Summary	The actions of offering estimated cost policies
// @Description	The names of the actions the family accepts (Waldur's get_all_actions: a list of strings).
// @Tags		marketplace-offering-estimated-cost-policies
// @Produce	json
// @Success	200	{array}	string
// @Router		/api/marketplace-offering-estimated-cost-policies/actions/ [get]
func (m *Module) actionsOfferingEstimatedCostPolicies(c *gin.Context) error {
	return m.actions(families[2])(c)
}

// retrieveOfferingEstimatedCostPolicies serves /api/marketplace-offering-estimated-cost-policies/{uuid}/.
//
// @Summary	Retrieve a offering estimated cost policy
// @Description	An offering's estimated cost limit per customer over the period (the items of each customer's resources of the offering). Seen by the provider's team and the offering's managers; written by who may update the offering (OFFERING.UPDATE) and staff.
// @Tags		marketplace-offering-estimated-cost-policies
// @Produce	json
// @Param		uuid	path	string	true	"Policy UUID"
// @Success	200	{object}	OfferingEstimatedCostPolicy
// @Failure	404	{object}	api.ErrorBody
// @Router		/api/marketplace-offering-estimated-cost-policies/{uuid}/ [get]
func (m *Module) retrieveOfferingEstimatedCostPolicies(c *gin.Context) error {
	return m.retrieve(families[2])(c)
}

// updateOfferingEstimatedCostPolicies serves /api/marketplace-offering-estimated-cost-policies/{uuid}/.
//
// @Summary	Update a offering estimated cost policy
// @Description	An offering's estimated cost limit per customer over the period (the items of each customer's resources of the offering). Seen by the provider's team and the offering's managers; written by who may update the offering (OFFERING.UPDATE) and staff. PUT needs every required field, PATCH the changed ones; the policy is evaluated at once (a raised limit lifts its block and flags).
// @Tags		marketplace-offering-estimated-cost-policies
// @Produce	json
// @Accept		json
// @Param		uuid	path	string	true	"Policy UUID"
// @Param		body	body	OfferingEstimatedCostPolicy	true	"The policy"
// @Success	200	{object}	OfferingEstimatedCostPolicy
// @Failure	400	{object}	map[string][]string
// @Failure	403	{object}	api.ErrorBody
// @Failure	404	{object}	api.ErrorBody
// @Router		/api/marketplace-offering-estimated-cost-policies/{uuid}/ [put]
// @Router		/api/marketplace-offering-estimated-cost-policies/{uuid}/ [patch]
func (m *Module) updateOfferingEstimatedCostPolicies(c *gin.Context) error {
	if c.Request.Method == "PATCH" {
		return m.update(families[2], true)(c)
	}
	return m.update(families[2], false)(c)
}

// destroyOfferingEstimatedCostPolicies serves /api/marketplace-offering-estimated-cost-policies/{uuid}/.
//
// @Summary	Delete a offering estimated cost policy
// @Description	An offering's estimated cost limit per customer over the period (the items of each customer's resources of the offering). Seen by the provider's team and the offering's managers; written by who may update the offering (OFFERING.UPDATE) and staff. The flags its crossings in force set are lifted.
// @Tags		marketplace-offering-estimated-cost-policies
// @Produce	json
// @Param		uuid	path	string	true	"Policy UUID"
// @Success	204
// @Failure	403	{object}	api.ErrorBody
// @Failure	404	{object}	api.ErrorBody
// @Router		/api/marketplace-offering-estimated-cost-policies/{uuid}/ [delete]
func (m *Module) destroyOfferingEstimatedCostPolicies(c *gin.Context) error {
	return m.destroy(families[2])(c)
}

// listOfferingUsagePolicies serves /api/marketplace-offering-usage-policies/.
//
// @Summary	List offering usage policies
// @Description	Usage limits of an offering's components per customer over the period (component usages of each customer's resources of the offering). Seen by the provider's team and the offering's managers; written by who may update the offering (OFFERING.UPDATE) and staff. Newest first.
// @Tags		marketplace-offering-usage-policies
// @Produce	json
// @Param		scope	query	string	false	"Scope URL"
// @Param		scope_uuid	query	string	false	"Scope UUID"
// @Param		customer	query	string	false	"Customer URL"
// @Param		customer_uuid	query	string	false	"Customer UUID"
// @Param		page	query	int	false	"Page"
// @Param		page_size	query	int	false	"Page size"
// @Success	200	{array}	OfferingUsagePolicy
// @Router		/api/marketplace-offering-usage-policies/ [get]
func (m *Module) listOfferingUsagePolicies(c *gin.Context) error { return m.list(families[3])(c) }

// createOfferingUsagePolicies serves /api/marketplace-offering-usage-policies/.
//
// @Summary	Create a offering usage policy
// @Description	Usage limits of an offering's components per customer over the period (component usages of each customer's resources of the offering). Seen by the provider's team and the offering's managers; written by who may update the offering (OFFERING.UPDATE) and staff. The policy is evaluated at once.
// @Tags		marketplace-offering-usage-policies
// @Produce	json
// @Accept		json
// @Param		body	body	OfferingUsagePolicy	true	"The policy"
// @Success	201	{object}	OfferingUsagePolicy
// @Failure	400	{object}	map[string][]string
// @Failure	403	{object}	api.ErrorBody
// @Router		/api/marketplace-offering-usage-policies/ [post]
func (m *Module) createOfferingUsagePolicies(c *gin.Context) error { return m.create(families[3])(c) }

// actionsOfferingUsagePolicies serves /api/marketplace-offering-usage-policies/actions/.
//
// @Summary	The actions of offering usage policies
// @Description	The names of the actions the family accepts (Waldur's get_all_actions: a list of strings).
// @Tags		marketplace-offering-usage-policies
// @Produce	json
// @Success	200	{array}	string
// @Router		/api/marketplace-offering-usage-policies/actions/ [get]
func (m *Module) actionsOfferingUsagePolicies(c *gin.Context) error { return m.actions(families[3])(c) }

// retrieveOfferingUsagePolicies serves /api/marketplace-offering-usage-policies/{uuid}/.
//
// @Summary	Retrieve a offering usage policy
// @Description	Usage limits of an offering's components per customer over the period (component usages of each customer's resources of the offering). Seen by the provider's team and the offering's managers; written by who may update the offering (OFFERING.UPDATE) and staff.
// @Tags		marketplace-offering-usage-policies
// @Produce	json
// @Param		uuid	path	string	true	"Policy UUID"
// @Success	200	{object}	OfferingUsagePolicy
// @Failure	404	{object}	api.ErrorBody
// @Router		/api/marketplace-offering-usage-policies/{uuid}/ [get]
func (m *Module) retrieveOfferingUsagePolicies(c *gin.Context) error {
	return m.retrieve(families[3])(c)
}

// updateOfferingUsagePolicies serves /api/marketplace-offering-usage-policies/{uuid}/.
//
// @Summary	Update a offering usage policy
// @Description	Usage limits of an offering's components per customer over the period (component usages of each customer's resources of the offering). Seen by the provider's team and the offering's managers; written by who may update the offering (OFFERING.UPDATE) and staff. PUT needs every required field, PATCH the changed ones; the policy is evaluated at once (a raised limit lifts its block and flags).
// @Tags		marketplace-offering-usage-policies
// @Produce	json
// @Accept		json
// @Param		uuid	path	string	true	"Policy UUID"
// @Param		body	body	OfferingUsagePolicy	true	"The policy"
// @Success	200	{object}	OfferingUsagePolicy
// @Failure	400	{object}	map[string][]string
// @Failure	403	{object}	api.ErrorBody
// @Failure	404	{object}	api.ErrorBody
// @Router		/api/marketplace-offering-usage-policies/{uuid}/ [put]
// @Router		/api/marketplace-offering-usage-policies/{uuid}/ [patch]
func (m *Module) updateOfferingUsagePolicies(c *gin.Context) error {
	if c.Request.Method == "PATCH" {
		return m.update(families[3], true)(c)
	}
	return m.update(families[3], false)(c)
}

// destroyOfferingUsagePolicies serves /api/marketplace-offering-usage-policies/{uuid}/.
//
// @Summary	Delete a offering usage policy
// @Description	Usage limits of an offering's components per customer over the period (component usages of each customer's resources of the offering). Seen by the provider's team and the offering's managers; written by who may update the offering (OFFERING.UPDATE) and staff. The flags its crossings in force set are lifted.
// @Tags		marketplace-offering-usage-policies
// @Produce	json
// @Param		uuid	path	string	true	"Policy UUID"
// @Success	204
// @Failure	403	{object}	api.ErrorBody
// @Failure	404	{object}	api.ErrorBody
// @Router		/api/marketplace-offering-usage-policies/{uuid}/ [delete]
func (m *Module) destroyOfferingUsagePolicies(c *gin.Context) error { return m.destroy(families[3])(c) }

// listSlurmPeriodicUsagePolicies serves /api/marketplace-slurm-periodic-usage-policies/.
//
// @Summary	List SLURM periodic usage policies
// @Description	Usage limits of a SLURM offering's components per resource over the period (a quarter by default), with carry-over of unused allocation from the previous period (at most carryover_factor percent of the limit) and a grace ratio: from the effective allocation (limit + carry-over) the resource is downscaled (request_slurm_resource_downscaling), from effective x (1 + grace_ratio) paused (request_slurm_resource_pausing); the next period lifts both. The site agent reads the flags and applies them as QoS. Seen by the provider's team and the offering's managers; written by who may update the offering (OFFERING.UPDATE) and staff. Newest first.
// @Tags		marketplace-slurm-periodic-usage-policies
// @Produce	json
// @Param		scope	query	string	false	"Scope URL"
// @Param		scope_uuid	query	string	false	"Scope UUID"
// @Param		page	query	int	false	"Page"
// @Param		page_size	query	int	false	"Page size"
// @Success	200	{array}	SlurmPeriodicUsagePolicy
// @Router		/api/marketplace-slurm-periodic-usage-policies/ [get]
func (m *Module) listSlurmPeriodicUsagePolicies(c *gin.Context) error { return m.list(families[4])(c) }

// createSlurmPeriodicUsagePolicies serves /api/marketplace-slurm-periodic-usage-policies/.
//
// @Summary	Create a SLURM periodic usage policy
// @Description	Usage limits of a SLURM offering's components per resource over the period (a quarter by default), with carry-over of unused allocation from the previous period (at most carryover_factor percent of the limit) and a grace ratio: from the effective allocation (limit + carry-over) the resource is downscaled (request_slurm_resource_downscaling), from effective x (1 + grace_ratio) paused (request_slurm_resource_pausing); the next period lifts both. The site agent reads the flags and applies them as QoS. Seen by the provider's team and the offering's managers; written by who may update the offering (OFFERING.UPDATE) and staff. The policy is evaluated at once.
// @Tags		marketplace-slurm-periodic-usage-policies
// @Produce	json
// @Accept		json
// @Param		body	body	SlurmPeriodicUsagePolicy	true	"The policy"
// @Success	201	{object}	SlurmPeriodicUsagePolicy
// @Failure	400	{object}	map[string][]string
// @Failure	403	{object}	api.ErrorBody
// @Router		/api/marketplace-slurm-periodic-usage-policies/ [post]
func (m *Module) createSlurmPeriodicUsagePolicies(c *gin.Context) error {
	return m.create(families[4])(c)
}

// actionsSlurmPeriodicUsagePolicies serves /api/marketplace-slurm-periodic-usage-policies/actions/.
//
// @Summary	The actions of SLURM periodic usage policies
// @Description	The names of the actions the family accepts (Waldur's get_all_actions: a list of strings).
// @Tags		marketplace-slurm-periodic-usage-policies
// @Produce	json
// @Success	200	{array}	string
// @Router		/api/marketplace-slurm-periodic-usage-policies/actions/ [get]
func (m *Module) actionsSlurmPeriodicUsagePolicies(c *gin.Context) error {
	return m.actions(families[4])(c)
}

// retrieveSlurmPeriodicUsagePolicies serves /api/marketplace-slurm-periodic-usage-policies/{uuid}/.
//
// @Summary	Retrieve a SLURM periodic usage policy
// @Description	Usage limits of a SLURM offering's components per resource over the period (a quarter by default), with carry-over of unused allocation from the previous period (at most carryover_factor percent of the limit) and a grace ratio: from the effective allocation (limit + carry-over) the resource is downscaled (request_slurm_resource_downscaling), from effective x (1 + grace_ratio) paused (request_slurm_resource_pausing); the next period lifts both. The site agent reads the flags and applies them as QoS. Seen by the provider's team and the offering's managers; written by who may update the offering (OFFERING.UPDATE) and staff.
// @Tags		marketplace-slurm-periodic-usage-policies
// @Produce	json
// @Param		uuid	path	string	true	"Policy UUID"
// @Success	200	{object}	SlurmPeriodicUsagePolicy
// @Failure	404	{object}	api.ErrorBody
// @Router		/api/marketplace-slurm-periodic-usage-policies/{uuid}/ [get]
func (m *Module) retrieveSlurmPeriodicUsagePolicies(c *gin.Context) error {
	return m.retrieve(families[4])(c)
}

// updateSlurmPeriodicUsagePolicies serves /api/marketplace-slurm-periodic-usage-policies/{uuid}/.
//
// @Summary	Update a SLURM periodic usage policy
// @Description	Usage limits of a SLURM offering's components per resource over the period (a quarter by default), with carry-over of unused allocation from the previous period (at most carryover_factor percent of the limit) and a grace ratio: from the effective allocation (limit + carry-over) the resource is downscaled (request_slurm_resource_downscaling), from effective x (1 + grace_ratio) paused (request_slurm_resource_pausing); the next period lifts both. The site agent reads the flags and applies them as QoS. Seen by the provider's team and the offering's managers; written by who may update the offering (OFFERING.UPDATE) and staff. PUT needs every required field, PATCH the changed ones; the policy is evaluated at once (a raised limit lifts its block and flags).
// @Tags		marketplace-slurm-periodic-usage-policies
// @Produce	json
// @Accept		json
// @Param		uuid	path	string	true	"Policy UUID"
// @Param		body	body	SlurmPeriodicUsagePolicy	true	"The policy"
// @Success	200	{object}	SlurmPeriodicUsagePolicy
// @Failure	400	{object}	map[string][]string
// @Failure	403	{object}	api.ErrorBody
// @Failure	404	{object}	api.ErrorBody
// @Router		/api/marketplace-slurm-periodic-usage-policies/{uuid}/ [put]
// @Router		/api/marketplace-slurm-periodic-usage-policies/{uuid}/ [patch]
func (m *Module) updateSlurmPeriodicUsagePolicies(c *gin.Context) error {
	if c.Request.Method == "PATCH" {
		return m.update(families[4], true)(c)
	}
	return m.update(families[4], false)(c)
}

// destroySlurmPeriodicUsagePolicies serves /api/marketplace-slurm-periodic-usage-policies/{uuid}/.
//
// @Summary	Delete a SLURM periodic usage policy
// @Description	Usage limits of a SLURM offering's components per resource over the period (a quarter by default), with carry-over of unused allocation from the previous period (at most carryover_factor percent of the limit) and a grace ratio: from the effective allocation (limit + carry-over) the resource is downscaled (request_slurm_resource_downscaling), from effective x (1 + grace_ratio) paused (request_slurm_resource_pausing); the next period lifts both. The site agent reads the flags and applies them as QoS. Seen by the provider's team and the offering's managers; written by who may update the offering (OFFERING.UPDATE) and staff. The flags its crossings in force set are lifted.
// @Tags		marketplace-slurm-periodic-usage-policies
// @Produce	json
// @Param		uuid	path	string	true	"Policy UUID"
// @Success	204
// @Failure	403	{object}	api.ErrorBody
// @Failure	404	{object}	api.ErrorBody
// @Router		/api/marketplace-slurm-periodic-usage-policies/{uuid}/ [delete]
func (m *Module) destroySlurmPeriodicUsagePolicies(c *gin.Context) error {
	return m.destroy(families[4])(c)
}

// handlers are each family's route methods, in families' order.
func (m *Module) handlers() []routeSet {
	return []routeSet{
		{m.listProjectEstimatedCostPolicies, m.createProjectEstimatedCostPolicies, m.actionsProjectEstimatedCostPolicies, m.retrieveProjectEstimatedCostPolicies, m.updateProjectEstimatedCostPolicies, m.destroyProjectEstimatedCostPolicies},
		{m.listCustomerEstimatedCostPolicies, m.createCustomerEstimatedCostPolicies, m.actionsCustomerEstimatedCostPolicies, m.retrieveCustomerEstimatedCostPolicies, m.updateCustomerEstimatedCostPolicies, m.destroyCustomerEstimatedCostPolicies},
		{m.listOfferingEstimatedCostPolicies, m.createOfferingEstimatedCostPolicies, m.actionsOfferingEstimatedCostPolicies, m.retrieveOfferingEstimatedCostPolicies, m.updateOfferingEstimatedCostPolicies, m.destroyOfferingEstimatedCostPolicies},
		{m.listOfferingUsagePolicies, m.createOfferingUsagePolicies, m.actionsOfferingUsagePolicies, m.retrieveOfferingUsagePolicies, m.updateOfferingUsagePolicies, m.destroyOfferingUsagePolicies},
		{m.listSlurmPeriodicUsagePolicies, m.createSlurmPeriodicUsagePolicies, m.actionsSlurmPeriodicUsagePolicies, m.retrieveSlurmPeriodicUsagePolicies, m.updateSlurmPeriodicUsagePolicies, m.destroySlurmPeriodicUsagePolicies},
	}
}
