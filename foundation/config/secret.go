package config

import "fmt"

// MinSecretSymbols is how many different bytes a production secret must
// hold at least: a random secret in hex has up to 16, in base64 up to 64;
// a placeholder ("changeme" repeated, one letter forty times) has fewer.
const MinSecretSymbols = 8

// ProductionSecret checks a secret a production deployment must set itself
// (ENV=production): present, at least minLen bytes, and not a placeholder
// (fewer than MinSecretSymbols different bytes). name is the setting's
// flag and variable as errors name them, e.g. "jwt-secret (JWT_SECRET)".
// The error never shows the value.
func ProductionSecret(name, v string, minLen int) error {
	if v == "" {
		return fmt.Errorf("%s: required in production (a deployment's own random secret, at least %d bytes)", name, minLen)
	}
	if len(v) < minLen {
		return fmt.Errorf("%s: at least %d bytes in production, got %d", name, minLen, len(v))
	}
	var seen [256]bool
	n := 0
	for i := range len(v) {
		if !seen[v[i]] {
			seen[v[i]] = true
			n++
		}
	}
	if n < MinSecretSymbols {
		return fmt.Errorf("%s: looks like a placeholder (%d different bytes, want at least %d): use a random secret, e.g. openssl rand -base64 48", name, n, MinSecretSymbols)
	}
	return nil
}
