// Package sdktest runs the tests of the TypeScript SDK (web/sdk) from go
// test, so that `make test` runs them: the unit and drift tests as they
// are, and the integration tests against the real stack this package
// starts with foundation/stacktest (DataService on MySQL, NATS, userservice,
// one messageservice node), which it restarts when a node test asks through
// a control endpoint on 127.0.0.1. It holds no code of its own.
package sdktest
