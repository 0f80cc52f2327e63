# What it does: flags a VirtualService route destination that names a subset no DestinationRule
#   for its host defines, naming the DestinationRule and the subsets it has; or, when no
#   DestinationRule of the run is for that host, the subset with nothing to define it. Hosts are
#   compared as the mesh resolves them (`web`, `web.shop`, `web.shop.svc.cluster.local`).
#   Lint only: in a cluster the DestinationRule may be applied just after.
# Why: Envoy has no cluster for an undefined subset: every request the route sends there fails
#   with 503 (no route / NR), and a canary split sends that share of production traffic to it.
# Example:
#   # fails: DestinationRule web defines stable and canary
#   route:
#     - destination: {host: web, subset: v2}
#   # passes
#   route:
#     - destination: {host: web, subset: canary}
# Fix: define the subset in the DestinationRule for the host (with the pod labels of that
#   version), or route to a subset it defines.
package seaworthy.rules.traffic.virtualservice_subset_missing

import rego.v1

import data.seaworthy.lib.istio
import data.seaworthy.lib.names
import data.seaworthy.lib.values

metadata := {
	"id": "virtualservice-subset-missing",
	"area": "traffic",
	"severity": "warning",
	"kinds": ["VirtualService"],
	# content: The DestinationRules of data.inventory, whose subsets it reads.
	"content": ["VirtualService", "DestinationRule"],
	"summary": "VirtualService routes to a subset no DestinationRule defines",
	"remediation": "Define the subset in the DestinationRule for the host, or route to a subset it defines.",
	"scope": "complete",
}

namespace := input.related.namespace.name

violations contains v if {
	startswith(input.object.apiVersion, "networking.istio.io/")
	some protocol in ["http", "tcp", "tls"]
	some i, rule in values.items(input.object.spec[protocol])
	some j, d in values.items(rule.route)
	is_string(d.destination.host)
	subset := d.destination.subset
	is_string(subset)
	host := istio.service_host(d.destination.host, namespace)
	# Tested, not only bound: the RVM does not end a body on a binding of an undefined value, and
	# the comprehension below would then be empty.
	is_array(host)
	# By its full path: through the `istio` import, a rule (not a function) is looked up in the
	# package's whole document, every rule of it evaluated.
	rules := [r | some r in data.seaworthy.lib.istio.destination_rules; r.host == host]
	not defined(rules, subset)
	v := {
		"msg": sprintf("VirtualService %q routes to subset %q of host %q, %s", [
			names.object_name(input.object), subset, d.destination.host, missing_text(rules),
		]),
		"path": ["spec", protocol, i, "route", j, "destination", "subset"],
	}
}

defined(rules, subset) if {
	some r in rules
	subset in r.subsets
}

missing_text(rules) := "but no DestinationRule in the run is for that host, so the subset is undefined" if count(rules) == 0

missing_text(rules) := sprintf("which DestinationRule %s does not define (it has: %s)", [
	concat(", ", sort([sprintf("%q", [r.name]) | some r in rules])),
	subsets_text(rules),
]) if count(rules) > 0

subsets_text(rules) := "no subsets" if count({s | some r in rules; some s in r.subsets}) == 0

subsets_text(rules) := concat(", ", sort({s | some r in rules; some s in r.subsets})) if count({s | some r in rules; some s in r.subsets}) > 0
