//! Where an object lives, as the API server sees it: cluster-scoped kinds, and the `default`
//! namespace of a namespaced object that names none. A leaf module over `finding::ObjectRef`.

use crate::finding::ObjectRef;

/// The namespace a namespaced object without `metadata.namespace` lands in when applied without `-n`.
pub const DEFAULT_NAMESPACE: &str = "default";

/// Kinds the API server keeps outside namespaces (built-in, and the common add-ons).
pub const CLUSTER_SCOPED: &[&str] = &[
    "AdminNetworkPolicy",
    "APIService",
    "BaselineAdminNetworkPolicy",
    "CertificateSigningRequest",
    "CiliumClusterwideNetworkPolicy",
    "ClusterAnalysisTemplate",
    "ClusterIssuer",
    "ClusterRole",
    "ClusterRoleBinding",
    "ClusterNetworkPolicy",
    "ComponentStatus",
    "CSIDriver",
    "CSINode",
    "CustomResourceDefinition",
    "FlowSchema",
    "GlobalNetworkPolicy",
    "IngressClass",
    "MutatingAdmissionPolicy",
    "MutatingAdmissionPolicyBinding",
    "MutatingWebhookConfiguration",
    "Namespace",
    "Node",
    "PersistentVolume",
    "PriorityClass",
    "PriorityLevelConfiguration",
    "RuntimeClass",
    "StorageClass",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "ValidatingWebhookConfiguration",
    "VolumeAttachment",
    "VolumeSnapshotClass",
];

pub fn is_cluster_scoped(id: &ObjectRef) -> bool {
    id.namespace.is_none() && CLUSTER_SCOPED.contains(&id.kind.as_str())
}

/// The namespace an object is in, as the API server would see it (None for cluster-scoped kinds).
pub fn effective_namespace(id: &ObjectRef) -> Option<&str> {
    if is_cluster_scoped(id) {
        None
    } else {
        Some(id.namespace.as_deref().unwrap_or(DEFAULT_NAMESPACE))
    }
}
