// Package httpapi is the subscriptionservice's public HTTP API: decoding and
// validating requests, calling a feature, encoding answers. The plumbing
// (the gin engine, strict JSON, ids, uploads, Bearer auth and the one error
// table) is the userservice module's httpkit, so both services answer alike.
//
// Each feature's routes live in their own file (subscriptions.go,
// articles.go) as a type implementing httpkit.Feature; the server passes
// them in httpkit.Deps.Features.
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
