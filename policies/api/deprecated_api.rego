# What it does: flags objects whose apiVersion and kind the target Kubernetes version still serves
#   but has deprecated, naming the release that deprecated it, the release that removes it (when
#   one is announced) and what replaces it. The target is the `kubernetes_version` setting
#   (`--kubernetes-version` or `kubernetes_version` in the config; default: the newest version the
#   table knows); removed versions are removed-api's. The table covers every deprecation behind a
#   removal since 1.16 (see policies/lib/kubernetes_apis.rego for its sources).
# Why: a deprecated version still works, so nothing fails until the upgrade that removes it; the
#   warning gives the release in which to migrate, while the replacement is already served.
# Example:
#   # fails with kubernetes_version 1.23 (deprecated in 1.21, removed in 1.25)
#   apiVersion: batch/v1beta1
#   kind: CronJob
#   # passes
#   apiVersion: batch/v1
#   kind: CronJob
# Fix: change apiVersion (or kind) to the replacement the message names.
package seaworthy.rules.api.deprecated_api

import rego.v1

import data.seaworthy.lib.kubernetes_apis as apis

metadata := {
	"id": "deprecated-api",
	"area": "api",
	"severity": "warning",
	"scope": "manifest",
	"kinds": [
		"APIService", "CSIDriver", "CSINode", "CSIStorageCapacity", "CertificateSigningRequest",
		"ClusterRole", "ClusterRoleBinding", "CronJob", "CustomResourceDefinition", "DaemonSet",
		"Deployment", "EndpointSlice", "Endpoints", "Event", "FlowSchema", "HorizontalPodAutoscaler",
		"Ingress", "IngressClass", "Lease", "LocalSubjectAccessReview", "MutatingWebhookConfiguration",
		"NetworkPolicy", "PodDisruptionBudget", "PodSecurityPolicy", "PriorityClass",
		"PriorityLevelConfiguration", "ReplicaSet", "Role", "RoleBinding", "RuntimeClass",
		"SelfSubjectAccessReview", "StatefulSet", "StorageClass", "SubjectAccessReview",
		"TokenReview", "ValidatingWebhookConfiguration", "VolumeAttachment",
	],
	# content: Only the apiVersion and kind of what it judges.
	"content": [],
	"summary": "API version deprecated in the target Kubernetes version",
	"remediation": "Change apiVersion to the replacement the message names while the old version is still served.",
	"params": {"kubernetes_version": "1.33"},
}

violations contains v if {
	# The table first, and tested at once: most objects' apiVersion is not in it, and they need
	# no version parsed. (On the RVM a binding of an undefined value does not end the body.)
	entry := apis.entry(input.object.apiVersion, input.object.kind)
	is_object(entry)
	target := apis.minor(input.params.kubernetes_version)
	entry.deprecated <= target
	still_served(entry, target)
	v := {
		"msg": sprintf("%s %s is deprecated since Kubernetes 1.%d%s (target 1.%d): %s", [
			input.object.apiVersion, input.object.kind, entry.deprecated, removal(entry), target, apis.advice(entry),
		]),
		"path": ["apiVersion"],
	}
}

still_served(entry, _) if entry.removed == null

still_served(entry, target) if {
	is_number(entry.removed)
	target < entry.removed
}

removal(entry) := sprintf(" and removed in 1.%d", [entry.removed]) if is_number(entry.removed)

removal(entry) := "" if entry.removed == null
