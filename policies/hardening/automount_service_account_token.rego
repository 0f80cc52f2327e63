# What it does: flags pods that get the service account token mounted without needing it:
#   automountServiceAccountToken is not set in the pod spec, the pod's ServiceAccount
#   (serviceAccountName, default "default", looked up in the same namespace) does not set it to
#   false, and no RoleBinding or ClusterRoleBinding of the run grants that ServiceAccount anything
#   by name. A binding to a whole group (system:serviceaccounts, system:serviceaccounts:<namespace>,
#   system:authenticated) does not count: it grants every account the same, so it says nothing
#   about whether this workload calls the API.
#   A pod that sets automountServiceAccountToken: true asks for the token on purpose and is not
#   flagged. When the ServiceAccount is not among the linted objects, the Kubernetes default applies
#   (the token is mounted).
# Why: every container of the pod can read the token at
#   /var/run/secrets/kubernetes.io/serviceaccount and call the API server with it. A pod that never
#   talks to the API gains nothing from it, and an attacker who gets code execution gains a
#   credential, plus whatever RBAC is later bound to the ServiceAccount.
# Example:
#   # fails
#   spec:
#     containers:
#       - name: web
#         image: nginx:1.27
#   # passes
#   spec:
#     automountServiceAccountToken: false
#     containers:
#       - name: web
#         image: nginx:1.27
# Fix: set automountServiceAccountToken: false in the pod spec, or on the ServiceAccount when none of
#   its pods call the API server.
package seaworthy.rules.hardening.automount_service_account_token

import rego.v1

import data.seaworthy.lib.values

metadata := {
	"id": "automount-service-account-token",
	"area": "hardening",
	"severity": "notice",
	"kinds": ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Pod", "Job", "CronJob", "Rollout"],
	# content: The workloads it judges (and the kinds in reads).
	"content": ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Pod", "Job", "CronJob", "Rollout"],
	"summary": "Pod mounts a service account token it may not need",
	"remediation": "Set automountServiceAccountToken: false in the pod spec or on its ServiceAccount if the pod does not call the Kubernetes API.",
	"scope": "related",
	"reads": [
		"v1/ServiceAccount",
		"rbac.authorization.k8s.io/v1/RoleBinding",
		"rbac.authorization.k8s.io/v1/ClusterRoleBinding",
	],
}

pod := input.workload.pod_spec

namespace := object.get(input.workload, "namespace", null)

# metadata.namespace unset: the namespace `kubectl apply` without -n uses.
effective_namespace := namespace if is_string(namespace)

effective_namespace := "default" if not is_string(namespace)

# serviceAccount is the deprecated alias the API server still reads when serviceAccountName is unset.
service_account := pod.serviceAccountName if non_empty(pod.serviceAccountName)

service_account := pod.serviceAccount if {
	not non_empty(pod.serviceAccountName)
	non_empty(pod.serviceAccount)
}

service_account := "default" if {
	not non_empty(pod.serviceAccountName)
	not non_empty(pod.serviceAccount)
}

violations contains v if {
	# An Argo Rollout with workloadRef: its pods are judged on the Deployment holding the template.
	not input.workload.template_from
	not is_set(pod.automountServiceAccountToken)
	not account_disables_it
	not account_is_bound
	v := {
		"msg": sprintf("pod mounts the token of service account %q: %s", [service_account, reason]),
		"path": input.workload.pod_spec_path,
	}
}

account := data.inventory.namespace[effective_namespace].v1.ServiceAccount[service_account]

account_disables_it if account.automountServiceAccountToken == false

reason := "neither the pod spec nor the ServiceAccount sets automountServiceAccountToken: false" if {
	account
} else := "the pod spec does not set automountServiceAccountToken: false (the ServiceAccount is not among the linted objects)"

# A binding that grants the ServiceAccount permissions says the pod talks to the API server.
account_is_bound if {
	some binding_namespace, apis in data.inventory.namespace
	some binding in apis["rbac.authorization.k8s.io/v1"].RoleBinding
	some subject in values.items(binding.subjects)
	names_account(subject, binding_namespace)
}

account_is_bound if {
	some binding in data.inventory.cluster["rbac.authorization.k8s.io/v1"].ClusterRoleBinding
	some subject in values.items(binding.subjects)
	names_account(subject, null)
}

names_account(subject, binding_namespace) if {
	subject.kind == "ServiceAccount"
	subject.name == service_account
	object.get(subject, "namespace", binding_namespace) == effective_namespace
}

non_empty(value) if {
	is_string(value)
	value != ""
}

# `null` is what a template leaves behind when it renders nothing; the API server stores it as unset.
is_set(value) if value != null
