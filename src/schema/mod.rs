//! The schema check: does each object have only fields its type knows, each with the type the API
//! takes? The API server drops a field it does not know (kubectl rejects it only under strict field
//! validation), so a typo like `livenessprobe:` leaves the container without a probe and no rule can
//! see why; a value of the wrong type (`replicas: "3"`) gets the object rejected.
//!
//! Built-in kinds are read into their k8s-openapi types (Kubernetes v1.33), through a deserializer
//! over the loaded tree that notes every key a type skips ([`de`]); custom resources are checked
//! against the `openAPIV3Schema` of a CustomResourceDefinition of the same run ([`crd`]), and skipped
//! when there is none. What is found is handed to the rules as `input.schema` (see [`to_rego`]):
//! the `unknown-field` rule reports the unknown fields, `invalid-field-type` the wrong types.

mod crd;
mod de;

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use regorus::Value as RegoValue;

use crate::manifest::node::{Node, Value};
use crate::manifest::Object;
use crate::path::PathStep;

pub use crd::CrdSchemas;

/// The Kubernetes version whose types the check reads objects into.
pub const KUBERNETES_VERSION: &str = "1.33";

/// What the check found in one object.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    pub unknown_fields: Vec<UnknownField>,
    pub wrong_types: Vec<WrongType>,
    /// The object was read into its built-in Kubernetes type (not a CustomResourceDefinition's
    /// schema): every field of it was type-checked, so a rule may trust an empty `wrong_types`.
    pub builtin: bool,
}

/// A key its place does not know.
#[derive(Debug, Clone, PartialEq)]
pub struct UnknownField {
    /// The path of the key (its last step is the key).
    pub path: Vec<PathStep>,
    /// What holds the key: a type name (`Container`) or a custom resource's schema.
    pub holder: String,
    /// A known field of the holder that is a small edit away (`livenessProbe` for `livenessprobe`).
    pub suggestion: Option<String>,
    /// Where the key is a field, when it is one a level off (`a container` for a pod spec's
    /// `livenessProbe`).
    pub belongs: Option<&'static str>,
}

/// A value the API does not take where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct WrongType {
    pub path: Vec<PathStep>,
    /// The value as the messages describe it (`the string "3"`).
    pub found: String,
    /// What the API takes there (`an integer`); None when the type is right but the value cannot
    /// be read, `reason` says why.
    pub expected: Option<String>,
    pub reason: Option<String>,
}

/// Checks one object. None when there is nothing to check it against: a kind that is not built
/// into Kubernetes v1.33 and has no CustomResourceDefinition in `crds`.
pub fn check(root: &Node, crds: &CrdSchemas<'_>) -> Option<Report> {
    let api_version = root.get("apiVersion")?.as_str()?;
    let kind = root.get("kind")?.as_str()?;
    if let Some(read) = builtin_reader(api_version, kind) {
        let mut report = check_builtin(root, read);
        report.builtin = true;
        return Some(report);
    }
    let schema = crds.get(api_version, kind)?;
    let mut report = Report::default();
    crd::check(root, schema, &mut report);
    if let Some(metadata) = root.get("metadata") {
        let at = [PathStep::Key("metadata".to_string())];
        let found = check_builtin(metadata, read_into::<ObjectMeta>);
        report.append_under(&at, found);
    }
    Some(report)
}

/// The check's findings as the rules read them (`input.schema`):
/// `{"kubernetes_version", "builtin", "unknown_fields": [{path, field, holder, suggestion?,
/// belongs?}], "wrong_types": [{path, found, expected? , reason?}]}`.
pub fn to_rego(report: &Report) -> RegoValue {
    let unknown: Vec<RegoValue> = report
        .unknown_fields
        .iter()
        .map(|u| {
            let field = match u.path.last() {
                Some(PathStep::Key(key)) => key.as_str(),
                _ => "",
            };
            let mut fields = vec![
                ("path", path_value(&u.path)),
                ("field", RegoValue::from(field)),
                ("holder", RegoValue::from(u.holder.as_str())),
            ];
            if let Some(s) = &u.suggestion {
                fields.push(("suggestion", RegoValue::from(s.as_str())));
            }
            if let Some(b) = u.belongs {
                fields.push(("belongs", RegoValue::from(b)));
            }
            object(fields)
        })
        .collect();
    let wrong: Vec<RegoValue> = report
        .wrong_types
        .iter()
        .map(|w| {
            let mut fields = vec![
                ("path", path_value(&w.path)),
                ("found", RegoValue::from(w.found.as_str())),
            ];
            if let Some(e) = &w.expected {
                fields.push(("expected", RegoValue::from(e.as_str())));
            }
            if let Some(r) = &w.reason {
                fields.push(("reason", RegoValue::from(r.as_str())));
            }
            object(fields)
        })
        .collect();
    object(vec![
        ("kubernetes_version", RegoValue::from(KUBERNETES_VERSION)),
        ("builtin", RegoValue::from(report.builtin)),
        ("unknown_fields", RegoValue::from(unknown)),
        ("wrong_types", RegoValue::from(wrong)),
    ])
}

