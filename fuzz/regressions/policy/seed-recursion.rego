# What it does: recursion
# Why: fuzz seed.
# Example:
#   kind: Deployment
# Fix: nothing.
package seaworthy.rules.fuzz.recursion

import rego.v1

metadata := {
	"id": "fuzz-recursion",
	"area": "fuzz",
	"severity": "warning",
	"kinds": ["Deployment", "Pod"],
	"summary": "Fuzz seed",
	"remediation": "Nothing to do.",
	"params": {"limit": 2},
}

f(x) := y if {
	y := f(x + 1)
}

violations contains v if {
	f(1) > 0
	v := {"msg": "never", "path": []}
}
