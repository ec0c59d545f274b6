// Package httpapi is the userservice's public HTTP API: decoding and
// validating requests, calling a feature, encoding answers. The plumbing
// (the gin engine, strict JSON, ids, uploads, Bearer auth and the one error
// table) is httpkit's, shared with the subscriptionservice.
//
// Each feature's routes live in their own file (account.go, groups.go, ...)
// as a type implementing httpkit.Feature; the server passes them in
// httpkit.Deps.Features, so adding a feature touches no other route file.
// Handlers use httpkit.Bind, httpkit.Fail, httpkit.UserID and
// httpkit.PathID.
//
// It may import gin, httpkit, the features and errs; never an adapter.
package httpapi

import _ "embed"

// OpenAPIDoc is the OpenAPI 3 document of the public API, served by
// httpkit.OpenAPI. The test TestOpenAPIMatchesRoutes keeps it and the
// routes registered in step.
//
//go:embed openapi.yaml
var OpenAPIDoc []byte
