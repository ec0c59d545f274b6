package security

import (
	"crypto/rand"
	"os"
	"strings"
	"testing"

	"github.com/privateim/privateim/foundation/stacktest"
)

// The dataservice binary logs its configuration when it starts, and the
// error it stops on; MYSQL_DSN and MONGO_URI carry the database passwords.
// Run as an operator would, with both set, the log shows them masked, on
// the startup line and in the errors of MySQL and of MongoDB refusing
// the connection. docs/security.md, "Credentials in logs".
func TestDatabaseCredentialsAreMaskedInTheLog(t *testing.T) {
	t.Parallel()
	_, certs := stacktest.TempCerts(t)
	mysqlPW, mongoPW := "my-"+rand.Text(), "mongo-"+rand.Text()
	closed := stacktest.FreeAddr(t)
	mongoURI := "MONGO_URI=mongodb://privateim:" + mongoPW + "@" + closed + "/?serverSelectionTimeoutMS=300"
	base := append([]string{"GRPC_ADDR=127.0.0.1:0", "DOC_BACKEND=mongo", mongoURI, "HEALTH_INTERVAL=0"}, certs.Data.Env()...)

	t.Run("mysql refuses", func(t *testing.T) {
		log := stacktest.StartupLog(t, "dataservice", append(base, "MYSQL_DSN=privateim:"+mysqlPW+"@tcp("+closed+")/privateim"))
		stacktest.NoSecretsLogged(t, log, mysqlPW, mongoPW)
		if !strings.Contains(log, "open mysql privateim:xxxxx@tcp(") {
			t.Errorf("no masked MySQL error in:\n%s", log)
		}
	})
	t.Run("mongo refuses", func(t *testing.T) {
		server := os.Getenv("MYSQL_DSN")
		if server == "" {
			server = "root@tcp(127.0.0.1:3306)/"
		}
		db := "logs_" + strings.ToLower(rand.Text()[:10])
		dsn, err := stacktest.WithDatabase(server, db)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = stacktest.DropDatabase(server, db) })
		log := stacktest.StartupLog(t, "dataservice", append(base, "MYSQL_DSN="+dsn))
		stacktest.NoSecretsLogged(t, log, mongoPW)
		if !strings.Contains(log, "open mongo mongodb://privateim:xxxxx@") {
			t.Errorf("no masked MongoDB error in:\n%s", log)
		}
	})
}
