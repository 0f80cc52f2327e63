# Istio host names as the mesh resolves them, so a VirtualService's destination and a
# DestinationRule's host can be compared however each is written: `reviews` (a short name, in the
# namespace of the object that writes it), `reviews.shop`, `reviews.shop.svc`,
# `reviews.shop.svc.cluster.local`, or a name outside the cluster (`api.example.com`, kept whole).
#
# - service_host(host, namespace): [name, namespace] of a Kubernetes Service, or [host, ""].
# - destination_rules: every DestinationRule of data.inventory, as
#   {"name", "namespace", "host": service_host(...), "subsets": set of subset names}.
package seaworthy.lib.istio

import rego.v1

# One definition with `else`: a short name, a name in the cluster's own domain, anything else.
service_host(host, namespace) := [lower(host), namespace] if not contains(host, ".")
else := [parts[0], parts[1]] if {
	parts := split(lower(host), ".")
	concat(".", array.slice(parts, 2, count(parts))) in {"", "svc", "svc.cluster.local"}
} else := [lower(host), ""]

destination_rules contains rule if {
	some namespace, apis in data.inventory.namespace
	some api_version, kinds in apis
	startswith(api_version, "networking.istio.io/")
	some name, dr in kinds.DestinationRule
	is_string(dr.spec.host)
	rule := {
		"name": name,
		"namespace": namespace,
		"host": service_host(dr.spec.host, namespace),
		"subsets": {s.name | some s in object.get(dr.spec, "subsets", []); is_string(s.name)},
	}
}
