package server_test

import "github.com/privateim/privateim/messageservice/internal/lockorder"

// Every test of this package checks the lock order (package lockorder).
func init() { lockorder.EnableForTests() }
