# What it does: flags objects whose apiVersion and kind the target Kubernetes version no longer
#   serves (removed at or before it), naming the release that removed it and what replaces it.
#   The target is the `kubernetes_version` setting (`--kubernetes-version` or `kubernetes_version`
#   in the config; default: the newest version the table knows). The table covers every removal
#   since 1.16 (see policies/lib/kubernetes_apis.rego for its sources).
# Why: the API server rejects a removed apiVersion: `kubectl apply` fails with "no matches for
#   kind", a Helm upgrade stops halfway, and a cluster upgrade breaks the pipeline that deploys to
#   it. Found in CI, the fix is a one-line change made before the upgrade, not during an outage.
# Example:
#   # fails (removed in 1.25)
#   apiVersion: policy/v1beta1
#   kind: PodDisruptionBudget
#   # passes
#   apiVersion: policy/v1
#   kind: PodDisruptionBudget
# Fix: change apiVersion to the replacement named in the message (and the fields the note names);
#   a kind with no replacement (PodSecurityPolicy) is replaced by another mechanism.
package seaworthy.rules.api.removed_api

import rego.v1

import data.seaworthy.lib.kubernetes_apis as apis

metadata := {
	"id": "removed-api",
	"area": "api",
	"severity": "error",
	"scope": "manifest",
	"kinds": [
		"APIService", "CSIDriver", "CSINode", "CSIStorageCapacity", "CertificateSigningRequest",
		"ClusterRole", "ClusterRoleBinding", "CronJob", "CustomResourceDefinition", "DaemonSet",
		"Deployment", "EndpointSlice", "Event", "FlowSchema", "HorizontalPodAutoscaler", "Ingress",
		"IngressClass", "Lease", "LocalSubjectAccessReview", "MutatingWebhookConfiguration",
		"NetworkPolicy", "PodDisruptionBudget", "PodSecurityPolicy", "PriorityClass",
		"PriorityLevelConfiguration", "ReplicaSet", "Role", "RoleBinding", "RuntimeClass",
		"SelfSubjectAccessReview", "StatefulSet", "StorageClass", "SubjectAccessReview",
		"TokenReview", "ValidatingWebhookConfiguration", "VolumeAttachment",
	],
	# content: Only the apiVersion and kind of what it judges.
	"content": [],
	"summary": "API version removed in the target Kubernetes version",
	"remediation": "Change apiVersion to the replacement the message names before upgrading to the target version.",
	"params": {"kubernetes_version": "1.33"},
}

violations contains v if {
	# The table first, and tested at once: most objects' apiVersion is not in it, and they need
	# no version parsed. (On the RVM a binding of an undefined value does not end the body.)
	entry := apis.entry(input.object.apiVersion, input.object.kind)
	is_object(entry)
	target := apis.minor(input.params.kubernetes_version)
	is_number(entry.removed)
	entry.removed <= target
	v := {
		"msg": sprintf("%s %s was removed in Kubernetes 1.%d (target 1.%d): %s", [
			input.object.apiVersion, input.object.kind, entry.removed, target, apis.advice(entry),
		]),
		"path": ["apiVersion"],
	}
}
