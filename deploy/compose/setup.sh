#!/usr/bin/env bash
# Prepares deploy/compose for `docker compose up`: the dev PKI in certs/
# (tools/certgen, valid for the compose host names; NATS servers get a
# certificate of their own) and .env with random passwords, each kept when
# already there. Dev only: the CA is certgen's dev CA, which ENV=production
# refuses, and the keys are made readable by the images' non-root user.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

hosts=localhost,127.0.0.1,dataservice,userservice,messageservice,subscriptionservice
hosts+=,messageservice-1,messageservice-2,messageservice-3,nats-1,nats-2,nats-3
(cd "$root" && go run ./tools/certgen -dir "$here/certs" -hosts "$hosts" -extra nats)
# The containers run as uid 65532 and read the bind-mounted keys.
chmod 0644 "$here"/certs/*-key.pem

if [ ! -f "$here/.env" ]; then
	secret() { head -c 32 /dev/urandom | base64 | tr -d '/+=' | head -c 40; }
	{
		echo "MYSQL_ROOT_PASSWORD=$(secret)"
		echo "JWT_SECRET=$(secret)"
		echo "FILE_URL_SECRET=$(secret)"
		echo "NATS_NODE_PASSWORD=$(secret)"
		echo "NATS_EVENTS_PASSWORD=$(secret)"
		echo "S3_ROOT_PASSWORD=$(secret)"
	} >"$here/.env"
	chmod 0600 "$here/.env"
	echo "setup: wrote $here/.env"
fi
echo "setup: done; docker compose -f $here/compose.yaml up --build"
