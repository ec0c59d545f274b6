package security

import (
	"crypto/rand"
	"strings"
	"testing"

	"github.com/privateim/privateim/foundation/stacktest"
)

// The messageservice binary logs its configuration when it starts, and the
// error it stops on. Its credentials are NATS_PASSWORD,
// NATS_EVENTS_PASSWORD and the user info of NATS_URL. Run as an operator
// would, once on an external NATS that refuses the connection and once
// with the embedded server and both passwords set, the log shows none of
// them. docs/security.md, "Credentials in logs".
func TestNATSCredentialsAreMaskedInTheLog(t *testing.T) {
	t.Parallel()
	_, certs := stacktest.TempCerts(t)
	closed := stacktest.FreeAddr(t)
	urlPW, nodePW, eventsPW := "url-"+rand.Text(), "node-"+rand.Text(), "events-"+rand.Text()
	base := append([]string{"HTTP_ADDR=127.0.0.1:0", "GRPC_ADDR=127.0.0.1:0", "DATA_ADDR=" + closed, "USER_ADDR=" + closed, "NODE_ID=logs-test"}, certs.Message.Env()...)

	t.Run("external nats refuses", func(t *testing.T) {
		log := stacktest.StartupLog(t, "messageservice", append(base, "NATS_URL=nats://node:"+urlPW+"@"+closed))
		stacktest.NoSecretsLogged(t, log, urlPW, nodePW, eventsPW)
		if !strings.Contains(log, `"nats_url":"nats://node:xxxxx@`) || !strings.Contains(log, `"level":"ERROR"`) {
			t.Errorf("NATS_URL not shown masked, or no NATS error, in:\n%s", log)
		}
	})
	t.Run("embedded nats", func(t *testing.T) {
		log := stacktest.StartupLog(t, "messageservice", append(base, "NATS_URL=", "NATS_LISTEN="+stacktest.FreeAddr(t),
			"NATS_USER=node", "NATS_PASSWORD="+nodePW, "NATS_EVENTS_USER=userservice", "NATS_EVENTS_PASSWORD="+eventsPW))
		stacktest.NoSecretsLogged(t, log, urlPW, nodePW, eventsPW)
		if !strings.Contains(log, `"msg":"listening"`) || !strings.Contains(log, `"nats_password":"xxxxx"`) {
			t.Errorf("the node did not start, or NATS_PASSWORD is not shown masked, in:\n%s", log)
		}
	})
}
