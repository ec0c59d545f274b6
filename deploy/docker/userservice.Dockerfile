# syntax=docker/dockerfile:1
# The userservice image: a static binary (CGO_ENABLED=0) on distroless static, run
# as the image's non-root user. Built from the repository root, the go.work
# workspace being the context:
#   docker build -f deploy/docker/userservice.Dockerfile -t privateim/userservice .
# No HEALTHCHECK: distroless has no shell; compose and Kubernetes probe
# GET /healthz and /readyz on 8080, gRPC health on 9092
# (grpc-health-probe, mutual TLS, is in the image for that).
# deploy/deploy_test.go checks this file (TestDockerfiles).
FROM golang:1.27.3-bookworm AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOTOOLCHAIN=local
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
	go build -trimpath -ldflags='-s -w' -o /out/bin/userservice ./userservice/cmd/userservice && \
	GOBIN=/out/bin go install -trimpath -ldflags='-s -w' github.com/grpc-ecosystem/grpc-health-probe@v0.4.63 && \
	mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/bin/ /usr/local/bin/
COPY --from=build --chown=65532:65532 /out/data /var/lib/privateim
WORKDIR /var/lib/privateim
# Where compose and Kubernetes mount the certificate, its key and the CA.
ENV TLS_CA=/etc/privateim/tls/ca.pem TLS_CERT=/etc/privateim/tls/cert.pem TLS_KEY=/etc/privateim/tls/key.pem \
	UPLOAD_DIR=/var/lib/privateim/uploads SEARCH_DIR=/var/lib/privateim/search
USER 65532:65532
EXPOSE 8080 9092
ENTRYPOINT ["/usr/local/bin/userservice"]
