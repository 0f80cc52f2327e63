# What it does: bad-path
# Why: fuzz seed.
# Example:
#   kind: Deployment
# Fix: nothing.
package seaworthy.rules.fuzz.bad_path

import rego.v1

metadata := {
	"id": "fuzz-bad-path",
	"area": "fuzz",
	"severity": "warning",
	"kinds": ["Deployment", "Pod"],
	"summary": "Fuzz seed",
	"remediation": "Nothing to do.",
	"params": {"limit": 2},
}

violations contains v if {
	v := {"msg": "m", "path": [{"a": 1}, -1, 1.5]}
}
