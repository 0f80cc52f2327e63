# What it does: flags PodDisruptionBudgets that select no workload of the run: a selector that
#   matches no pod template of the namespace, a missing selector, or an empty selector in
#   policy/v1beta1 (which selected no pods there, while policy/v1 reads it as every pod of the
#   namespace). To avoid false alarms when only part of a repository is linted (a folder of
#   budgets alone, or budgets kept apart from the workloads they cover), a budget is only judged
#   when its namespace has workloads in the run; and not when the namespace also holds custom
#   resources (an API group outside Kubernetes' own), whose operators may create the pods the
#   budget is for (a database cluster, a Prometheus, a Workflow); common custom resources known
#   to create no pods (ServiceMonitor, Certificate, ExternalSecret, ScaledObject, Istio and
#   Traefik routing, ...) do not count.
# Why: a budget that selects nothing protects nothing: usually its labels drifted from the
#   workload's, and the workload it was meant for is drained without limit.
# Example:
#   # fails (the pods are labelled app: web)
#   kind: PodDisruptionBudget
#   spec:
#     maxUnavailable: 1
#     selector:
#       matchLabels: {app: webapp}
#   # passes
#   kind: PodDisruptionBudget
#   spec:
#     maxUnavailable: 1
#     selector:
#       matchLabels: {app: web}
# Fix: make the selector match the pod template labels of the workload it protects, or delete the
#   budget.
package seaworthy.rules.availability.pdb_selects_nothing

import rego.v1

import data.seaworthy.lib.names

metadata := {
	"id": "pdb-selects-nothing",
	"area": "availability",
	"severity": "warning",
	"kinds": ["PodDisruptionBudget"],
	# content: Operators' custom resources are found in data.inventory by kind alone.
	"content": ["PodDisruptionBudget"],
	"summary": "PodDisruptionBudget selects no workload",
	"remediation": "Make the selector match the pod template labels of the workload the budget protects, or delete the budget.",
	"scope": "complete",
}

violations contains v if {
	count(input.related.workloads) == 0
	input.related.namespace.workloads > 0
	not operator_managed_pods
	v := {
		"msg": sprintf("PodDisruptionBudget %q %s", [names.object_name(input.object), reason]),
		"path": selector_path,
	}
}

reason := "has an empty selector, which selects no pods in policy/v1beta1 (policy/v1 would select every pod of the namespace)" if {
	input.object.apiVersion == "policy/v1beta1"
	input.object.spec.selector == {}
}

reason := "has no selector, so it selects no pods" if {
	object.get(input.object, ["spec", "selector"], null) == null
}

reason := sprintf("selects no pod of any workload in namespace %q (%s in the run)", [input.related.namespace.name, workloads_text]) if {
	is_object(input.object.spec.selector)
	not empty_v1beta1
}

empty_v1beta1 if {
	input.object.apiVersion == "policy/v1beta1"
	input.object.spec.selector == {}
}

workloads_text := "1 workload" if input.related.namespace.workloads == 1 else := sprintf("%d workloads", [input.related.namespace.workloads])

selector_path := ["spec", "selector"] if {
	object.get(input.object, ["spec", "selector"], null) != null
} else := ["spec"] if {
	object.get(input.object, ["spec"], null) != null
} else := ["metadata", "name"]

# Kubernetes' own API groups: the core group, the unqualified ones (apps, batch, policy, ...) and
# *.k8s.io. An Argo Rollout is a workload the run already counts.
builtin(api_version, kind) if not contains(api_version, "/")

builtin(api_version, kind) if {
	group := split(api_version, "/")[0]
	is_string(group)
	not contains(group, ".")
}

builtin(api_version, kind) if endswith(split(api_version, "/")[0], ".k8s.io")

builtin(api_version, "Rollout") if startswith(api_version, "argoproj.io/")

# Common custom resources that configure things but never create pods.
builtin(_, kind) if kind in {
	"ServiceMonitor", "PodMonitor", "PrometheusRule", "Probe", "ScrapeConfig",
	"Certificate", "Issuer", "ExternalSecret", "SecretStore", "SealedSecret",
	"ScaledObject", "TriggerAuthentication", "AnalysisTemplate",
	"VirtualService", "DestinationRule", "ServiceEntry", "PeerAuthentication",
	"AuthorizationPolicy", "RequestAuthentication", "Sidecar", "IngressRoute", "Middleware",
}

operator_managed_pods if {
	some api_version, kinds in data.inventory.namespace[input.related.namespace.name]
	some kind, _ in kinds
	not builtin(api_version, kind)
}
