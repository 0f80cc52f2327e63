# What it does: flags NetworkPolicy ingress rules that admit every source on the ports they list,
#   and only those: a rule with no `from` (missing, null or []), a peer ipBlock covering a whole
#   address family (0.0.0.0/0 or ::/0, without `except`), or a peer namespaceSelector: {} with no
#   podSelector or an empty one, limited by `ports` entries that all name a port. The message lists
#   the ports. A rule that opens every port (no `ports`, or an entry without a port) is
#   network-policy-allows-all, a warning; this is a notice because opening one named port to all
#   is often deliberate (a metrics port scraped from another namespace, a public 443) and the rest
#   of the pod stays isolated. Only policies that isolate ingress are checked.
# Why: the listed ports are reachable from every pod of the cluster and, through an ipBlock /0,
#   from outside it. A metrics or admin port open to all leaks internals or accepts commands from
#   anyone who reaches the network; naming the scraper or the clients closes it.
# Example:
#   # fails
#   spec:
#     podSelector: {matchLabels: {app: api}}
#     ingress:
#       - ports: [{port: 9090}]
#   # passes
#   spec:
#     podSelector: {matchLabels: {app: api}}
#     ingress:
#       - from:
#           - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}
#             podSelector: {matchLabels: {app.kubernetes.io/name: prometheus}}
#         ports: [{port: 9090}]
# Fix: list in the rule's `from` the pods, namespaces or address ranges that use the port (the
#   Prometheus pods for a metrics port).
package seaworthy.rules.network.network_policy_port_open_to_all

import data.seaworthy.lib.network
import rego.v1

import data.seaworthy.lib.values

metadata := {
	"id": "network-policy-port-open-to-all",
	"area": "network",
	"severity": "notice",
	"kinds": ["NetworkPolicy"],
	"summary": "NetworkPolicy ingress rule opens some ports to every source",
	"remediation": "Restrict the rule's from to the pods, namespaces or address ranges that use those ports.",
}

violations contains v if {
	network.kubernetes_policy(input.object)
	network.isolates("ingress")
	some i, rule in values.items(input.object.spec.ingress)
	not network.every_port(rule)
	some opening in network.open_peers(rule, "from", "every source")
	v := {
		"msg": sprintf("ingress rule %d allows traffic from %s %s", [i, opening.what, network.ports_text(rule)]),
		"path": array.concat(["spec", "ingress", i], opening.path),
	}
}
