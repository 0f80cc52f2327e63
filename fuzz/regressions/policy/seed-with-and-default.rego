# What it does: with-and-default
# Why: fuzz seed.
# Example:
#   kind: Deployment
# Fix: nothing.
package seaworthy.rules.fuzz.with_and_default

import rego.v1

metadata := {
	"id": "fuzz-with-and-default",
	"area": "fuzz",
	"severity": "warning",
	"kinds": ["Deployment", "Pod"],
	"summary": "Fuzz seed",
	"remediation": "Nothing to do.",
	"params": {"limit": 2},
}

default allowed := false

allowed if input.object.kind == "Pod"

violations contains v if {
	not allowed with input.object.kind as "Pod"
	v := {"msg": "m", "path": []}
}
