package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Where the machine's cores go during a send window: the CPU time of each
// process of the stack (and of the MySQL server and loadgen itself), from
// /proc/<pid>/stat, divided by the window. On a machine where the load
// generator shares the cores with the servers, this says which process a
// latency tail queues behind.

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat:
// 100 on every Linux architecture Go supports.
const clockTicks = 100

// cpuTicks reads utime+stime of pid.
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	return parseStatTicks(string(b))
}

// parseStatTicks takes utime and stime (fields 14 and 15) from a
// /proc/<pid>/stat line. The command name (field 2) is in parentheses and
// may hold spaces and parentheses, so fields are counted from the last ')'.
func parseStatTicks(stat string) (int64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("stat: no command field")
	}
	f := strings.Fields(stat[i+1:])
	// f[0] is field 3 (state): utime is field 14, f[11].
	if len(f) < 13 {
		return 0, fmt.Errorf("stat: %d fields after the command", len(f))
	}
	u, err := strconv.ParseInt(f[11], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("stat utime: %w", err)
	}
	s, err := strconv.ParseInt(f[12], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("stat stime: %w", err)
	}
	return u + s, nil
}

// cpuWindow measures named processes between start and end.
type cpuWindow struct {
	pids  map[string]int
	ticks map[string]int64
	at    time.Time
}

// startCPU reads the counters of pids now; names whose process cannot be
// read are left out.
func startCPU(pids map[string]int) *cpuWindow {
	w := &cpuWindow{pids: map[string]int{}, ticks: map[string]int64{}, at: time.Now()}
	for name, pid := range pids {
		if t, err := cpuTicks(pid); err == nil {
			w.pids[name], w.ticks[name] = pid, t
		}
	}
	return w
}

// cores is each process's CPU time since start in cores (1 = one core busy
// the whole window), rounded to 0.01.
func (w *cpuWindow) cores() map[string]float64 {
	secs := time.Since(w.at).Seconds()
	if len(w.pids) == 0 || secs <= 0 {
		return nil
	}
	out := map[string]float64{}
	total := 0.0
	for name, pid := range w.pids {
		t, err := cpuTicks(pid)
		if err != nil {
			continue
		}
		c := float64(t-w.ticks[name]) / clockTicks / secs
		out[name] = float64(int64(c*100+.5)) / 100
		total += c
	}
	out["total"] = float64(int64(total*100+.5)) / 100
	return out
}

// mysqlPID finds the process listening on the TCP address of a MySQL DSN
// (user@tcp(host:port)/db) among processes named mariadbd or mysqld; 0
// when it is not on this machine or cannot be told.
func mysqlPID(dsn string) int {
	_, rest, ok := strings.Cut(dsn, "@tcp(")
	if !ok {
		return 0
	}
	addr, _, ok := strings.Cut(rest, ")")
	if !ok {
		return 0
	}
	_, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return 0
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return 0
	}
	inodes := listenInodes(port)
	if len(inodes) == 0 {
		return 0
	}
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		comm, err := os.ReadFile(filepath.Join(p, "comm"))
		if err != nil {
			continue
		}
		if name := strings.TrimSpace(string(comm)); name != "mariadbd" && name != "mysqld" {
			continue
		}
		fds, _ := filepath.Glob(filepath.Join(p, "fd", "*"))
		for _, fd := range fds {
			link, err := os.Readlink(fd)
			if err != nil {
				continue
			}
			if ino, ok := strings.CutPrefix(link, "socket:["); ok && inodes[strings.TrimSuffix(ino, "]")] {
				pid, _ := strconv.Atoi(filepath.Base(p))
				return pid
			}
		}
	}
	return 0
}

// listenInodes are the socket inodes listening on port (IPv4 or IPv6).
func listenInodes(port int) map[string]bool {
	out := map[string]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for line := range strings.SplitSeq(string(b), "\n") {
			if ino, ok := listenInode(line, port); ok {
				out[ino] = true
			}
		}
	}
	return out
}

// listenInode parses one line of /proc/net/tcp: the inode of a socket in
// state LISTEN (0A) on port.
func listenInode(line string, port int) (string, bool) {
	f := strings.Fields(line)
	if len(f) < 10 || f[3] != "0A" {
		return "", false
	}
	_, hexPort, ok := strings.Cut(f[1], ":")
	if !ok {
		return "", false
	}
	p, err := strconv.ParseUint(hexPort, 16, 16)
	if err != nil || int(p) != port {
		return "", false
	}
	return f[9], true
}
