# What it does: sprintf-width
# Why: fuzz seed.
# Example:
#   kind: Deployment
# Fix: nothing.
package seaworthy.rules.fuzz.sprintf_width

import rego.v1

metadata := {
	"id": "fuzz-sprintf-width",
	"area": "fuzz",
	"severity": "warning",
	"kinds": ["Deployment", "Pod"],
	"summary": "Fuzz seed",
	"remediation": "Nothing to do.",
	"params": {"limit": 2},
}

violations contains v if {
	v := {"msg": sprintf("%08d|%5s|%.2f", [7, "ab", 3.14159]), "path": []}
}