/// The schemas of the custom resources defined by `objects`.
pub fn crds_of(objects: &[Object]) -> CrdSchemas<'_> {
    CrdSchemas::of(objects.iter().map(|o| &o.root))
}

impl Report {
    fn append_under(&mut self, prefix: &[PathStep], other: Report) {
        let under = |path: Vec<PathStep>| prefix.iter().cloned().chain(path).collect();
        for mut u in other.unknown_fields {
            u.path = under(u.path);
            self.unknown_fields.push(u);
        }
        for mut w in other.wrong_types {
            w.path = under(w.path);
            self.wrong_types.push(w);
        }
    }
}

fn object(fields: Vec<(&str, RegoValue)>) -> RegoValue {
    RegoValue::from(
        fields
            .into_iter()
            .map(|(k, v)| (RegoValue::from(k), v))
            .collect::<std::collections::BTreeMap<_, _>>(),
    )
}

fn path_value(path: &[PathStep]) -> RegoValue {
    RegoValue::from(
        path.iter()
            .map(|step| match step {
                PathStep::Key(k) => RegoValue::from(k.as_str()),
                PathStep::Index(i) => RegoValue::from(*i),
            })
            .collect::<Vec<_>>(),
    )
}

/// Reads a tree into one k8s-openapi type, noting unknown keys on the way.
type Reader = fn(de::De<'_>) -> Result<(), de::Error>;

fn read_into<T: serde::de::DeserializeOwned>(de: de::De<'_>) -> Result<(), de::Error> {
    T::deserialize(de).map(drop)
}

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// Every kind of Kubernetes v1.33 (k8s-openapi's `Resource` types), by apiVersion and kind.
macro_rules! builtin_kinds {
    ($($ty:path,)*) => {
        fn builtin_readers() -> HashMap<(&'static str, &'static str), Reader> {
            use k8s_openapi::*;
            HashMap::from([$((
                (<$ty as Resource>::API_VERSION, <$ty as Resource>::KIND),
                read_into::<$ty> as Reader,
            ),)*])
        }

        /// The field names of the types the placement hints name.
        fn fields_of_types() -> HashMap<&'static str, &'static [&'static str]> {
            use k8s_openapi::api::core::v1::{Container, PodSpec};
            let mut fields = HashMap::new();
            for (name, list) in [
                ("Container", probe::fields::<Container>()),
                ("PodSpec", probe::fields::<PodSpec>()),
                ("ObjectMeta", probe::fields::<ObjectMeta>()),
            ] {
                fields.insert(name, list);
            }
            fields
        }
    };
}

builtin_kinds! {
    api::admissionregistration::v1::MutatingWebhookConfiguration,
    api::admissionregistration::v1::ValidatingAdmissionPolicy,
    api::admissionregistration::v1::ValidatingAdmissionPolicyBinding,
    api::admissionregistration::v1::ValidatingWebhookConfiguration,
    api::admissionregistration::v1alpha1::MutatingAdmissionPolicy,
    api::admissionregistration::v1alpha1::MutatingAdmissionPolicyBinding,
    api::admissionregistration::v1beta1::ValidatingAdmissionPolicy,
    api::admissionregistration::v1beta1::ValidatingAdmissionPolicyBinding,
    api::apiserverinternal::v1alpha1::StorageVersion,
    api::apps::v1::ControllerRevision,
    api::apps::v1::DaemonSet,
    api::apps::v1::Deployment,
    api::apps::v1::ReplicaSet,
    api::apps::v1::StatefulSet,
    api::authentication::v1::SelfSubjectReview,
    api::authentication::v1::TokenRequest,
    api::authentication::v1::TokenReview,
    api::authorization::v1::LocalSubjectAccessReview,
    api::authorization::v1::SelfSubjectAccessReview,
    api::authorization::v1::SelfSubjectRulesReview,
    api::authorization::v1::SubjectAccessReview,
    api::autoscaling::v1::HorizontalPodAutoscaler,
    api::autoscaling::v1::Scale,
    api::autoscaling::v2::HorizontalPodAutoscaler,
    api::batch::v1::CronJob,
    api::batch::v1::Job,
    api::certificates::v1::CertificateSigningRequest,
    api::certificates::v1alpha1::ClusterTrustBundle,
    api::certificates::v1beta1::ClusterTrustBundle,
    api::coordination::v1::Lease,
    api::coordination::v1alpha2::LeaseCandidate,
    api::coordination::v1beta1::LeaseCandidate,
    api::core::v1::Binding,
    api::core::v1::ComponentStatus,
    api::core::v1::ConfigMap,
    api::core::v1::Endpoints,
    api::core::v1::Event,
    api::core::v1::LimitRange,
    api::core::v1::Namespace,
    api::core::v1::Node,
    api::core::v1::PersistentVolume,
    api::core::v1::PersistentVolumeClaim,
    api::core::v1::Pod,
    api::core::v1::PodTemplate,
    api::core::v1::ReplicationController,
    api::core::v1::ResourceQuota,
    api::core::v1::Secret,
    api::core::v1::Service,
    api::core::v1::ServiceAccount,
    api::discovery::v1::EndpointSlice,
    api::events::v1::Event,
    api::flowcontrol::v1::FlowSchema,
    api::flowcontrol::v1::PriorityLevelConfiguration,
    api::networking::v1::Ingress,
    api::networking::v1::IngressClass,
    api::networking::v1::IPAddress,
    api::networking::v1::NetworkPolicy,
    api::networking::v1::ServiceCIDR,
    api::networking::v1beta1::IPAddress,
    api::networking::v1beta1::ServiceCIDR,
    api::node::v1::RuntimeClass,
    api::policy::v1::Eviction,
    api::policy::v1::PodDisruptionBudget,
    api::rbac::v1::ClusterRole,
    api::rbac::v1::ClusterRoleBinding,
    api::rbac::v1::Role,
    api::rbac::v1::RoleBinding,
    api::resource::v1alpha3::DeviceClass,
    api::resource::v1alpha3::DeviceTaintRule,
    api::resource::v1alpha3::ResourceClaim,
    api::resource::v1alpha3::ResourceClaimTemplate,
    api::resource::v1alpha3::ResourceSlice,
    api::resource::v1beta1::DeviceClass,
    api::resource::v1beta1::ResourceClaim,
    api::resource::v1beta1::ResourceClaimTemplate,
    api::resource::v1beta1::ResourceSlice,
    api::resource::v1beta2::DeviceClass,
    api::resource::v1beta2::ResourceClaim,
    api::resource::v1beta2::ResourceClaimTemplate,
    api::resource::v1beta2::ResourceSlice,
    api::scheduling::v1::PriorityClass,
    api::storage::v1::CSIDriver,
    api::storage::v1::CSINode,
    api::storage::v1::CSIStorageCapacity,
    api::storage::v1::StorageClass,
    api::storage::v1::VolumeAttachment,
    api::storage::v1alpha1::VolumeAttributesClass,
    api::storage::v1beta1::VolumeAttributesClass,
    api::storagemigration::v1alpha1::StorageVersionMigration,
    apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
    kube_aggregator::pkg::apis::apiregistration::v1::APIService,
}

fn builtin_reader(api_version: &str, kind: &str) -> Option<Reader> {
    static READERS: OnceLock<HashMap<(&'static str, &'static str), Reader>> = OnceLock::new();
    READERS
        .get_or_init(builtin_readers)
        .get(&(api_version, kind))
        .copied()
}

fn known_fields(type_name: &str) -> &'static [&'static str] {
    static FIELDS: OnceLock<HashMap<&'static str, &'static [&'static str]>> = OnceLock::new();
    FIELDS
        .get_or_init(fields_of_types)
        .get(type_name)
        .copied()
        .unwrap_or(&[])
}

/// How many times a wrong value is set aside to look for the next one: serde stops at the first,
/// and an object has rarely more than a few.
const MAX_PASSES: usize = 16;

/// Reads `root` into its type; each time a value has the wrong type it is reported, its key
/// removed (as if absent) in a copy, and the copy read again, so every wrong value is found, not
/// only the first.
fn check_builtin(root: &Node, read: Reader) -> Report {
    let unknown = RefCell::new(Vec::new());
    let mut report = Report::default();
    let mut patched: Option<Node> = None;
    let mut removed: HashSet<Vec<PathStep>> = HashSet::new();
    for _ in 0..MAX_PASSES {
        let tree = patched.as_ref().unwrap_or(root);
        let result = read(de::De {
            node: tree,
            at: &de::Segment::Root,
            unknown: &unknown,
            holder: None,
        });
        let Err(error) = result else { break };
        let path = error.path.clone().unwrap_or_default();
        let Some(node) = node_at(tree, &path) else {
            break;
        };
        // The value's own key goes; an item of a list of the wrong type takes its list along.
        let key_path = match path.iter().rposition(|s| matches!(s, PathStep::Key(_))) {
            Some(last_key) => path[..=last_key].to_vec(),
            None => break,
        };
        if !removed.insert(key_path.clone()) {
            break;
        }
        report
            .wrong_types
            .push(wrong_type(&path, node, error.problem));
        let mut copy = tree.clone();
        if !remove(&mut copy, &key_path) {
            break;
        }
        patched = Some(copy);
    }
    let mut seen = HashSet::new();
    for found in unknown.into_inner() {
        if seen.insert(found.path.clone()) {
            report.unknown_fields.push(unknown_field(found));
        }
    }
    report
}

fn node_at<'a>(root: &'a Node, path: &[PathStep]) -> Option<&'a Node> {
    path.iter()
        .try_fold(root, |node, step| match (step, &node.value) {
            (PathStep::Key(k), Value::Map(entries)) => entries
                .iter()
                .rev()
                .find(|e| *e.key == **k)
                .map(|e| &e.value),
            (PathStep::Index(i), Value::Seq(items)) => items.get(*i),
            _ => None,
        })
}

