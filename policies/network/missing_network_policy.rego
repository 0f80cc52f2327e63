# What it does: flags workloads whose pods no NetworkPolicy of their namespace isolates for ingress:
#   no policy's podSelector selects the pod template labels, or the only ones that do are
#   egress-only (policyTypes: [Egress]). policyTypes is read as the API server defaults it (Ingress
#   always, Egress when the policy has egress rules), an empty podSelector selects every pod of the
#   namespace, and policies add up, so a namespace-wide default-deny covers every workload. Only
#   policies of the workload's own namespace count (objects without a namespace are in "default").
#   Pods with hostNetwork: true are not checked: NetworkPolicies do not apply to them. Nor are
#   namespaces where a network policy of another API applies (CiliumNetworkPolicy, Calico and
#   Antrea policies, AdminNetworkPolicy): it may isolate the pods, and this rule cannot read it.
# Why: a pod that no NetworkPolicy selects accepts connections from every pod of the cluster and
#   from anything that can reach the node network. One compromised pod anywhere can then reach it.
# Example:
#   # fails: the only policy selecting app=cart restricts egress
#   kind: NetworkPolicy
#   metadata: {name: cart-egress, namespace: shop}
#   spec:
#     podSelector: {matchLabels: {app: cart}}
#     policyTypes: [Egress]
#   # passes: a default-deny for the namespace, plus what cart must accept
#   kind: NetworkPolicy
#   metadata: {name: default-deny, namespace: shop}
#   spec:
#     podSelector: {}
#     policyTypes: [Ingress]
# Fix: add a default-deny NetworkPolicy to the namespace (podSelector: {}, policyTypes: [Ingress])
#   and a policy that allows the workload's expected callers.
package seaworthy.rules.network.missing_network_policy

import rego.v1

import data.seaworthy.lib.names

metadata := {
	"id": "missing-network-policy",
	"area": "network",
	"severity": "warning",
	"kinds": ["Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob", "Rollout"],
	"summary": "No NetworkPolicy isolates the workload's pods for ingress",
	"remediation": "Add a NetworkPolicy in the workload's namespace that selects its pods and allows only the traffic they need.",
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
	# An Argo Rollout with workloadRef: its pods are judged on the Deployment holding the template.
	not input.workload.template_from
	not host_network
	not isolated_by_another_api
	not isolated_for_ingress
	v := {
		"msg": sprintf("no NetworkPolicy in namespace %q isolates %s for ingress%s", [
			namespace,
			subject,
			egress_only_note,
		]),
		"path": array.concat(input.workload.pod_metadata_path, ["labels"]),
	}
}

# NetworkPolicies do not apply to pods in the node's network namespace.
host_network if input.workload.pod_spec.hostNetwork == true

isolated_by_another_api if count(input.related.namespace.other_network_policies) > 0

isolated_for_ingress if {
	some policy in input.workload.network_policies
	policy.ingress == true
}

subject := sprintf("Pod %q", [names.object_name(input.object)]) if input.workload.kind == "Pod"

subject := sprintf("the pods of %s %q", [input.workload.kind, names.object_name(input.object)]) if input.workload.kind != "Pod"

namespace := input.related.namespace.name

namespace := "default" if not input.related.namespace.name

egress_only := sort([policy.name |
	some policy in input.workload.network_policies
	policy.egress == true
])

egress_only_note := "" if count(egress_only) == 0

egress_only_note := sprintf(" (NetworkPolicy %q only restricts their egress)", [egress_only[0]]) if count(egress_only) == 1

egress_only_note := sprintf(" (NetworkPolicies %s only restrict their egress)", [concat(", ", [sprintf("%q", [n]) | some n in egress_only])]) if count(egress_only) > 1
