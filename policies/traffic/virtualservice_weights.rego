# What it does: flags a VirtualService route (http, tcp or tls) that splits traffic across several
#   destinations with weights that do not add up to 100 (a weight left out counts as 0). Routes
#   with one destination, or with no weights at all, are not judged.
# Why: the weights are the share of traffic each destination gets; a sum other than 100 is a
#   canary step edited on one side only (90/20), and depending on the Istio version the route is
#   rejected or the shares are not the ones written.
# Example:
#   # fails
#   route:
#     - destination: {host: web, subset: v1}
#       weight: 90
#     - destination: {host: web, subset: v2}
#       weight: 20
#   # passes
#   route:
#     - destination: {host: web, subset: v1}
#       weight: 90
#     - destination: {host: web, subset: v2}
#       weight: 10
# Fix: make the weights of each route add up to 100.
package seaworthy.rules.traffic.virtualservice_weights

import rego.v1

import data.seaworthy.lib.names
import data.seaworthy.lib.values

metadata := {
	"id": "virtualservice-weights",
	"area": "traffic",
	"severity": "warning",
	"kinds": ["VirtualService"],
	"summary": "VirtualService route weights do not add up to 100",
	"remediation": "Make the weights of the destinations of each route add up to 100.",
}

violations contains v if {
	startswith(input.object.apiVersion, "networking.istio.io/")
	some protocol in ["http", "tcp", "tls"]
	some i, rule in values.items(input.object.spec[protocol])
	route := values.items(rule.route)
	count(route) > 1
	weights := [object.get(d, "weight", 0) | some d in route]
	every w in weights {
		is_number(w)
	}
	some weighted in route
	weighted.weight
	total := sum(weights)
	total != 100
	v := {
		"msg": sprintf("VirtualService %q %s route %d sends %s: the weights add up to %v, not 100", [
			names.object_name(input.object), protocol, i, concat(", ", [share(d) | some d in route]), total,
		]),
		"path": ["spec", protocol, i, "route"],
	}
}

share(d) := sprintf("%v to %s", [object.get(d, "weight", 0), destination(d.destination)])

destination(dest) := sprintf("%s/%s", [dest.host, dest.subset]) if is_string(dest.subset)

destination(dest) := sprintf("%v", [dest.host]) if not is_string(dest.subset)
