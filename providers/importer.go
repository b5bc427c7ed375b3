package providers

import (
	"context"
	"encoding/json"
)

// ImportableResource is an object of an offering's backend that was made
// outside Waldur and can be recorded as a resource (the OpenAPI
// ImportableResource shape).
type ImportableResource struct {
	BackendID   string `json:"backend_id"`
	Name        string `json:"name"`
	Type        string `json:"type"`
	Description string `json:"description"`
}

// ImportedResource is what a provider reads of one backend object to
// record it as a resource.
type ImportedResource struct {
	BackendID   string
	Name        string
	Description string
	// Limits are the object's limits in the offering's component units.
	Limits map[string]int64
	// Metadata becomes the resource's backend_metadata.
	Metadata map[string]any
	// Pulled is what the offering type's plugin rows need of the object
	// (a cloud server's tenant, ports and volumes), recorded by its
	// activities.ImportKeeper; nil for most types. Not stored on the
	// resource. It is the JSON of the plugin's own type, opaque to the core
	// (see Encode, Decode).
	Pulled json.RawMessage
}

// Importer is a provider that can import backend objects made outside
// Waldur (importable_resources, import_resource). Both methods get a
// Request carrying the offering (type, options, UUID); DescribeImport
// also its BackendID. They change nothing on the backend.
type Importer interface {
	// Importable lists the backend's objects that could become resources
	// (whether a resource has one already is the caller's business).
	Importable(ctx context.Context, r Request) ([]ImportableResource, error)
	// DescribeImport reads the object r.BackendID; a missing object is a
	// permanent not_found error.
	DescribeImport(ctx context.Context, r Request) (ImportedResource, error)
}
