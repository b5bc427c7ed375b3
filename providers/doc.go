// Package providers holds the provider contract (validate, create, update,
// terminate, pull/import, usage), the registry keyed by offering type, and
// one sub-package per provider, each served by workers on its own task queue.
package providers