/// Removes the mapping entry at `path` (whose last step is a key), every copy of a duplicated key.
fn remove(root: &mut Node, path: &[PathStep]) -> bool {
    let Some((PathStep::Key(key), parent_path)) = path.split_last() else {
        return false;
    };
    let mut node = root;
    for step in parent_path {
        let next = match (step, &mut node.value) {
            (PathStep::Key(k), Value::Map(entries)) => entries
                .iter_mut()
                .rev()
                .find(|e| *e.key == **k)
                .map(|e| &mut e.value),
            (PathStep::Index(i), Value::Seq(items)) => items.get_mut(*i),
            _ => None,
        };
        match next {
            Some(child) => node = child,
            None => return false,
        }
    }
    match &mut node.value {
        Value::Map(entries) => {
            crate::manifest::node::remove_key(entries, key);
            true
        }
        _ => false,
    }
}

fn wrong_type(path: &[PathStep], node: &Node, problem: de::Problem) -> WrongType {
    let (expected, reason) = match problem {
        de::Problem::WrongType { expected, .. } => (Some(expected_text(&expected)), None),
        de::Problem::Invalid(message) => (None, Some(message)),
    };
    WrongType {
        path: path.to_vec(),
        found: describe(node),
        expected,
        reason,
    }
}

/// serde's name of what a type takes, as the messages say it.
fn expected_text(serde_expected: &str) -> String {
    let text = match serde_expected {
        "i8" | "i16" | "i32" | "i64" | "i128" | "u8" | "u16" | "u32" | "u64" | "u128" => {
            "an integer"
        }
        "f32" | "f64" => "a number",
        "a string" | "a borrowed string" => "a string",
        "a boolean" => "true or false",
        "a sequence" => "a list",
        "a map" => "an object",
        "IntOrString" => "an integer or a string",
        "Quantity" => "a quantity (such as 500m or 1Gi)",
        other if other.starts_with(|c: char| c.is_ascii_uppercase()) => {
            return format!("an object ({other})");
        }
        other => return other.to_string(),
    };
    text.to_string()
}

