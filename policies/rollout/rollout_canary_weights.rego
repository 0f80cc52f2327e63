# What it does: flags an Argo Rollout canary step whose setWeight is lower than an earlier step's
#   (traffic to the new version goes back down mid-rollout), or outside 0..100. A rollout whose
#   steps stop below 100 is not flagged: Argo Rollouts promotes the canary to 100% when the last
#   step completes.
# Why: a decreasing weight is almost always an edited step list (a 50 that should have been 60,
#   steps reordered): the rollout shifts traffic back to the old version and its analysis judges
#   the canary on less traffic than planned. A weight above 100 is rejected.
# Example:
#   # fails
#   steps:
#     - setWeight: 50
#     - pause: {duration: 5m}
#     - setWeight: 25
#   # passes
#   steps:
#     - setWeight: 25
#     - pause: {duration: 5m}
#     - setWeight: 50
# Fix: order the setWeight steps from the smallest weight to the largest, each between 0 and 100.
package seaworthy.rules.rollout.rollout_canary_weights

import rego.v1

import data.seaworthy.lib.names
import data.seaworthy.lib.values

metadata := {
	"id": "rollout-canary-weights",
	"area": "rollout",
	"severity": "warning",
	"kinds": ["Rollout"],
	"summary": "Argo Rollout canary weights decrease or leave 0..100",
	"remediation": "Order the setWeight steps from the smallest weight to the largest, each between 0 and 100.",
}

steps := values.items(input.object.spec.strategy.canary.steps)

weights := [[i, s.setWeight] | some i, s in steps; is_number(s.setWeight)]

violations contains v if {
	startswith(input.object.apiVersion, "argoproj.io/")
	some k, later in weights
	k > 0
	earlier := max([w[1] | some w in array.slice(weights, 0, k)])
	later[1] < earlier
	v := {
		"msg": sprintf("Rollout %q step %d sets the canary weight to %v after an earlier step set %v: traffic to the new version goes back down", [
			names.object_name(input.object), later[0], later[1], earlier,
		]),
		"path": ["spec", "strategy", "canary", "steps", later[0], "setWeight"],
	}
}

violations contains v if {
	startswith(input.object.apiVersion, "argoproj.io/")
	some w in weights
	not between(w[1])
	v := {
		"msg": sprintf("Rollout %q step %d sets the canary weight to %v: it must be between 0 and 100", [names.object_name(input.object), w[0], w[1]]),
		"path": ["spec", "strategy", "canary", "steps", w[0], "setWeight"],
	}
}

between(n) if {
	n >= 0
	n <= 100
}
