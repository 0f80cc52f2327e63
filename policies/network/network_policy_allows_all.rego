# What it does: flags NetworkPolicy ingress rules that admit every source on every port: a rule with
#   no `from` (missing, null or []), a peer ipBlock covering a whole address family (0.0.0.0/0 or
#   ::/0, without `except`), or a peer namespaceSelector: {} with no podSelector or an empty one
#   (every pod of every namespace), when the rule lists no `ports` or a ports entry without a
#   number (every port of a protocol). A rule that opens only the ports it lists (a metrics port, a
#   public 443) is a deliberate, narrower opening: network-policy-port-open-to-all reports it, at
#   notice. Only policies that isolate ingress are checked
#   (policyTypes as the API server defaults it); ingress rules of an egress-only policy are ignored.
#   Not flagged: podSelector: {} alone (every pod of the policy's own namespace), an ipBlock /0 with
#   `except`, and an empty peer ({}), which the API server rejects.
# Why: a rule that admits everything undoes the isolation the policy sets up for the pods it
#   selects, usually without anyone noticing, since the policy looks restrictive at a glance.
# Example:
#   # fails
#   spec:
#     podSelector: {matchLabels: {app: api}}
#     ingress:
#       - from: [{namespaceSelector: {}}]
#   # passes
#   spec:
#     podSelector: {matchLabels: {app: api}}
#     ingress:
#       - from: [{podSelector: {matchLabels: {app: web}}}]
#         ports: [{port: 8080}]
# Fix: list the pods, namespaces or address ranges that need to connect in the rule's `from`.
package seaworthy.rules.network.network_policy_allows_all

import data.seaworthy.lib.network
import rego.v1

import data.seaworthy.lib.values

metadata := {
	"id": "network-policy-allows-all",
	"area": "network",
	"severity": "warning",
	"kinds": ["NetworkPolicy"],
	"summary": "NetworkPolicy ingress rule allows every source on every port",
	"remediation": "Restrict the rule's from to the pods, namespaces or address ranges that need access.",
}

violations contains v if {
	network.kubernetes_policy(input.object)
	network.isolates("ingress")
	some i, rule in values.items(input.object.spec.ingress)
	network.every_port(rule)
	some opening in network.open_peers(rule, "from", "every source")
	v := {
		"msg": sprintf("ingress rule %d allows traffic from %s %s", [i, opening.what, network.ports_text(rule)]),
		"path": array.concat(["spec", "ingress", i], opening.path),
	}
}