/// A value as the messages describe it, in the words `invalid-field-type` uses.
pub(crate) fn describe(node: &Node) -> String {
    match &node.value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => format!("the number {i}"),
        Value::Float(f) => format!("the number {f}"),
        Value::String(s) => format!("the string {s:?}"),
        Value::Seq(items) if items.is_empty() => "an empty list".to_string(),
        Value::Seq(_) => "a list".to_string(),
        Value::Map(_) => "an object".to_string(),
    }
}

/// Kind-level types that hold a pod template's spec one or two levels down.
const WORKLOAD_SPECS: [&str; 6] = [
    "DeploymentSpec",
    "StatefulSetSpec",
    "DaemonSetSpec",
    "ReplicaSetSpec",
    "JobSpec",
    "ReplicationControllerSpec",
];

fn unknown_field(found: de::Unknown) -> UnknownField {
    let key = match found.path.last() {
        Some(PathStep::Key(key)) => key.as_str(),
        _ => "",
    };
    let suggestion = suggest(key, found.known).map(str::to_string);
    let belongs = if suggestion.is_some() {
        None
    } else {
        belongs(found.holder, key)
    };
    UnknownField {
        holder: format!("{} in Kubernetes {KUBERNETES_VERSION}", found.holder),
        path: found.path,
        suggestion,
        belongs,
    }
}

