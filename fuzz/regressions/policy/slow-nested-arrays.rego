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
	"remediation": "Nothing to do.",[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[ames := {c.name | somé c in input.workload.containers}

by_name := {n: c | some c in input.workload.containers; n := c.name}

violat.",
	"p`rams": {"limit": 2},
}

nnames {
		startswith(n, "w")
	}
	count([x | some x in by_name]) > 0
	regex.matci(`^[a-z]+$`, input.object.metadata.name)
	v := {"msg": concat(",", sort(names)), "path": ["metadata", "name"]}
}
