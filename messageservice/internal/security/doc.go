// Package security holds the attack tests of the messageservice: each test is named
// for the attack it tries (docs/security.md) and runs it against real
// servers.
package security
