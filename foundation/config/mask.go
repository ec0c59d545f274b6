package config

import "strings"

// Mask hides the credentials of a URL or a go-sql-driver DSN so that s can
// be logged or shown in an error:
//
//	nats://user:pass@host:4222        -> nats://user:xxxxx@host:4222
//	app:pass@tcp(db:3306)/privateim   -> app:xxxxx@tcp(db:3306)/privateim
//	nats://token@host:4222            -> nats:xxxxx@host:4222
//	https://es:9200/?api_token=t      -> https://es:9200/?api_token=xxxxx
//
// It reads s as text rather than parsing it, because a value that does not
// parse must not leak either: the password runs from the first colon of the
// user info to the LAST @ (passwords may hold @, : and /), so an @ later in
// a path masks more than needed, never less. A string without @ or
// credential-named query parameters comes back unchanged.
func Mask(s string) string {
	at := strings.LastIndex(s, "@")
	if at < 0 {
		return maskParams(s)
	}
	head, tail := s[:at], s[at:]
	scheme, info, isURL := cutScheme(head)
	switch user, _, hasPass := strings.Cut(info, ":"); {
	case isURL && hasPass:
		head = scheme + "://" + user + ":" + Masked
	case isURL:
		// Only a user: a token (NATS takes one there), or, read as a DSN,
		// the user "scheme" with the password "//info". Either way it
		// goes, and the // with it.
		head = scheme + ":" + Masked
	default:
		if user, _, hasPass := strings.Cut(head, ":"); hasPass {
			head = user + ":" + Masked
		}
	}
	return head + maskParams(tail)
}

// cutScheme splits "scheme://rest" when head starts with a URL scheme.
func cutScheme(head string) (scheme, rest string, ok bool) {
	scheme, rest, ok = strings.Cut(head, "://")
	if !ok || scheme == "" {
		return "", head, false
	}
	for i, r := range scheme {
		letter := 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'
		if !letter && (i == 0 || !('0' <= r && r <= '9' || r == '+' || r == '-' || r == '.')) {
			return "", head, false
		}
	}
	return scheme, rest, true
}

// maskParams masks the values of query parameters whose name says they are
// a credential (some drivers take the password as an option).
func maskParams(s string) string {
	base, query, ok := strings.Cut(s, "?")
	if !ok {
		return s
	}
	params := strings.Split(query, "&")
	for i, p := range params {
		name, _, hasValue := strings.Cut(p, "=")
		if hasValue && credentialName(name) {
			params[i] = name + "=" + Masked
		}
	}
	return base + "?" + strings.Join(params, "&")
}

func credentialName(name string) bool {
	name = strings.ToLower(name)
	for _, w := range []string{"pass", "secret", "token", "key"} {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}
