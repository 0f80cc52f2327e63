# The Kubernetes API versions that were deprecated or removed since 1.16, as data: apiVersion →
# kind → when it was deprecated and removed (minor versions of Kubernetes 1.x), what replaces it
# and since when the replacement is served, and what changes on the way when it is more than the
# apiVersion line.
#
# Source: the Kubernetes deprecated API migration guide
# (https://kubernetes.io/docs/reference/using-api/deprecation-guide/), cross-checked against
# Pluto's versions.yaml (FairwindsOps/pluto) and kube-no-trouble's rules (doitintl/kube-no-trouble).
# The facts come from there; the table is written here. Alpha versions (off by default) are left
# out except where those sources list them. Kinds of other projects (cert-manager, Istio, ...)
# are not here: their removals follow the project's releases, not Kubernetes'.
#
# - newest_minor: the newest Kubernetes minor version this table knows (the default target).
# - minor(version): "1.25", "v1.25", "1.25.3" → 25; undefined for anything else.
# - entry(api_version, kind): the table entry of that apiVersion and kind, if any.
# - advice(entry): what to do, for a message: "use apps/v1 (served since 1.9); <note>".
package seaworthy.lib.kubernetes_apis

import rego.v1

import data.seaworthy.lib.values

newest_minor := 33

minor(version) := n if {
	is_string(version)
	parts := split(trim_prefix(version, "v"), ".")
	count(parts) >= 2
	count(parts) <= 3
	parts[0] == "1"
	values.digits(parts[1])
	n := to_number(parts[1])
}

entry(api_version, kind) := table[api_version][kind]

advice(entry) := concat("; ", [x | some x in [use(entry), entry.note]; x != ""])

use(entry) := "" if entry.replacement == ""

use(entry) := sprintf("use %s", [entry.replacement]) if {
	entry.replacement != ""
	not is_number(entry.since)
}

use(entry) := sprintf("use %s (served since 1.%d)", [entry.replacement, entry.since]) if {
	entry.replacement != ""
	is_number(entry.since)
}

