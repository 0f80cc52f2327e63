# What it does: params
# Why: fuzz seed.
# Example:
#   kind: Deployment
# Fix: nothing.
package seaworthy.rules.fuzz.params

import rego.v1

metadata := {
	"id": "fuzz-params",
	"area": "fuzz",
	"severity": "warning",
	"kinds": ["Deployment", "Pod"],
	"summary": "Fuzz seed",
	"remediation": "Nothing to do.",
	"params": {"limit": 2},
}

too_many(n) if n > input.params.limit

violations contains v if {
	too_many(input.object.spec.replicas)
	v := {"msg": sprintf("%d replicas over %v", [input.object.spec.replicas, input.params.limit]), "path": ["spec", "replicas"]}
}
