// Package fanouttest holds the tests and benchmarks of publishing to many
// followers through the real stack: the DataService and userservice
// binaries, a messageservice binary that a test can kill (SIGKILL) and
// start again on the same ports, and the subscriptionservice in-process
// (subtest). It has no code of its own; see restart_test.go and
// bench_test.go.
//
// Followers are made on a fast path (stack_test.go): one user signs up
// through the userservice, and its bcrypt hash (cost 4, as stacktest runs
// the userservice) is reused for every follower created with the
// DataService's CreateUser over mutual TLS; follows are the DataService's
// Follow. Only the followers that connect sign in (POST /auth/signin), so a
// test never pays a bcrypt hash per follower it does not use.
package fanouttest