# removed: null when the version is still served.
table := {
	"extensions/v1beta1": {
		"Deployment": {"deprecated": 9, "removed": 16, "replacement": "apps/v1", "since": 9, "note": "spec.selector is required and immutable in apps/v1"},
		"DaemonSet": {"deprecated": 9, "removed": 16, "replacement": "apps/v1", "since": 9, "note": "spec.selector is required and immutable in apps/v1"},
		"ReplicaSet": {"deprecated": 9, "removed": 16, "replacement": "apps/v1", "since": 9, "note": "spec.selector is required and immutable in apps/v1"},
		"NetworkPolicy": {"deprecated": 9, "removed": 16, "replacement": "networking.k8s.io/v1", "since": 8, "note": ""},
		"PodSecurityPolicy": {"deprecated": 10, "removed": 16, "replacement": "policy/v1beta1", "since": 10, "note": "policy/v1beta1 PodSecurityPolicy was itself removed in 1.25: move to Pod Security Admission"},
		"Ingress": {"deprecated": 14, "removed": 22, "replacement": "networking.k8s.io/v1", "since": 19, "note": "backends become service.name and service.port.number/name, and pathType is required"},
	},
	"apps/v1beta1": {
		"Deployment": {"deprecated": 9, "removed": 16, "replacement": "apps/v1", "since": 9, "note": "spec.selector is required and immutable in apps/v1"},
		"StatefulSet": {"deprecated": 9, "removed": 16, "replacement": "apps/v1", "since": 9, "note": "spec.selector is required and immutable in apps/v1"},
	},
	"apps/v1beta2": {
		"Deployment": {"deprecated": 9, "removed": 16, "replacement": "apps/v1", "since": 9, "note": ""},
		"StatefulSet": {"deprecated": 9, "removed": 16, "replacement": "apps/v1", "since": 9, "note": ""},
		"DaemonSet": {"deprecated": 9, "removed": 16, "replacement": "apps/v1", "since": 9, "note": ""},
		"ReplicaSet": {"deprecated": 9, "removed": 16, "replacement": "apps/v1", "since": 9, "note": ""},
	},
	"scheduling.k8s.io/v1alpha1": {"PriorityClass": {"deprecated": 14, "removed": 17, "replacement": "scheduling.k8s.io/v1", "since": 14, "note": ""}},
	"scheduling.k8s.io/v1beta1": {"PriorityClass": {"deprecated": 14, "removed": 22, "replacement": "scheduling.k8s.io/v1", "since": 14, "note": ""}},
	"admissionregistration.k8s.io/v1beta1": {
		"MutatingWebhookConfiguration": {"deprecated": 16, "removed": 22, "replacement": "admissionregistration.k8s.io/v1", "since": 16, "note": "sideEffects and admissionReviewVersions are required in v1"},
		"ValidatingWebhookConfiguration": {"deprecated": 16, "removed": 22, "replacement": "admissionregistration.k8s.io/v1", "since": 16, "note": "sideEffects and admissionReviewVersions are required in v1"},
	},
	"apiextensions.k8s.io/v1beta1": {"CustomResourceDefinition": {"deprecated": 16, "removed": 22, "replacement": "apiextensions.k8s.io/v1", "since": 16, "note": "a structural schema per version is required in v1"}},
	"apiregistration.k8s.io/v1beta1": {"APIService": {"deprecated": 19, "removed": 22, "replacement": "apiregistration.k8s.io/v1", "since": 10, "note": ""}},
	"authentication.k8s.io/v1beta1": {"TokenReview": {"deprecated": 19, "removed": 22, "replacement": "authentication.k8s.io/v1", "since": 6, "note": ""}},
	"authorization.k8s.io/v1beta1": {
		"SubjectAccessReview": {"deprecated": 19, "removed": 22, "replacement": "authorization.k8s.io/v1", "since": 6, "note": ""},
		"LocalSubjectAccessReview": {"deprecated": 19, "removed": 22, "replacement": "authorization.k8s.io/v1", "since": 6, "note": ""},
		"SelfSubjectAccessReview": {"deprecated": 19, "removed": 22, "replacement": "authorization.k8s.io/v1", "since": 6, "note": ""},
	},
	"certificates.k8s.io/v1beta1": {"CertificateSigningRequest": {"deprecated": 19, "removed": 22, "replacement": "certificates.k8s.io/v1", "since": 19, "note": "signerName is required in v1"}},
	"coordination.k8s.io/v1beta1": {"Lease": {"deprecated": 19, "removed": 22, "replacement": "coordination.k8s.io/v1", "since": 14, "note": ""}},
	"networking.k8s.io/v1beta1": {
		"Ingress": {"deprecated": 19, "removed": 22, "replacement": "networking.k8s.io/v1", "since": 19, "note": "backends become service.name and service.port.number/name, and pathType is required"},
		"IngressClass": {"deprecated": 19, "removed": 22, "replacement": "networking.k8s.io/v1", "since": 19, "note": ""},
	},
	"rbac.authorization.k8s.io/v1alpha1": {
		"ClusterRole": {"deprecated": 17, "removed": 22, "replacement": "rbac.authorization.k8s.io/v1", "since": 8, "note": ""},
		"ClusterRoleBinding": {"deprecated": 17, "removed": 22, "replacement": "rbac.authorization.k8s.io/v1", "since": 8, "note": ""},
		"Role": {"deprecated": 17, "removed": 22, "replacement": "rbac.authorization.k8s.io/v1", "since": 8, "note": ""},
		"RoleBinding": {"deprecated": 17, "removed": 22, "replacement": "rbac.authorization.k8s.io/v1", "since": 8, "note": ""},
	},
	"rbac.authorization.k8s.io/v1beta1": {
		"ClusterRole": {"deprecated": 17, "removed": 22, "replacement": "rbac.authorization.k8s.io/v1", "since": 8, "note": ""},
		"ClusterRoleBinding": {"deprecated": 17, "removed": 22, "replacement": "rbac.authorization.k8s.io/v1", "since": 8, "note": ""},
		"Role": {"deprecated": 17, "removed": 22, "replacement": "rbac.authorization.k8s.io/v1", "since": 8, "note": ""},
		"RoleBinding": {"deprecated": 17, "removed": 22, "replacement": "rbac.authorization.k8s.io/v1", "since": 8, "note": ""},
	},
	"storage.k8s.io/v1beta1": {
		"CSIDriver": {"deprecated": 19, "removed": 22, "replacement": "storage.k8s.io/v1", "since": 18, "note": ""},
		"CSINode": {"deprecated": 17, "removed": 22, "replacement": "storage.k8s.io/v1", "since": 17, "note": ""},
		"StorageClass": {"deprecated": 19, "removed": 22, "replacement": "storage.k8s.io/v1", "since": 6, "note": ""},
		"VolumeAttachment": {"deprecated": 19, "removed": 22, "replacement": "storage.k8s.io/v1", "since": 13, "note": ""},
		"CSIStorageCapacity": {"deprecated": 24, "removed": 27, "replacement": "storage.k8s.io/v1", "since": 24, "note": ""},
	},
	"batch/v1beta1": {"CronJob": {"deprecated": 21, "removed": 25, "replacement": "batch/v1", "since": 21, "note": ""}},
	"discovery.k8s.io/v1beta1": {"EndpointSlice": {"deprecated": 21, "removed": 25, "replacement": "discovery.k8s.io/v1", "since": 21, "note": "topology becomes nodeName and zone per endpoint"}},
	"events.k8s.io/v1beta1": {"Event": {"deprecated": 19, "removed": 25, "replacement": "events.k8s.io/v1", "since": 19, "note": ""}},
	"autoscaling/v2beta1": {"HorizontalPodAutoscaler": {"deprecated": 22, "removed": 25, "replacement": "autoscaling/v2", "since": 23, "note": "metric targets move under target (type, averageUtilization, averageValue, value)"}},
	"autoscaling/v2beta2": {"HorizontalPodAutoscaler": {"deprecated": 23, "removed": 26, "replacement": "autoscaling/v2", "since": 23, "note": ""}},
	"policy/v1beta1": {
		"PodDisruptionBudget": {"deprecated": 21, "removed": 25, "replacement": "policy/v1", "since": 21, "note": "an empty selector selects every pod of the namespace in policy/v1 (none in v1beta1)"},
		"PodSecurityPolicy": {"deprecated": 21, "removed": 25, "replacement": "", "since": null, "note": "there is no replacement kind: enforce the Pod Security Standards with Pod Security Admission (pod-security.kubernetes.io/enforce namespace labels) or a policy engine"},
	},
	"node.k8s.io/v1beta1": {"RuntimeClass": {"deprecated": 22, "removed": 25, "replacement": "node.k8s.io/v1", "since": 20, "note": ""}},
	"flowcontrol.apiserver.k8s.io/v1beta1": {
		"FlowSchema": {"deprecated": 23, "removed": 26, "replacement": "flowcontrol.apiserver.k8s.io/v1", "since": 29, "note": "flowcontrol.apiserver.k8s.io/v1beta3 is served from 1.26 to 1.31"},
		"PriorityLevelConfiguration": {"deprecated": 23, "removed": 26, "replacement": "flowcontrol.apiserver.k8s.io/v1", "since": 29, "note": "flowcontrol.apiserver.k8s.io/v1beta3 is served from 1.26 to 1.31"},
	},
	"flowcontrol.apiserver.k8s.io/v1beta2": {
		"FlowSchema": {"deprecated": 26, "removed": 29, "replacement": "flowcontrol.apiserver.k8s.io/v1", "since": 29, "note": "flowcontrol.apiserver.k8s.io/v1beta3 is served from 1.26 to 1.31"},
		"PriorityLevelConfiguration": {"deprecated": 26, "removed": 29, "replacement": "flowcontrol.apiserver.k8s.io/v1", "since": 29, "note": "flowcontrol.apiserver.k8s.io/v1beta3 is served from 1.26 to 1.31"},
	},
	"flowcontrol.apiserver.k8s.io/v1beta3": {
		"FlowSchema": {"deprecated": 29, "removed": 32, "replacement": "flowcontrol.apiserver.k8s.io/v1", "since": 29, "note": ""},
		"PriorityLevelConfiguration": {"deprecated": 29, "removed": 32, "replacement": "flowcontrol.apiserver.k8s.io/v1", "since": 29, "note": ""},
	},
	"v1": {"Endpoints": {"deprecated": 33, "removed": null, "replacement": "discovery.k8s.io/v1 EndpointSlice", "since": 21, "note": "the v1 Endpoints kind is deprecated, not the v1 core API"}},
}
