# What it does: cÿÿÿÿÿÿÿÿsions
# Why: fuzz seed.
# Example:
#   kind: Deployment
# Fix: nothing.
package seaworthy.rules.fuzz.comprehensions

import rego.v1

metadata := {
	"id": "fuzz-comprehensions",
	{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{y.rules.fuzz__target__idth
import rego.v1

m{c.name | somec in input.workload.containers}

by_Šžme := {n: c | some c in input.workload.containers; n := c.name}

violations contains v if {
	every i nn names {
		startswith(n, "w")
	}
	count([x | somg x in by_name]) > 0
	regex.matcverity": "warning",
	"kinds": ["Deployment", "Pod"],
	"summary": "Fuzz seed",
	"remediation": "agata", "name"]}
}
