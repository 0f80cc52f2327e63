# What it does: flags a namespace that runs workloads but has no default-deny NetworkPolicy: no
#   policy with an empty podSelector ({}, or none at all) that isolates ingress (and, with the param
#   `egress: true`, egress too). policyTypes is read as the API server defaults it. It is reported
#   once per namespace: on the Namespace object when the run declares it, otherwise on the
#   namespace's first workload. A namespace without workloads in the run is not checked, nor one
#   where a network policy of another API applies (Cilium, Calico, Antrea, AdminNetworkPolicy),
#   which may be its default deny. A policy whose rules admit every peer does not count as one.
# Why: without a default-deny, every new workload starts open to the whole cluster until someone
#   writes a policy for it; with one, traffic a policy does not allow is refused, and a missing
#   allow-rule shows up at once as a failing connection instead of an unnoticed hole.
# Example:
#   # fails: the namespace's only policy selects app=cart
#   kind: NetworkPolicy
#   metadata: {name: cart, namespace: shop}
#   spec:
#     podSelector: {matchLabels: {app: cart}}
#     ingress: [{from: [{podSelector: {matchLabels: {app: web}}}]}]
#   # passes
#   kind: NetworkPolicy
#   metadata: {name: default-deny, namespace: shop}
#   spec:
#     podSelector: {}
#     policyTypes: [Ingress, Egress]
# Fix: add a NetworkPolicy with podSelector: {} and policyTypes: [Ingress] (and Egress) to the
#   namespace, then allow each workload's traffic with its own policy.
package seaworthy.rules.network.missing_default_deny

import rego.v1

metadata := {
	"id": "missing-default-deny",
	"area": "network",
	"severity": "notice",
	"kinds": ["Namespace", "Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob", "Rollout"],
	"summary": "Namespace has no default-deny NetworkPolicy",
	"remediation": "Add a NetworkPolicy with an empty podSelector that isolates ingress (and egress) to the namespace.",
	"params": {"egress": false},
	"scope": "related",
	"reads": [
		"networking.k8s.io/v1/NetworkPolicy",
		"cilium.io/v2/CiliumNetworkPolicy",
		"cilium.io/v2/CiliumClusterwideNetworkPolicy",
		"projectcalico.org/v3/NetworkPolicy",
		"projectcalico.org/v3/GlobalNetworkPolicy",
		"crd.projectcalico.org/v1/NetworkPolicy",
		"crd.projectcalico.org/v1/GlobalNetworkPolicy",
		"crd.antrea.io/v1beta1/NetworkPolicy",
		"crd.antrea.io/v1beta1/ClusterNetworkPolicy",
		"policy.networking.k8s.io/v1alpha1/AdminNetworkPolicy",
		"policy.networking.k8s.io/v1alpha1/BaselineAdminNetworkPolicy",
	],
}

violations contains v if {
	ns := input.related.namespace
	ns.workloads > 0
	count(ns.other_network_policies) == 0
	missing := [direction |
		some direction in directions
		count(ns.default_deny[direction]) == 0
	]
	count(missing) > 0
	some path in report_here
	v := {
		"msg": sprintf("namespace %q has no default-deny NetworkPolicy for %s%s", [
			ns.name,
			concat(" or ", missing),
			where,
		]),
		"path": path,
	}
}

directions := ["ingress", "egress"] if input.params.egress == true

directions := ["ingress"] if not input.params.egress == true

# On the Namespace object itself.
report_here contains ["metadata", "name"] if {
	input.object.kind == "Namespace"
	input.object.apiVersion == "v1"
}

# Else on the namespace's first workload, so the finding appears once.
report_here contains ["metadata", "namespace"] if {
	input.related.namespace.declared == false
	first := input.related.namespace.first_workload
	first.kind == input.workload.kind
	first.name == input.workload.name
	first.api_version == input.workload.api_version
}

where := "" if input.object.kind == "Namespace"

where := " (reported on its first workload)" if input.object.kind != "Namespace"
