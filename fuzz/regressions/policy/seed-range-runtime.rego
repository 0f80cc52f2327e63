# What it does: range-runtime
# Why: fuzz seed.
# Example:
#   kind: Deployment
# Fix: nothing.
package seaworthy.rules.fuzz.range_runtime

import rego.v1

metadata := {
	"id": "fuzz-range-runtime",
	"area": "fuzz",
	"severity": "warning",
	"kinds": ["Deployment", "Pod"],
	"summary": "Fuzz seed",
	"remediation": "Nothing to do.",
	"params": {"limit": 2},
}

violations contains v if {
	n := count(input.workload.containers)
	some i in numbers.range(1, n * 1000)
	i == 2
	v := {"msg": "ranged", "path": []}
}
