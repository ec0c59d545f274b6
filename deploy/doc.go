// Package deploy holds no code of its own: its tests check what ships
// PrivateIM, beside them in this directory (docs/operations.md, "Ship it"):
//
//   - docker/*.Dockerfile: one image per binary, checked statically (the
//     images cannot be built where the tests run: no registry);
//   - compose/: the whole stack on one Docker host;
//   - k8s/: the kustomize base and the production overlay, rendered with
//     sigs.k8s.io/kustomize/api and decoded strictly into the k8s.io/api
//     types, then held to the rules of TestKustomize and TestNetworkPolicies.
//
// Every environment variable set anywhere here must be a setting of its
// binary: the tests build the binaries and read their -h ("(env NAME)").
// The module imports no PrivateIM module (services never import each
// other, and deploy imports none of them either).
package deploy
