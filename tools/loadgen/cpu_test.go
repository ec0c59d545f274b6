package main

import (
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseStatTicks(t *testing.T) {
	for _, tc := range []struct {
		name, stat string
		want       int64
		err        bool
	}{
		{"plain", "42 (mariadbd) S 1 42 42 0 -1 4194560 1 0 0 0 1500 250 0 0 20 0 30 0 100 1 1", 1750, false},
		{"command with spaces and parens", "7 (a (b) c) R 1 7 7 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 5 1 1", 7, false},
		{"no command", "7 a R 1", 0, true},
		{"truncated", "7 (x) R 1 7 7 0", 0, true},
		{"not a number", "7 (x) R 1 7 7 0 -1 0 0 0 0 0 u 4 0", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStatTicks(tc.stat)
			if (err != nil) != tc.err || got != tc.want {
				t.Errorf("parseStatTicks = %d, %v; want %d, error %v", got, err, tc.want, tc.err)
			}
		})
	}
}

// TestCPUWindow: a process that burns CPU shows it; a process that is
// gone is left out.
func TestCPUWindow(t *testing.T) {
	self := os.Getpid()
	w := startCPU(map[string]int{"self": self, "gone": 1 << 30})
	t0, err := cpuTicks(self)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	x := 0
	for {
		for i := range 1_000_000 {
			x += i
		}
		if t1, _ := cpuTicks(self); t1-t0 >= 5 || time.Now().After(deadline) {
			break
		}
	}
	got := w.cores()
	if _, ok := got["gone"]; ok {
		t.Errorf("a process that does not exist was reported: %v", got)
	}
	if got["self"] <= 0 || got["total"] != got["self"] {
		t.Errorf("cores = %v after 50 ms of CPU (%d)", got, x%2)
	}
}

// TestMySQLPID finds the process listening on a port: here a listener of
// this test process, which is not named mariadbd, so 0; and the MySQL
// server the suite runs against, when it is on this machine.
func TestMySQLPID(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	if len(listenInodes(port)) != 1 {
		t.Fatalf("listening socket of port %d not found in /proc/net/tcp", port)
	}
	if pid := mysqlPID(fmt.Sprintf("root@tcp(%s)/", ln.Addr())); pid != 0 {
		t.Errorf("mysqlPID of a loadgen listener = %d, want 0 (not a MySQL server)", pid)
	}
	for _, dsn := range []string{"", "root@unix(/run/mysqld.sock)/", "root@tcp(127.0.0.1)/", "root@tcp(127.0.0.1:x)/"} {
		if pid := mysqlPID(dsn); pid != 0 {
			t.Errorf("mysqlPID(%q) = %d, want 0", dsn, pid)
		}
	}
	dsn := os.Getenv("MYSQL_DSN")
	if !strings.Contains(dsn, "@tcp(127.0.0.1:") {
		return // the server is elsewhere; nothing more to find
	}
	pid := mysqlPID(dsn)
	if pid == 0 {
		t.Fatalf("no mariadbd/mysqld process listens for %s", dsn)
	}
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil || !strings.Contains("mariadbd mysqld", strings.TrimSpace(string(comm))) {
		t.Errorf("pid %d is %q, %v", pid, comm, err)
	}
}
