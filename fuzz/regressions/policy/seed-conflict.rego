# What it does: conflict
# Why: fuzz seed.
# Example:
#   kind: Deployment
# Fix: nothing.
package seaworthy.rules.fuzz.conflict

import rego.v1

metadata := {
	"id": "fuzz-conflict",
	"area": "fuzz",
	"severity": "warning",
	"kinds": ["Deployment", "Pod"],
	"summary": "Fuzz seed",
	"remediation": "Nothing to do.",
	"params": {"limit": 2},
}

owner := "a" if input.object.kind == "Deployment"

owner := "b" if input.object.metadata.name == "web"

violations contains v if {
	owner == "a"
	v := {"msg": owner, "path": []}
}
