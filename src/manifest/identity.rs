//! Which object a document is, the one way both `lint` and `serve` work it out.

use super::node::Node;
use crate::finding::ObjectRef;

/// The identity of an object: apiVersion, kind, namespace and name (else `generateName`) as written,
/// with `fallback` filling what the object leaves out (the kind of a typed list's items, the
/// namespace and name of an admission request). Empty strings count as absent, as the API server
/// treats them. None when apiVersion or kind is still missing.
pub fn identity(root: &Node, fallback: Option<&ObjectRef>) -> Option<ObjectRef> {
    let text = |path: &[&str]| {
        root.get_path(path)
            .and_then(Node::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    Some(ObjectRef {
        api_version: text(&["apiVersion"]).or_else(|| fallback.map(|f| f.api_version.clone()))?,
        kind: text(&["kind"]).or_else(|| fallback.map(|f| f.kind.clone()))?,
        namespace: text(&["metadata", "namespace"])
            .or_else(|| fallback.and_then(|f| f.namespace.clone())),
        name: text(&["metadata", "name"])
            .or_else(|| fallback.and_then(|f| f.name.clone()))
            .or_else(|| text(&["metadata", "generateName"])),
    })
}
