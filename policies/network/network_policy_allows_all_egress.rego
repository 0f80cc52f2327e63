# What it does: flags NetworkPolicy egress rules that allow every destination: a rule with no `to`
#   (missing, null or []), a peer ipBlock covering a whole address family (0.0.0.0/0 or ::/0,
#   without `except`), or a peer namespaceSelector: {} with no podSelector or an empty one (every pod
#   of every namespace). A rule limited by `ports` is still flagged, and the message lists the
#   ports, except the usual DNS rule: every port it lists is 53 (UDP or TCP). Pods must reach a
#   resolver, whose address a peer often cannot name (node-local DNS caches, resolvers on the host
#   network), so "DNS to anywhere" is the norm; a rule that adds any other port is flagged. Only
#   policies that isolate egress are checked: policyTypes lists Egress, or is unset and the policy
#   has egress rules. Not flagged: podSelector: {} alone (the policy's own namespace), an ipBlock
#   /0 with `except`, and an empty peer ({}), which the API server rejects.
# Why: egress isolation is what keeps a compromised pod from reaching the internet, the cloud
#   metadata endpoint or other namespaces; a rule open to every destination gives that up, often
#   for more ports or peers than the workload needs.
# Example:
#   # fails
#   spec:
#     podSelector: {matchLabels: {app: api}}
#     policyTypes: [Egress]
#     egress:
#       - to: [{ipBlock: {cidr: 0.0.0.0/0}}]
#   # passes
#   spec:
#     podSelector: {matchLabels: {app: api}}
#     policyTypes: [Egress]
#     egress:
#       - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}},
#               podSelector: {matchLabels: {k8s-app: kube-dns}}}]
#         ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]
# Fix: list the pods, namespaces or address ranges the workload needs to reach in the rule's `to`,
#   with `except` for ranges it must not reach.
package seaworthy.rules.network.network_policy_allows_all_egress

import data.seaworthy.lib.network
import rego.v1

import data.seaworthy.lib.values

metadata := {
	"id": "network-policy-allows-all-egress",
	"area": "network",
	"severity": "notice",
	"kinds": ["NetworkPolicy"],
	"summary": "NetworkPolicy egress rule allows every destination",
	"remediation": "Restrict the rule's to to the pods, namespaces or address ranges the workload needs to reach.",
}

violations contains v if {
	network.kubernetes_policy(input.object)
	network.isolates("egress")
	some i, rule in values.items(input.object.spec.egress)
	not network.dns_only(rule)
	some opening in network.open_peers(rule, "to", "every destination")
	v := {
		"msg": sprintf("egress rule %d allows traffic to %s %s", [i, opening.what, network.ports_text(rule)]),
		"path": array.concat(["spec", "egress", i], opening.path),
	}
}
