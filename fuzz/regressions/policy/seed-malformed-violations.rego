# What it does: malformed-violations
# Why: fuzz seed.
# Example:
#   kind: Deployment
# Fix: nothing.
package seaworthy.rules.fuzz.malformed_violations

import rego.v1

metadata := {
	"id": "fuzz-malformed-violations",
	"area": "fuzz",
	"severity": "warning",
	"kinds": ["Deployment", "Pod"],
	"summary": "Fuzz seed",
	"remediation": "Nothing to do.",
	"params": {"limit": 2},
}

violations := {"not": "a set"}
