# What it does: containers
# Why: fuzz seed.
# Example:
#   kind: Deployment
# Fix: nothing.
package seaworthy.rules.fuzz.containers

import rego.v1

metadata := {
	"id": "fuzz-containers",
	"area": "fuzz",
	"severity": "warning",
	"kinds": ["Deployment", "Pod"],
	"summary": "Fuzz seed",
	"remediation": "Nothing to do.",
	"params": {"limit": 2},
}

violations contains v if {
	some i, c in input.workload.containers
	not c.readinessProbe
	v := {"msg": sprintf("container %q has no readinessProbe", [c.name]), "path": array.concat(input.workload.pod_spec_path, ["containers", i])}
}
