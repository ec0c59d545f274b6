package security

import (
	"io"
	"testing"

	"github.com/privateim/privateim/foundation/stacktest"
	"github.com/privateim/privateim/foundation/tlsconfig"

	"github.com/privateim/privateim/dataservice/internal/config"
)

func load(getenv func(string) string) error {
	_, err := config.Load(nil, getenv, io.Discard)
	return err
}

// prodDSN is a deployment's own database account.
const prodDSN = "privateim:Vq7t2Lk9Xw3Rz8Pm@tcp(db.internal:3306)/privateim"

// A deployment started with ENV=production on the dev CA from certs/ (whose
// key sits in every developer's checkout) or with a TLS file missing does
// not start: the dataservice's configuration loading refuses it, naming the
// setting. docs/security.md, "Production mode".
func TestProductionModeRefusesTheDevCA(t *testing.T) {
	t.Parallel()
	stacktest.ProductionMode(t, tlsconfig.DataService, map[string]string{"MYSQL_DSN": prodDSN}, load)
}

// The default MYSQL_DSN is root without a password, a developer's MariaDB:
// a production DataService started without its own database credentials
// (MySQL, or MongoDB for the documents) would serve whoever can reach the
// database. docs/security.md, "Production mode".
func TestProductionModeRefusesDefaultDatabaseCredentials(t *testing.T) {
	t.Parallel()
	stacktest.ProductionSecrets(t, tlsconfig.DataService, map[string]string{"MYSQL_DSN": prodDSN}, load, []stacktest.ProductionCase{
		{Name: "the default root without a password", Env: map[string]string{"MYSQL_DSN": ""}, Want: []string{"MYSQL_DSN", "no password", "root@tcp(127.0.0.1:3306)/privateim"}},
		{Name: "another user without a password", Env: map[string]string{"MYSQL_DSN": "privateim@tcp(db.internal:3306)/privateim"}, Want: []string{"MYSQL_DSN", "no password"}},
		{Name: "a unix socket (the OS user) starts", Env: map[string]string{"MYSQL_DSN": "privateim@unix(/run/mysqld/mysqld.sock)/privateim"}},
		{Name: "mongo without credentials", Env: map[string]string{"DOC_BACKEND": "mongo", "MONGO_URI": "mongodb://mongo.internal:27017/?replicaSet=rs0"}, Want: []string{"MONGO_URI", "no user and password"}},
		{Name: "mongo with a user but no password", Env: map[string]string{"DOC_BACKEND": "mongo", "MONGO_URI": "mongodb://privateim@mongo.internal:27017/"}, Want: []string{"MONGO_URI"}},
		{Name: "mongo with its own credentials starts", Env: map[string]string{"DOC_BACKEND": "mongo", "MONGO_URI": "mongodb://privateim:Hq4Zt8Wn2Kc6Jr9B@mongo.internal:27017/?replicaSet=rs0"}},
		{Name: "mongo with x509 starts", Env: map[string]string{"DOC_BACKEND": "mongo", "MONGO_URI": "mongodb://mongo.internal:27017/?authMechanism=MONGODB-X509&tls=true"}},
		{Name: "development takes the default", Env: map[string]string{"ENV": "development", "MYSQL_DSN": ""}},
	})
}
