# What it does: flags an Argo Rollout that references an object its namespace does not have in the
#   run: the canary or stable Service (canaryService, stableService), the blue-green active or
#   preview Service, an AnalysisTemplate of a step, of background analysis or of pre/post promotion
#   analysis (a ClusterAnalysisTemplate when clusterScope is true), and the Istio VirtualService and
#   DestinationRule of its traffic routing. Lint only: in a cluster they may be applied just after.
# Why: the controller cannot start the rollout: it reports the missing object and leaves the new
#   version unreachable (a missing Service) or never analysed, while the old ReplicaSet keeps
#   serving; the error shows only in the Rollout's status, not at apply time.
# Example:
#   # fails: no Service web-canary in the run
#   strategy:
#     canary:
#       canaryService: web-canary
#       stableService: web
#   # passes: both Services are deployed with the Rollout
# Fix: add the referenced object to the same namespace (and the same chart or kustomization), or
#   correct the name.
package seaworthy.rules.rollout.rollout_reference_missing

import rego.v1

import data.seaworthy.lib.names
import data.seaworthy.lib.values

metadata := {
	"id": "rollout-reference-missing",
	"area": "rollout",
	"severity": "warning",
	"kinds": ["Rollout"],
	# content: Referenced objects are looked up in data.inventory by kind and name alone.
	"content": ["Rollout"],
	"summary": "Argo Rollout references an object that is not in the run",
	"remediation": "Deploy the referenced Service, AnalysisTemplate, VirtualService or DestinationRule with the Rollout, or correct its name.",
	"scope": "complete",
}

namespace := input.related.namespace.name

strategy := object.get(input.object, ["spec", "strategy"], {})

# [what, kind, name, path] of every reference.
references contains [key, "Service", name, ["spec", "strategy", "canary", key]] if {
	some key in ["canaryService", "stableService"]
	name := strategy.canary[key]
}

references contains [key, "Service", name, ["spec", "strategy", "blueGreen", key]] if {
	some key in ["activeService", "previewService"]
	name := strategy.blueGreen[key]
}

references contains ["analysis", template_kind(t), t.templateName, ["spec", "strategy", "canary", "steps", i, "analysis", "templates", j, "templateName"]] if {
	some i, step in values.items(strategy.canary.steps)
	some j, t in values.items(step.analysis.templates)
}

references contains ["analysis", template_kind(t), t.templateName, ["spec", "strategy", "canary", "analysis", "templates", j, "templateName"]] if {
	some j, t in values.items(strategy.canary.analysis.templates)
}

references contains ["analysis", template_kind(t), t.templateName, ["spec", "strategy", "blueGreen", key, "templates", j, "templateName"]] if {
	some key in ["prePromotionAnalysis", "postPromotionAnalysis"]
	some j, t in values.items(strategy.blueGreen[key].templates)
}

references contains ["Istio traffic routing", "VirtualService", vs.name, ["spec", "strategy", "canary", "trafficRouting", "istio", "virtualService", "name"]] if {
	vs := strategy.canary.trafficRouting.istio.virtualService
}

references contains ["Istio traffic routing", "VirtualService", vs.name, ["spec", "strategy", "canary", "trafficRouting", "istio", "virtualServices", i, "name"]] if {
	some i, vs in values.items(strategy.canary.trafficRouting.istio.virtualServices)
}

references contains ["Istio traffic routing", "DestinationRule", dr.name, ["spec", "strategy", "canary", "trafficRouting", "istio", "destinationRule", "name"]] if {
	dr := strategy.canary.trafficRouting.istio.destinationRule
}

template_kind(t) := "ClusterAnalysisTemplate" if t.clusterScope == true

template_kind(t) := "AnalysisTemplate" if not t.clusterScope == true

# Istio's VirtualService reference may name another namespace: `name.namespace`.
lookup("VirtualService", name) := [parts[0], parts[1]] if {
	parts := split(name, ".")
	count(parts) == 2
}

lookup(kind, name) := [name, namespace] if {
	not kind == "ClusterAnalysisTemplate"
	not qualified(kind, name)
}

qualified("VirtualService", name) if count(split(name, ".")) == 2

present("ClusterAnalysisTemplate", name) if {
	some _, kinds in data.inventory.cluster
	kinds.ClusterAnalysisTemplate[name]
}

present(kind, name) if {
	kind != "ClusterAnalysisTemplate"
	target := lookup(kind, name)
	some _, kinds in data.inventory.namespace[target[1]]
	kinds[kind][target[0]]
}

violations contains v if {
	startswith(input.object.apiVersion, "argoproj.io/")
	some ref in references
	[what, kind, name, path] := ref
	is_string(name)
	name != ""
	not present(kind, name)
	v := {
		"msg": sprintf("Rollout %q names %s %q (%s), which is not in %s in the run", [
			names.object_name(input.object), kind, name, what, where(kind),
		]),
		"path": path,
	}
}

where("ClusterAnalysisTemplate") := "the cluster"

where(kind) := sprintf("namespace %q", [namespace]) if kind != "ClusterAnalysisTemplate"
