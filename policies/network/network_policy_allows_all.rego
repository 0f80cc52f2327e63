# What it does: flags NetworkPolicy ingress rules that admit every source: a rule with no `from`
#   (missing, null or []), a peer ipBlock covering a whole address family (0.0.0.0/0 or ::/0,
#   without `except`), or a peer namespaceSelector: {} with no podSelector or an empty one (every pod
#   of every namespace). A rule limited by `ports` is still flagged: those ports are open to
#   everyone, and the message lists them. Only policies that isolate ingress are checked
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
#       - ports: [{port: 8080}]
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

metadata := {
	"id": "network-policy-allows-all",
	"area": "network",
	"severity": "warning",
	"kinds": ["NetworkPolicy"],
	"summary": "NetworkPolicy ingress rule allows every source",
	"remediation": "Restrict the rule's from to the pods, namespaces or address ranges that need access.",
}

violations contains v if {
	network.kubernetes_policy(input.object)
	network.isolates("ingress")
	some i, rule in input.object.spec.ingress
	some opening in network.open_peers(rule, "from", "every source")
	v := {
		"msg": sprintf("ingress rule %d allows traffic from %s %s", [i, opening.what, network.ports_text(rule)]),
		"path": array.concat(["spec", "ingress", i], opening.path),
	}
}
