# What it does: flags pod anti-affinity terms and topology spread constraints whose label selector
#   cannot spread the workload's own pods:
#   - any term with no labelSelector (or one that is not a valid selector): it matches no pods;
#   - a topology spread constraint whose selector does not select the pod's own labels: spreading
#     is computed over the pods the selector matches, so it only makes sense on the pod's own group;
#   - a pod anti-affinity term that asks for the workload's own pods (its selector requires every
#     label of the workload's spec.selector, the labels that define "my pods") and yet does not
#     select the pod template's labels, because an extra requirement contradicts them: the classic
#     stale or copy-pasted selector (`app: web, version: v1` on pods labelled `version: v2`).
#   Anti-affinity is also the legitimate way to keep pods away from OTHER pods ("not next to the
#   database": `app: db` on an `app: web` pod), so an anti-affinity term whose selector does not
#   ask for the workload's own pods is taken as deliberate and not flagged, even when it uses the
#   same label key with another value: `app: web` on an `app: api` pod (a copy-paste from the web
#   Deployment) cannot be told apart from `app: db` on it. When such a workload is left with no
#   spreading at all, missing-pod-spread reports it. Also left alone: anti-affinity terms that
#   target other namespaces (`namespaces` not listing the pod's own) and terms with
#   mismatchLabelKeys, which exclude the pod's own group by design.
# Why: a term that does not select the pod's own replicas looks like spreading in review but lets
#   the scheduler stack every replica on one node or in one zone.
# Example:
#   # fails
#   template:
#     metadata:
#       labels: {app: web}
#     spec:
#       topologySpreadConstraints:
#         - maxSkew: 1
#           topologyKey: topology.kubernetes.io/zone
#           whenUnsatisfiable: ScheduleAnyway
#           labelSelector:
#             matchLabels: {app: website}
#   # passes
#   template:
#     metadata:
#       labels: {app: web}
#     spec:
#       topologySpreadConstraints:
#         - maxSkew: 1
#           topologyKey: topology.kubernetes.io/zone
#           whenUnsatisfiable: ScheduleAnyway
#           labelSelector:
#             matchLabels: {app: web}
# Fix: make the term's labelSelector match the pod template's labels (usually the workload's own
#   spec.selector).
package seaworthy.rules.availability.spread_selector_mismatch

import data.seaworthy.lib.availability as av
import rego.v1

import data.seaworthy.lib.values

metadata := {
	"id": "spread-selector-mismatch",
	"area": "availability",
	"severity": "error",
	"kinds": ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Pod", "Job", "CronJob", "Rollout"],
	"summary": "Anti-affinity or topology spread selector does not select the pod's own labels",
	"remediation": "Make the labelSelector of the anti-affinity term or topology spread constraint match the pod template's labels.",
}

violations contains v if {
	some term in input.workload.spread_terms
	not term.has_selector
	v := {
		"msg": sprintf("%s %s, so it matches no pods and spreads nothing", [describe(term), missing_selector(term)]),
		"path": selector_path(term),
	}
}

violations contains v if {
	some term in input.workload.spread_terms
	term.mechanism == "topology-spread"
	term.has_selector
	not term.selects_own_pods
	v := {
		"msg": sprintf("%s does not select the pod's own labels (%s), so it spreads nothing", [
			describe(term),
			av.labels(input.workload.pod_labels),
		]),
		"path": selector_path(term),
	}
}

violations contains v if {
	some term in input.workload.spread_terms
	term.mechanism == "pod-anti-affinity"
	term.has_selector
	not term.selects_own_pods
	counts_own_namespace(term)
	not has_mismatch_label_keys(term)
	pairs := own_selector
	count(pairs) > 0
	selector := object.get(input.object, selector_path(term), {})
	# Tested, not only bound: the RVM does not end a body on a binding of an undefined value, and
	# a use inside `every` is no test of it.
	is_object(selector)
	every key, value in pairs {
		asks_for(selector, key, value)
	}
	v := {
		"msg": sprintf("%s asks for the workload's own pods (%s) but another requirement rules out their labels (%s), so it spreads nothing", [
			describe(term),
			av.labels(pairs),
			av.labels(input.workload.pod_labels),
		]),
		"path": selector_path(term),
	}
}

describe(term) := sprintf("topology spread constraint %s", [key_text(term)]) if term.mechanism == "topology-spread"

describe(term) := sprintf("required pod anti-affinity term %s", [key_text(term)]) if {
	term.mechanism == "pod-anti-affinity"
	term.required
}

describe(term) := sprintf("preferred pod anti-affinity term %s", [key_text(term)]) if {
	term.mechanism == "pod-anti-affinity"
	not term.required
}

key_text(term) := sprintf("on %q", [term.topology_key]) if is_string(term.topology_key) else := "without topologyKey"

missing_selector(term) := "has a labelSelector that is not a valid label selector" if {
	object.get(input.object, array.concat(term.path, ["labelSelector"]), null) != null
} else := "has no labelSelector"

selector_path(term) := path if {
	path := array.concat(term.path, ["labelSelector"])
	object.get(input.object, path, null) != null
} else := term.path

# An affinity term looks at the namespaces it lists, or at the pod's own when it lists none (a
# namespaceSelector adds namespaces, so the own one may be among them).
counts_own_namespace(term) if {
	spec := object.get(input.object, term.path, {})
	object.get(spec, "namespaceSelector", null) != null
}

counts_own_namespace(term) if {
	spec := object.get(input.object, term.path, {})
	object.get(spec, "namespaceSelector", null) == null
	namespaces := object.get(spec, "namespaces", [])
	own_namespace_listed(namespaces)
}

own_namespace_listed(namespaces) if count(namespaces) == 0

own_namespace_listed(namespaces) if own_namespace in namespaces

own_namespace := input.object.metadata.namespace if is_string(input.object.metadata.namespace) else := "default"

has_mismatch_label_keys(term) if {
	count(object.get(input.object, array.concat(term.path, ["mismatchLabelKeys"]), [])) > 0
}

# The labels that define the workload's pods: its spec.selector (matchLabels; a
# ReplicationController's selector is a plain map), which defaults to the template labels where
# the API lets it be left out. Bare Pods, Jobs and CronJobs have none to compare with.
own_selector := input.object.spec.selector.matchLabels if {
	input.workload.kind in {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Rollout"}
	is_object(input.object.spec.selector.matchLabels)
}

own_selector := input.workload.pod_labels if {
	input.workload.kind in {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Rollout", "ReplicationController"}
	object.get(input.object, ["spec", "selector"], null) == null
}

own_selector := input.object.spec.selector if {
	input.workload.kind == "ReplicationController"
	is_object(input.object.spec.selector)
}

# The term's selector requires key=value: by matchLabels, or by an `In` expression that allows it.
asks_for(selector, key, value) if selector.matchLabels[key] == value

asks_for(selector, key, value) if {
	some requirement in values.items(selector.matchExpressions)
	requirement.key == key
	requirement.operator == "In"
	value in requirement.values
}
