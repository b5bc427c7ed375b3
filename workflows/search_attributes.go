package workflows

import (
	"context"
	"fmt"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// Search attributes that make every order findable in the Temporal Web UI
// (e.g. `WaldurOrderState = "pending-provider" AND WaldurCustomerUUID = "…"`).
var (
	SAOrderUUID    = temporal.NewSearchAttributeKeyKeyword("WaldurOrderUUID")
	SACustomerUUID = temporal.NewSearchAttributeKeyKeyword("WaldurCustomerUUID")
	SAProjectUUID  = temporal.NewSearchAttributeKeyKeyword("WaldurProjectUUID")
	SAOfferingType = temporal.NewSearchAttributeKeyKeyword("WaldurOfferingType")
	SAOrderState   = temporal.NewSearchAttributeKeyKeyword("WaldurOrderState")
)

// SearchAttributes are the custom search attributes the platform uses,
// registered in the namespace at start-up.
var SearchAttributes = map[string]enums.IndexedValueType{
	SAOrderUUID.GetName():    enums.INDEXED_VALUE_TYPE_KEYWORD,
	SACustomerUUID.GetName(): enums.INDEXED_VALUE_TYPE_KEYWORD,
	SAProjectUUID.GetName():  enums.INDEXED_VALUE_TYPE_KEYWORD,
	SAOfferingType.GetName(): enums.INDEXED_VALUE_TYPE_KEYWORD,
	SAOrderState.GetName():   enums.INDEXED_VALUE_TYPE_KEYWORD,
}

// EnsureSearchAttributes registers the missing ones of SearchAttributes in
// namespace (idempotent; run by the process that runs the core queue).
func EnsureSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	have, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("search attributes: %w", err)
	}
	missing := map[string]enums.IndexedValueType{}
	for name, typ := range SearchAttributes {
		if _, ok := have.GetCustomAttributes()[name]; !ok {
			missing[name] = typ
		}
	}
	if len(missing) == 0 {
		return nil
	}
	_, err = c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: namespace, SearchAttributes: missing})
	if err != nil {
		return fmt.Errorf("search attributes: %w", err)
	}
	return nil
}
