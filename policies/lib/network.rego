# NetworkPolicy semantics shared by the network rules that read a policy object itself (the
# relations between policies and workloads are worked out in Rust, see src/context.rs).
#
# - policy_types: policyTypes as the API server defaults it (SetDefaults_NetworkPolicySpec): when
#   it is unset, null or EMPTY, Ingress, plus Egress when the policy has at least one egress rule.
# - open_peers: the ways one ingress or egress rule lets every source (or destination) through.
package seaworthy.lib.network

import rego.v1

# True for a NetworkPolicy of the Kubernetes API (not Calico's or another CRD of the same kind,
# whose schema differs).
kubernetes_policy(object) if {
	object.kind == "NetworkPolicy"
	startswith(object.apiVersion, "networking.k8s.io/")
}

# Does the policy under review isolate the pods it selects for `direction` ("ingress" or
# "egress")? policyTypes is defaulted as the API server does (Ingress always, Egress when the
# policy has egress rules) once, in Rust, and given as input.related.isolates.
isolates(direction) if input.related.isolates[direction] == true

non_empty_array(value) if {
	is_array(value)
	count(value) > 0
}

# Every way a rule (an element of spec.ingress or spec.egress) lets everything through, as
# {"path": [path below the rule], "what": "..."}. `key` is "from" for ingress, "to" for egress;
# `everything` names what a rule without peers allows ("every source", "every destination").
#
# - No peers (the key missing, null or []): every pod of every namespace and every address.
# - An ipBlock of a whole address family (a /0 prefix) without `except`.
# - namespaceSelector: {} with no podSelector or an empty one: every pod of every namespace.
# An empty peer ({}) is not here: the API server rejects it ("must specify a peer").
open_peers(rule, key, everything) := [{"path": no_peers_path(rule, key), "what": sprintf("%s (no %q peers)", [everything, key])}] if {
	not non_empty_array(rule[key])
}

open_peers(rule, key, _) := [opening |
	some j, peer in rule[key]
	some opening in peer_openings(peer, [key, j])
] if non_empty_array(rule[key])

no_peers_path(rule, key) := [key] if is_array(rule[key])

no_peers_path(rule, key) := [key] if rule[key] == null

no_peers_path(rule, key) := [] if not has_key(rule, key)

has_key(value, key) if {
	is_object(value)
	key in object.keys(value)
}

peer_openings(peer, base) := [opening |
	some opening in array.concat(ip_openings(peer, base), namespace_openings(peer, base))
]

ip_openings(peer, base) := [{
	"path": array.concat(base, ["ipBlock", "cidr"]),
	"what": sprintf("every %s address (ipBlock %s)", [family(cidr), cidr]),
}] if {
	cidr := peer.ipBlock.cidr
	is_string(cidr)
	endswith(cidr, "/0")
	not non_empty_array(peer.ipBlock.except)
} else := []

family(cidr) := "IPv6" if contains(cidr, ":")

family(cidr) := "IPv4" if not contains(cidr, ":")

namespace_openings(peer, base) := [{
	"path": array.concat(base, ["namespaceSelector"]),
	"what": "every pod in every namespace (namespaceSelector: {})",
}] if {
	empty_selector(peer.namespaceSelector)
	any_pod(peer)
} else := []

any_pod(peer) if not has_key(peer, "podSelector")

any_pod(peer) if peer.podSelector == null

any_pod(peer) if empty_selector(peer.podSelector)

# A selector with no requirement: it selects everything.
empty_selector(selector) if {
	is_object(selector)
	empty_or_null(object.get(selector, "matchLabels", null))
	empty_or_null(object.get(selector, "matchExpressions", null))
}

empty_or_null(value) if value == null

empty_or_null(value) if {
	is_object(value)
	count(value) == 0
}

empty_or_null(value) if {
	is_array(value)
	count(value) == 0
}

# "on port 443/TCP", "on ports 53/UDP, 53/TCP", "on every TCP port", "on every port".
ports_text(rule) := "on every port" if not non_empty_array(rule.ports)

ports_text(rule) := sprintf("on %s %s", [plural(count(texts), "port", "ports"), concat(", ", texts)]) if {
	non_empty_array(rule.ports)
	texts := distinct([port_text(p) | some p in rule.ports])
	every p in rule.ports {
		numbered(p)
	}
}

# An entry without a port stands for every port of its protocol: "on every TCP port".
ports_text(rule) := sprintf("on %s", [concat(", ", texts)]) if {
	non_empty_array(rule.ports)
	texts := distinct([port_text(p) | some p in rule.ports])
	some p in rule.ports
	not numbered(p)
}

numbered(p) if p.port != null

# The items in their first order, each once.
distinct(items) := [item |
	some i, item in items
	not item in array.slice(items, 0, i)
]

port_text(p) := sprintf("%v-%v/%s", [p.port, p.endPort, protocol(p)]) if {
	p.port != null
	is_number(p.endPort)
} else := sprintf("%v/%s", [p.port, protocol(p)]) if {
	p.port != null
} else := sprintf("every %s port", [protocol(p)])

protocol(p) := p.protocol if is_string(p.protocol)

protocol(p) := "TCP" if not is_string(p.protocol)

plural(1, one, _) := one

plural(n, _, many) := many if n != 1

# True when a rule applies to every port: it lists no ports, or one of its entries has no port
# number (every port of that protocol).
every_port(rule) if not non_empty_array(rule.ports)

every_port(rule) if {
	non_empty_array(rule.ports)
	some p in rule.ports
	not numbered(p)
}

# True for the usual "allow DNS" egress rule: its ports are all port 53 (UDP or TCP, without a
# range). Pods resolve names through the cluster DNS service, whose address a NetworkPolicy peer
# cannot name reliably (node-local caches, hostNetwork resolvers), so such a rule is the norm.
dns_only(rule) if {
	non_empty_array(rule.ports)
	every p in rule.ports {
		p.port == 53
		protocol(p) in {"UDP", "TCP"}
		object.get(p, "endPort", null) in {null, 53}
	}
}
