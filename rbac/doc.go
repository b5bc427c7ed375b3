// Package rbac holds the roles (sets of permission strings), the Casbin
// model that makes every permission decision, and the SQL scope filters that
// limit list endpoints to what the caller's roles let them see.
package rbac
