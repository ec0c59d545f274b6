package deploy

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// architecture is every connection between the workloads of deploy/k8s,
// "caller -> callee:port", as README.md's diagram draws them: the message
// nodes check tokens with the userservice (Auth/CheckToken); the
// subscriptionservice calls the userservice (Auth, Directory) and the
// message nodes (Broadcast); the userservice calls the message nodes
// (DeliverGroup, DeliverUser, MarkRead) and publishes relation events on
// NATS; the message nodes talk to each other over NATS only; only the
// DataService reaches a database (outside the namespace).
var architecture = []string{
	"messageservice -> dataservice:9090",
	"messageservice -> nats:4222",
	"messageservice -> userservice:9092",
	"nats -> nats:6222",
	"subscriptionservice -> dataservice:9090",
	"subscriptionservice -> messageservice:9091",
	"subscriptionservice -> userservice:9092",
	"userservice -> dataservice:9090",
	"userservice -> messageservice:9091",
	"userservice -> nats:4222",
}

// The NetworkPolicies allow exactly the arrows of the architecture between
// the namespace's workloads (a connection needs the caller's egress and
// the callee's ingress), and every pod is covered by a deny-all default.
func TestNetworkPolicies(t *testing.T) {
	fsys, dir := tree(t)
	for _, kz := range []string{"base", "overlays/production"} {
		t.Run(kz, func(t *testing.T) {
			r := render(t, fsys, filepath.Join(dir, kz))
			var got []string
			for _, src := range r.Workloads {
				for _, dst := range r.Workloads {
					for _, c := range dst.Pod.Spec.Containers {
						for _, p := range c.Ports {
							if allowed(r.Policies, networkingv1.PolicyTypeEgress, src, dst, p) && allowed(r.Policies, networkingv1.PolicyTypeIngress, dst, src, p) {
								got = append(got, fmt.Sprintf("%s -> %s:%d", src.Name, dst.Name, p.ContainerPort))
							}
						}
					}
				}
			}
			slices.Sort(got)
			for _, a := range got {
				if !slices.Contains(architecture, a) {
					t.Errorf("allowed, not in the architecture: %s", a)
				}
			}
			for _, a := range architecture {
				if !slices.Contains(got, a) {
					t.Errorf("in the architecture, not allowed: %s", a)
				}
			}
		})
	}
}

// allowed reports whether the policies selecting self let traffic of type
// typ (Ingress: from peer; Egress: to peer) through on port of the callee
// (self for Ingress, peer for Egress). Both workloads are in the same
// namespace; a pod no policy of typ selects is not isolated.
func allowed(policies []networkingv1.NetworkPolicy, typ networkingv1.PolicyType, self, peer workload, port corev1.ContainerPort) bool {
	isolated := false
	for _, p := range policies {
		if !slices.Contains(p.Spec.PolicyTypes, typ) || !selects(&p.Spec.PodSelector, self.Pod.Labels) {
			continue
		}
		isolated = true
		if typ == networkingv1.PolicyTypeIngress {
			for _, rule := range p.Spec.Ingress {
				if peersMatch(rule.From, peer) && portsMatch(rule.Ports, port) {
					return true
				}
			}
		} else {
			for _, rule := range p.Spec.Egress {
				if peersMatch(rule.To, peer) && portsMatch(rule.Ports, port) {
					return true
				}
			}
		}
	}
	return !isolated
}

func selects(s *metav1.LabelSelector, l map[string]string) bool {
	sel, err := metav1.LabelSelectorAsSelector(s)
	return err == nil && sel.Matches(labels.Set(l))
}

// peersMatch: no peers is everyone; a pod selector alone is this
// namespace; a namespace selector names other namespaces (the
// overlays label none of theirs to match); an ipBlock is outside.
func peersMatch(peers []networkingv1.NetworkPolicyPeer, w workload) bool {
	if len(peers) == 0 {
		return true
	}
	for _, p := range peers {
		if p.PodSelector != nil && p.NamespaceSelector == nil && selects(p.PodSelector, w.Pod.Labels) {
			return true
		}
	}
	return false
}

func portsMatch(ports []networkingv1.NetworkPolicyPort, p corev1.ContainerPort) bool {
	if len(ports) == 0 {
		return true
	}
	for _, np := range ports {
		proto := corev1.ProtocolTCP
		if np.Protocol != nil {
			proto = *np.Protocol
		}
		cproto := p.Protocol
		if cproto == "" {
			cproto = corev1.ProtocolTCP
		}
		if proto != cproto {
			continue
		}
		if np.Port == nil || np.Port.String() == p.Name || np.Port.IntValue() == int(p.ContainerPort) {
			return true
		}
	}
	return false
}
