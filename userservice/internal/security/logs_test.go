package security_test

import (
	"crypto/rand"
	"path/filepath"
	"strings"
	"testing"

	"github.com/privateim/privateim/foundation/stacktest"
)

// The userservice binary logs its configuration when it starts, and the
// error it stops on. Its credentials are the secrets (JWT_SECRET,
// FILE_URL_SECRET, SMTP_PASSWORD, NATS_PASSWORD) and the user info of
// ES_URL and NATS_URL, which the startup line printed verbatim. Run as an
// operator would, with all of them set and Elasticsearch, then NATS,
// refusing the connection, the log shows none of them.
// docs/security.md, "Credentials in logs".
func TestCredentialsAreMaskedInTheLog(t *testing.T) {
	t.Parallel()
	dir, certs := stacktest.TempCerts(t)
	closed := stacktest.FreeAddr(t)
	secret := func(name string) string { return name + "-" + rand.Text() + rand.Text() }
	jwt, fileKey, smtp, natsPW, esPW, natsURLPW := secret("jwt"), secret("file"), secret("smtp"), secret("nats"), secret("es"), secret("natsurl")
	base := append([]string{
		"HTTP_ADDR=127.0.0.1:0", "GRPC_ADDR=127.0.0.1:0", "DATA_ADDR=" + closed, "MESSAGE_ADDR=",
		"JWT_SECRET=" + jwt, "FILE_URL_SECRET=" + fileKey,
		"SMTP_ADDR=" + closed, "SMTP_USER=mailer", "SMTP_PASSWORD=" + smtp,
		"UPLOAD_DIR=" + filepath.Join(dir, "uploads"), "SEARCH_DIR=" + filepath.Join(dir, "search"),
	}, certs.User.Env()...)
	all := []string{jwt, fileKey, smtp, natsPW, esPW, natsURLPW}

	t.Run("elasticsearch refuses", func(t *testing.T) {
		log := stacktest.StartupLog(t, "userservice", append(base,
			"ES_URL=http://elastic:"+esPW+"@"+closed, "NATS_URL=nats://"+closed, "NATS_USER=events", "NATS_PASSWORD="+natsPW))
		stacktest.NoSecretsLogged(t, log, all...)
		if !strings.Contains(log, `"es_url":"http://elastic:xxxxx@`) || !strings.Contains(log, "search index") {
			t.Errorf("ES_URL not shown masked, or no Elasticsearch error, in:\n%s", log)
		}
	})
	t.Run("nats refuses", func(t *testing.T) {
		log := stacktest.StartupLog(t, "userservice", append(base, "ES_URL=", "NATS_URL=nats://events:"+natsURLPW+"@"+closed))
		stacktest.NoSecretsLogged(t, log, all...)
		if !strings.Contains(log, `"nats_url":"nats://events:xxxxx@`) || !strings.Contains(log, "relation events") {
			t.Errorf("NATS_URL not shown masked, or no NATS error, in:\n%s", log)
		}
	})
}
