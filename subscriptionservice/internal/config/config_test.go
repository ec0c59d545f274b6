package config

import (
	"io"
	"strings"
	"testing"
)

func TestLoad(t *testing.T) {
	env := map[string]string{"REVIEWER_EMAILS": " Ada@Example.com, ,bob@example.com ", "HTTP_ADDR": "127.0.0.1:1"}
	c, err := Load([]string{"-grpc-addr", "127.0.0.1:2"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != "127.0.0.1:1" || c.GRPCAddr != "127.0.0.1:2" || c.MessageAddr != "127.0.0.1:9091" {
		t.Errorf("addresses %q %q %q", c.HTTPAddr, c.GRPCAddr, c.MessageAddr)
	}
	if strings.Join(c.ReviewerEmails, ",") != "ada@example.com,bob@example.com" {
		t.Errorf("reviewers %q", c.ReviewerEmails)
	}
	d := Default()
	if d.HTTPAddr != ":8082" || d.GRPCAddr != ":9093" || len(d.ReviewerEmails) != 0 {
		t.Errorf("defaults %+v", d)
	}
}

func TestLoadRefuses(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"bad reviewer":      {"REVIEWER_EMAILS": "Ada <ada@example.com>"},
		"bad public url":    {"PUBLIC_URL": "ftp://x"},
		"retry max < min":   {"PUSH_RETRY_MIN": "2m", "PUSH_RETRY_MAX": "1m"},
		"zero push timeout": {"PUSH_TIMEOUT": "0s"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Load(nil, func(k string) string { return env[k] }, io.Discard); err == nil {
				t.Error("accepted")
			}
		})
	}
}
