//! The AdmissionReview v1 wire format: the request the API server sends and the review we answer.
//! Only the fields the webhook reads are typed; the objects are read into document trees.

use serde::{Deserialize, Serialize};

use crate::manifest::node::Node;

pub const API_VERSION: &str = "admission.k8s.io/v1";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionReview {
    pub api_version: Option<String>,
    pub kind: Option<String>,
    /// Read after apiVersion is checked, so a v1beta1 review gets that error rather than a
    /// confusing one about its fields.
    pub request: Option<Box<serde_json::value::RawValue>>,
}

/// The same review read in one pass, request and all.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WholeReview {
    api_version: Option<String>,
    /// Not read, but typed as in [`AdmissionReview`], so both refuse the same bodies.
    #[serde(rename = "kind")]
    _kind: Option<String>,
    request: Option<AdmissionRequest>,
}

/// Reads an AdmissionReview v1 body into its request, as `POST /validate` does: the apiVersion is
/// checked before the request's fields, so a v1beta1 review gets that error rather than a confusing
/// one about its fields. The error is the message of the 400 answer.
///
/// A body that reads whole in one pass is checked as it is: that pass and the two below agree on
/// every body that one of them reads. Only a body that does not is read again in two passes (the
/// review with its request kept as raw text, then the request), for the error those give. The
/// one pass saves scanning the request twice on every review.
pub fn decode_review(body: &[u8]) -> Result<AdmissionRequest, String> {
    match serde_json::from_slice::<WholeReview>(body) {
        Ok(review) => {
            check_api_version(review.api_version.as_deref())?;
            review
                .request
                .ok_or_else(|| "AdmissionReview has no request".to_string())
        }
        Err(_) => decode_review_in_two_passes(body),
    }
}

fn decode_review_in_two_passes(body: &[u8]) -> Result<AdmissionRequest, String> {
    let review: AdmissionReview =
        serde_json::from_slice(body).map_err(|e| format!("not an AdmissionReview: {e}"))?;
    check_api_version(review.api_version.as_deref())?;
    let Some(raw_request) = review.request else {
        return Err("AdmissionReview has no request".to_string());
    };
    serde_json::from_str(raw_request.get())
        .map_err(|e| format!("not an AdmissionReview: request: {e}"))
}

fn check_api_version(api_version: Option<&str>) -> Result<(), String> {
    if api_version == Some(API_VERSION) {
        return Ok(());
    }
    Err(format!(
        "apiVersion must be {API_VERSION} (got {}); set admissionReviewVersions: [v1]",
        api_version.unwrap_or("none")
    ))
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct GroupVersionKind {
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub kind: String,
}

impl GroupVersionKind {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Operation {
    Create,
    Update,
    Delete,
    Connect,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
            Operation::Connect => "CONNECT",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionRequest {
    pub uid: String,
    pub kind: GroupVersionKind,
    #[serde(default)]
    pub sub_resource: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub namespace: Option<String>,
    pub operation: Operation,
    #[serde(default)]
    pub user_info: Option<UserInfo>,
    /// Decoded straight into the tree the rest of the review reads (no intermediate JSON value).
    #[serde(default)]
    pub object: Option<Node>,
    #[serde(default)]
    pub old_object: Option<Node>,
    #[serde(default)]
    pub dry_run: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct UserInfo {
    #[serde(default)]
    pub username: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionResponse {
    pub uid: String,
    pub allowed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Recorded in the API server's audit log, under `<webhook name>/<key>`.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub audit_annotations: std::collections::BTreeMap<String, String>,
}

impl AdmissionResponse {
    pub fn allow(uid: &str) -> AdmissionResponse {
        AdmissionResponse {
            uid: uid.to_string(),
            allowed: true,
            status: None,
            warnings: Vec::new(),
            audit_annotations: Default::default(),
        }
    }

    pub fn deny(uid: &str, message: String) -> AdmissionResponse {
        AdmissionResponse {
            allowed: false,
            status: Some(Status {
                code: 403,
                reason: "Forbidden",
                message,
            }),
            ..AdmissionResponse::allow(uid)
        }
    }

    /// The whole AdmissionReview answer, as the API server expects it.
    pub fn into_review(self) -> serde_json::Value {
        serde_json::json!({
            "apiVersion": API_VERSION,
            "kind": "AdmissionReview",
            "response": self,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(body: &str) -> (String, String) {
        (
            format!("{:?}", decode_review(body.as_bytes())),
            format!("{:?}", decode_review_in_two_passes(body.as_bytes())),
        )
    }

    #[test]
    fn one_pass_and_two_passes_agree_on_every_fixture_and_on_broken_bodies() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/admission");
        let mut bodies: Vec<String> = std::fs::read_dir(dir)
            .expect("fixtures")
            .map(|e| std::fs::read_to_string(e.expect("entry").path()).expect("read"))
            .collect();
        assert!(bodies.len() >= 4, "the fixtures are there");
        let valid = bodies[0].clone();
        let request = r#"{"uid": "u", "kind": {"group": "", "version": "v1", "kind": "Pod"}, "operation": "CREATE", "object": {"kind": "Pod"}}"#;
        bodies.extend([
            format!(r#"{{"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview", "request": {request}}}"#),
            format!(r#"{{"kind": "AdmissionReview", "request": {request}}}"#),
            format!(r#"{{"apiVersion": "admission.k8s.io/v1", "kind": 5, "request": {request}}}"#),
            format!(r#"{{"apiVersion": "admission.k8s.io/v1", "request": {request}, "request": {request}}}"#),
            format!(r#"{{"apiVersion": "admission.k8s.io/v1", "request": {request}}} trailing"#),
            r#"{"apiVersion": "admission.k8s.io/v1", "request": null}"#.to_string(),
            r#"{"apiVersion": "admission.k8s.io/v1"}"#.to_string(),
            r#"{"apiVersion": "admission.k8s.io/v1", "request": {"kind": {}, "operation": "CREATE"}}"#.to_string(),
            r#"{"apiVersion": "admission.k8s.io/v1beta1", "request": {"uid": 7}}"#.to_string(),
            r#"{"apiVersion": "admission.k8s.io/v1", "request": {"uid": "u", "kind": {}, "operation": "PATCH"}}"#.to_string(),
            "[]".to_string(),
            "".to_string(),
            valid[..valid.len() / 2].to_string(),
        ]);
        for body in &bodies {
            let (one, two) = both(body);
            assert_eq!(one, two, "{body}");
        }
    }

    #[test]
    fn the_api_version_is_named_before_the_requests_fields() {
        let (one, _) = both(r#"{"apiVersion": "admission.k8s.io/v1beta1", "request": {"uid": 7}}"#);
        assert!(
            one.contains("apiVersion must be admission.k8s.io/v1 (got admission.k8s.io/v1beta1)"),
            "{one}"
        );
        let (valid, _) = both(
            r#"{"apiVersion": "admission.k8s.io/v1", "request": {"uid": "u", "kind": {"kind": "Pod"}, "operation": "DELETE"}}"#,
        );
        assert!(valid.starts_with("Ok("), "{valid}");
    }
}
