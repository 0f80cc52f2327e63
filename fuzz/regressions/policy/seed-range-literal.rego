# What it does: range-literal
# Why: fuzz seed.
# Example:
#   kind: Deployment
# Fix: nothing.
package seaworthy.rules.fuzz.range_literal

import rego.v1

metadata := {
	"id": "fuzz-range-literal",
	"area": "fuzz",
	"severity": "warning",
	"kinds": ["Deployment", "Pod"],
	"summary": "Fuzz seed",
	"remediation": "Nothing to do.",
	"params": {"limit": 2},
}

violations contains v if {
	count(numbers.range_step(0, 100000000, 1)) > 0
	v := {"msg": "never", "path": []}
}
