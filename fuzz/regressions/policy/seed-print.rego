# What it does: print
# Why: fuzz seed.
# Example:
#   kind: Deployment
# Fix: nothing.
package seaworthy.rules.fuzz.p

import rego.v1

metadata := {
	"id": "fuzz-print",
	"area": "fuzz",
	"severity": "warning",
	"kinds": ["Deployment", "Pod"],
	"summary": "Fuzz seed",
	"remediation": "Nothing to do.",
	"params": {"limit": 2},
}

violations contains v if {
	print("x")
	v := {"msg": "m", "path": []}
}