/// Where a key belongs that is a field one level off: a container field in the pod spec, a pod
/// spec field in a container or a workload's spec, a metadata field on the object itself.
fn belongs(holder: &str, key: &str) -> Option<&'static str> {
    let is = |type_name: &str| known_fields(type_name).contains(&key);
    match holder {
        "PodSpec" if is("Container") => Some("a container (containers[])"),
        "Container" if is("PodSpec") => Some("the pod spec (beside containers)"),
        "PodTemplateSpec" if is("PodSpec") => Some("the template's spec"),
        h if WORKLOAD_SPECS.contains(&h) && is("PodSpec") => Some("the pod spec (template.spec)"),
        _ if builtin_kind_name(holder) && is("ObjectMeta") => Some("metadata"),
        _ => None,
    }
}

fn builtin_kind_name(name: &str) -> bool {
    static KINDS: OnceLock<HashSet<&'static str>> = OnceLock::new();
    KINDS
        .get_or_init(|| builtin_readers().keys().map(|(_, kind)| *kind).collect())
        .contains(name)
}

/// The known field a small edit away from `key`: the same name in another case first, then the
/// closest by Damerau-Levenshtein distance (at most 1 for short names, 2 from 6 characters on).
pub(crate) fn suggest<'a>(key: &str, known: &[&'a str]) -> Option<&'a str> {
    let lower = key.to_lowercase();
    if let Some(same) = known.iter().find(|k| k.to_lowercase() == lower) {
        return Some(same);
    }
    let limit = if key.chars().count() >= 6 { 2 } else { 1 };
    known
        .iter()
        .map(|k| (strsim::damerau_levenshtein(&lower, &k.to_lowercase()), *k))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, k)| k)
}

/// Asks a type for the names of its fields without reading anything.
mod probe {
    use std::fmt;

    use serde::de::{self, Visitor};

    #[derive(Debug)]
    struct Fields(&'static [&'static str]);

    impl fmt::Display for Fields {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("field names")
        }
    }

    impl std::error::Error for Fields {}

    impl de::Error for Fields {
        fn custom<T: fmt::Display>(_: T) -> Self {
            Fields(&[])
        }
    }

    struct Probe;

    impl<'de> de::Deserializer<'de> for Probe {
        type Error = Fields;

        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Fields> {
            Err(Fields(&[]))
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Fields> {
            Err(Fields(fields))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
            ignored_any
        }
    }

    pub(super) fn fields<T: serde::de::DeserializeOwned>() -> &'static [&'static str] {
        match T::deserialize(Probe) {
            Err(Fields(fields)) => fields,
            Ok(_) => &[],
        }
    }
}

#[cfg(test)]
mod tests;
