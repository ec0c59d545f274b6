package config

import (
	"strings"
	"testing"
)

func TestMask(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{":9090", ":9090"},
		{"127.0.0.1:9090", "127.0.0.1:9090"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"certs/server-key.pem", "certs/server-key.pem"},
		{"PrivateIM <no-reply@privateim.localhost>", "PrivateIM <no-reply@privateim.localhost>"},
		{"ada@example.com,bob@example.com", "ada@example.com,bob@example.com"},
		{"root@tcp(127.0.0.1:3306)/privateim", "root@tcp(127.0.0.1:3306)/privateim"},
		{"app:s3cretpw@tcp(db:3306)/privateim", "app:xxxxx@tcp(db:3306)/privateim"},
		{"app:s3cr@t:pw/x@tcp(db:3306)/privateim?parseTime=true", "app:xxxxx@tcp(db:3306)/privateim?parseTime=true"},
		{"u:secret@tcp(h:1)/", "u:xxxxx@tcp(h:1)/"},
		{"app:pw@/privateim", "app:xxxxx@/privateim"},
		{"nats://user:pass@nats:4222", "nats://user:xxxxx@nats:4222"},
		{"https://elastic:changeme@es:9200", "https://elastic:xxxxx@es:9200"},
		{"mongodb://bob:hunter2xyz@mongo:27017/?authSource=admin", "mongodb://bob:xxxxx@mongo:27017/?authSource=admin"},
		{"mongodb://bob:p@ss:w/rd@mongo:27017/", "mongodb://bob:xxxxx@mongo:27017/"},
		{"nats://s3cr3ttoken@nats:4222", "nats:xxxxx@nats:4222"},
		{"http://secret@tcp(h:1)/db", "http:xxxxx@tcp(h:1)/db"},
		{"https://es:9200/?api_token=abc&pretty=1", "https://es:9200/?api_token=xxxxx&pretty=1"},
		{"root@tcp(h:1)/db?password=abc", "root@tcp(h:1)/db?password=xxxxx"},
		{"nats://127.0.0.1:4222", "nats://127.0.0.1:4222"},
	} {
		if got := Mask(tc.in); got != tc.want {
			t.Errorf("Mask(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzMask checks that the password of a URL or DSN built around any user
// and password never comes back, whatever else the string holds.
func FuzzMask(f *testing.F) {
	for _, s := range [][3]string{
		{"app", "s3cretpw", "tcp(db:3306)/privateim"},
		{"bob", "p@ss:w/rd", "mongo:27017/?authSource=admin"},
		{"http", "//secret", "tcp(h:1)/db"},
		{"u", "a://b", "h"},
		{"", "pw", "h/x?password=y"},
		{"A", "//", ":@"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, user, pass, rest string) {
		if pass == "" || strings.ContainsAny(user, ":@") {
			t.Skip() // no password, or the user would end before the one given
		}
		for i, s := range []string{
			"nats://" + user + ":" + pass + "@" + rest, // a URL
			"mysql+tcp://" + user + ":" + pass + "@" + rest,
			user + ":" + pass + "@" + rest, // a DSN
		} {
			if _, _, isURL := cutScheme(s); i == 2 && isURL {
				// "http://u:@h" is both the URL of user u and the DSN of user
				// http, password //u:. Mask reads it as a URL.
				continue
			}
			skeleton := strings.Replace(s, pass, Masked, 1)
			if strings.Contains(skeleton, pass) || strings.Contains(Masked, pass) {
				continue // the password also stands outside its place: can't tell
			}
			if got := Mask(s); strings.Contains(got, pass) {
				t.Errorf("Mask(%q) = %q shows the password %q", s, got, pass)
			}
		}
	})
}
