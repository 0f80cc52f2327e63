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

/// Reads an AdmissionReview v1 body into its request, as `POST /validate` does: the apiVersion is
/// checked before the request's fields, so a v1beta1 review gets that error rather than a confusing
/// one about its fields. The error is the message of the 400 answer.
pub fn decode_review(body: &[u8]) -> Result<AdmissionRequest, String> {
    let review: AdmissionReview =
        serde_json::from_slice(body).map_err(|e| format!("not an AdmissionReview: {e}"))?;
    if review.api_version.as_deref() != Some(API_VERSION) {
        return Err(format!(
            "apiVersion must be {API_VERSION} (got {}); set admissionReviewVersions: [v1]",
            review.api_version.as_deref().unwrap_or("none")
        ));
    }
    let Some(raw_request) = review.request else {
        return Err("AdmissionReview has no request".to_string());
    };
    serde_json::from_str(raw_request.get())
        .map_err(|e| format!("not an AdmissionReview: request: {e}"))
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
