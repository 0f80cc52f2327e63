# What it does: comprehensions
# Why: fuzz seed.
# Example:
#   kind: Deployment
# Fix: nothing.
package seaworthy.rules.fuzz.comprehensions

import rego.v1

metadata := {
	"id": "fuzz-comprehensions",
	"area": "fuzz",
	"severity": "warning",
	"kinds": ["Deployment", "Pod"],
	"summary": "Fuzz seed",
	"remediation": "Nothing to do.",
	"params": {"limit": 2},
}

names := {c.name | some c in input.workload.containers}

by_name := {n: c | some c in input.workload.containers; n := c.name}

violations contains v if {
	every n in names {
		startswith(n, "w")
	}
	count([x | some x in by_name]) > 0
	regex.match(`^[a-z]+$`, input.object.metadata.name)
	v := {"msg": concat(",", sort(names)), "path": ["metadata", "name"]}
}
