// Package security holds the attack tests of the dataservice: each test is named
// for the attack it tries (docs/security.md) and runs it against real
// servers.
package security
