# What it does: nest
# Why: fuzz seed.
# Example:
#   kind: Deployment
# Fix: nothing.
package seaworthy.rules.fuzz.n

import rego.v1

metadata := {
	"id": "fuzz-nest",
	"area": "fuzz",
	"severity": "warning",
	"kinds": ["Deployment", "Pod"],
	"summary": "Fuzz seed",
	"remediation": "Nothing to do.",
	"params": {"limit": 2},
}

x := [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]
violations := set()
