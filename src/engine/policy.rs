//! A rule's source file: its doc comment, package and metadata, checked when it is loaded.

use serde::{Deserialize, Serialize};

use crate::finding::Severity;

/// The fixed sections of a rule's doc comment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RuleDoc {
    pub what: String,
    pub why: String,
    pub example: String,
    pub fix: String,
}

impl RuleDoc {
    pub fn is_complete(&self) -> bool {
        !(self.what.is_empty()
            || self.why.is_empty()
            || self.example.is_empty()
            || self.fix.is_empty())
    }
}

type SectionField = fn(&mut RuleDoc) -> &mut String;

/// Reads the leading `#` comment of a policy: `# What it does:`, `# Why:`, `# Example:`, `# Fix:`,
/// each continued by indented comment lines.
pub fn parse_doc(source: &str) -> RuleDoc {
    let mut doc = RuleDoc::default();
    let mut current: Option<&mut String> = None;
    for line in source.lines() {
        let Some(comment) = line.strip_prefix('#') else {
            break;
        };
        let comment = comment.strip_prefix(' ').unwrap_or(comment);
        let sections: [(&str, SectionField); 4] = [
            ("What it does:", |d| &mut d.what),
            ("Why:", |d| &mut d.why),
            ("Example:", |d| &mut d.example),
            ("Fix:", |d| &mut d.fix),
        ];
        if let Some((rest, field)) = sections
            .iter()
            .find_map(|(label, field)| comment.strip_prefix(label).map(|rest| (rest, field)))
        {
            let target = field(&mut doc);
            target.push_str(rest.trim());
            current = Some(target);
            continue;
        }
        if let Some(target) = current.as_deref_mut() {
            // Examples keep their layout (YAML); prose sections are joined into one paragraph below.
            if !target.is_empty() {
                target.push('\n');
            }
            target.push_str(comment.strip_prefix("  ").unwrap_or(comment));
        }
    }
    for text in [&mut doc.what, &mut doc.why, &mut doc.fix] {
        *text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    }
    doc.example = doc.example.trim_matches('\n').to_string();
    doc
}

/// The `package` a policy declares.
pub fn package_of(source: &str) -> Option<String> {
    source.lines().find_map(|line| {
        let rest = line.trim_start().strip_prefix("package ")?;
        Some(rest.split('#').next().unwrap_or(rest).trim().to_string())
    })
}

pub const RULES_PACKAGE_PREFIX: &str = "seaworthy.rules.";

/// A rule's `metadata`, validated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleMeta {
    pub id: String,
    pub area: String,
    pub severity: Severity,
    /// Object kinds the rule applies to; `None` means every kind.
    pub kinds: Option<Vec<String>>,
    pub summary: String,
    pub remediation: String,
    /// Parameter defaults (a JSON object), overridden by the config file.
    pub params: serde_json::Map<String, serde_json::Value>,
    /// Pod Security Standards level and control, for the security rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub control: Option<String>,
    /// What the rule looks at beyond the object itself (the webhook uses it to decide what to run).
    pub scope: Scope,
    /// The kinds of other objects the rule reads (through the context or `data.inventory`): the
    /// webhook's cluster cache watches exactly these, and the chart's RBAC grants them.
    #[serde(default)]
    pub reads: Vec<ReadKind>,
    /// The kinds whose content (anything beyond `apiVersion`, `kind` and `metadata`) the rule
    /// reads, of the objects it judges and of those it finds in `data.inventory`, besides the
    /// kinds in `reads`. `None` (the key left out) means the content of every object it judges,
    /// and of every object in `data.inventory` when it reads that: the safe default. A run hands
    /// objects whose content no enabled rule reads to the engine as their identity alone (the
    /// large CustomResourceDefinitions of a chart are never converted in full).
    #[serde(default)]
    pub content: Option<Vec<String>>,
}

/// A kind of object a rule reads from around the object it judges: `policy/v1/PodDisruptionBudget`,
/// `v1/LimitRange` (the core group has no prefix).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ReadKind {
    pub group: String,
    pub version: String,
    pub kind: String,
}

impl ReadKind {
    pub fn parse(text: &str) -> Option<ReadKind> {
        let parts: Vec<&str> = text.split('/').collect();
        let (group, version, kind) = match parts.as_slice() {
            [version, kind] => ("", *version, *kind),
            [group, version, kind] if !group.is_empty() => (*group, *version, *kind),
            _ => return None,
        };
        let valid_kind = is_kind_name(kind);
        let valid_version = version.starts_with('v') && version.len() > 1;
        (valid_kind && valid_version).then(|| ReadKind {
            group: group.to_string(),
            version: version.to_string(),
            kind: kind.to_string(),
        })
    }

    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The resource name the API serves the kind under, as Kubernetes guesses it
    /// (`UnsafeGuessKindToResource`): lowercase, then `y` → `ies`, `s` → `ses`, else `s`.
    pub fn plural(&self) -> String {
        let lower = self.kind.to_ascii_lowercase();
        if lower == "endpoints" {
            lower
        } else if let Some(stem) = lower.strip_suffix('y') {
            format!("{stem}ies")
        } else if lower.ends_with('s') {
            format!("{lower}es")
        } else {
            format!("{lower}s")
        }
    }
}

impl std::fmt::Display for ReadKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.api_version(), self.kind)
    }
}

/// The keys a rule's `metadata` may have. Anything else is a typo that would silently change
/// what the rule does (`"kind"` for `"kinds"` would make it apply to every kind).
const METADATA_KEYS: [&str; 12] = [
    "id",
    "area",
    "severity",
    "kinds",
    "summary",
    "remediation",
    "params",
    "level",
    "control",
    "scope",
    "reads",
    "content",
];

/// How much of the world a rule needs to see to give a right answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// The object alone.
    #[default]
    Object,
    /// Related objects (`input.related`, the context fields of `input.workload`, `data.inventory`):
    /// an answer can change when a related object arrives later.
    Related,
    /// Every object that could relate (e.g. "this PDB selects nothing"): only right when the
    /// inventory is complete, as in a lint run over a whole repository.
    Complete,
    /// The manifest as written in the repository (the apiVersion it names, the secret values it
    /// commits): lint only. At admission the API server has already converted the object to the
    /// version the webhook registered for, and a cluster must hold what such a rule flags.
    Manifest,
}

impl Scope {
    fn parse(text: &str) -> Option<Scope> {
        match text {
            "object" => Some(Scope::Object),
            "related" => Some(Scope::Related),
            "complete" => Some(Scope::Complete),
            "manifest" => Some(Scope::Manifest),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Object => "object",
            Scope::Related => "related",
            Scope::Complete => "complete",
            Scope::Manifest => "manifest",
        }
    }
}

/// The sources of rules generated from policies written for other tools, whose ids name the
/// original: `gatekeeper/<constraint kind>/<constraint name>`, `conftest/<package>/<rule>`.
pub const FOREIGN_ID_PREFIXES: [&str; 2] = ["gatekeeper/", "conftest/"];

pub fn is_valid_id(id: &str) -> bool {
    if let Some(rest) = FOREIGN_ID_PREFIXES
        .iter()
        .find_map(|prefix| id.strip_prefix(prefix))
    {
        // Kubernetes object names and Rego package and rule names, lowercased.
        return rest.split('/').all(|part| {
            !part.is_empty()
                && part.chars().all(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.' | '_')
                })
        });
    }
    !id.is_empty()
        && id.split('-').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

/// Checks a metadata document: required fields, known severity, kebab-case id.
pub fn parse_meta(value: &serde_json::Value) -> Result<RuleMeta, String> {
    let obj = value.as_object().ok_or("metadata must be an object")?;
    if let Some(unknown) = obj.keys().find(|k| !METADATA_KEYS.contains(&k.as_str())) {
        let hint = METADATA_KEYS
            .iter()
            .find(|known| known.starts_with(unknown.as_str()) || unknown.starts_with(*known))
            .map(|known| format!(" (did you mean {known:?}?)"))
            .unwrap_or_default();
        return Err(format!(
            "metadata.{unknown} is not a metadata key{hint}; the keys are {}",
            METADATA_KEYS.join(", ")
        ));
    }
    let text = |key: &str| -> Result<String, String> {
        match obj.get(key) {
            Some(serde_json::Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
            Some(_) => Err(format!("metadata.{key} must be a non-empty string")),
            None => Err(format!("metadata.{key} is required")),
        }
    };
    let optional_text = |key: &str| obj.get(key).and_then(|v| v.as_str()).map(str::to_string);
    let id = text("id")?;
    if !is_valid_id(&id) {
        return Err(format!(
            "metadata.id {id:?} must be kebab-case (lowercase letters, digits and dashes)"
        ));
    }
    let severity_text = text("severity")?;
    let severity = Severity::parse(&severity_text).ok_or_else(|| {
        format!("metadata.severity {severity_text:?} must be one of error, warning, notice")
    })?;
    let kinds = list_of(
        obj,
        "kinds",
        "metadata.kinds must be a list of strings",
        |item| item.as_str().map(str::to_string),
        |_| "metadata.kinds must be a list of strings".to_string(),
    )?;
    let params = match obj.get("params") {
        None => serde_json::Map::new(),
        Some(serde_json::Value::Object(map)) => map.clone(),
        Some(_) => return Err("metadata.params must be an object".into()),
    };
    let scope = match obj.get("scope") {
        None => Scope::Object,
        Some(value) => value.as_str().and_then(Scope::parse).ok_or_else(|| {
            format!("metadata.scope {value} must be one of object, related, complete")
        })?,
    };
    let reads = list_of(
        obj,
        "reads",
        "metadata.reads must be a list of GROUP/VERSION/Kind strings",
        |item| item.as_str().and_then(ReadKind::parse),
        |item| format!("metadata.reads: {item} is not GROUP/VERSION/Kind (e.g. \"policy/v1/PodDisruptionBudget\", \"v1/LimitRange\")"),
    )?
    .unwrap_or_default();
    let content = list_of(
        obj,
        "content",
        "metadata.content must be a list of kinds",
        |item| {
            item.as_str()
                .filter(|kind| is_kind_name(kind))
                .map(str::to_string)
        },
        |item| format!("metadata.content: {item} is not a kind (e.g. \"PodDisruptionBudget\")"),
    )?;
    Ok(RuleMeta {
        id,
        area: text("area")?,
        severity,
        kinds,
        summary: text("summary")?,
        remediation: text("remediation")?,
        params,
        level: optional_text("level"),
        control: optional_text("control"),
        scope,
        reads,
        content,
    })
}

/// A metadata key holding a list: None when it is left out; an error when it is not a list
/// (`not_a_list`) or an item does not parse (`bad_item`, given the item).
fn list_of<T>(
    metadata: &serde_json::Map<String, serde_json::Value>,
    key: &str,
    not_a_list: &str,
    parse: impl Fn(&serde_json::Value) -> Option<T>,
    bad_item: impl Fn(&serde_json::Value) -> String,
) -> Result<Option<Vec<T>>, String> {
    match metadata.get(key) {
        None => Ok(None),
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .map(|item| parse(item).ok_or_else(|| bad_item(item)))
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(not_a_list.to_string()),
    }
}

/// A kind as the API names it: `Deployment`, `PodDisruptionBudget`.
fn is_kind_name(text: &str) -> bool {
    text.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && text.chars().all(|c| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_doc_sections() {
        let src = "# What it does: flags a thing.\n# Why: because\n#   it matters.\n# Example:\n#   containers:\n#     - name: x\n# Fix: do it.\npackage seaworthy.rules.a.b\n";
        let doc = parse_doc(src);
        assert_eq!(doc.what, "flags a thing.");
        assert_eq!(doc.why, "because it matters.");
        assert_eq!(doc.example, "containers:\n  - name: x");
        assert_eq!(doc.fix, "do it.");
        assert_eq!(package_of(src).as_deref(), Some("seaworthy.rules.a.b"));
    }

    #[test]
    fn plurals_follow_kubernetes_guess() {
        let plural = |k: &str| ReadKind::parse(k).map(|r| r.plural());
        assert_eq!(
            plural("networking.k8s.io/v1/NetworkPolicy").as_deref(),
            Some("networkpolicies")
        );
        assert_eq!(
            plural("v1/ServiceAccount").as_deref(),
            Some("serviceaccounts")
        );
        assert_eq!(
            plural("autoscaling/v2/HorizontalPodAutoscaler").as_deref(),
            Some("horizontalpodautoscalers")
        );
        assert_eq!(
            plural("projectcalico.org/v3/GlobalNetworkPolicy").as_deref(),
            Some("globalnetworkpolicies")
        );
        assert_eq!(plural("v1/Endpoints").as_deref(), Some("endpoints"));
    }

    #[test]
    fn metadata_is_validated() {
        let good = serde_json::json!({"id": "a-b", "area": "x", "severity": "warning", "summary": "s", "remediation": "r."});
        assert_eq!(parse_meta(&good).map(|m| m.severity), Ok(Severity::Warning));
        let bad_severity = serde_json::json!({"id": "a-b", "area": "x", "severity": "fatal", "summary": "s", "remediation": "r."});
        assert!(parse_meta(&bad_severity).unwrap_err().contains("severity"));
        let bad_id = serde_json::json!({"id": "A_b", "area": "x", "severity": "error", "summary": "s", "remediation": "r."});
        assert!(parse_meta(&bad_id).unwrap_err().contains("kebab-case"));
        let bad_scope = serde_json::json!({"id": "a-b", "area": "x", "severity": "error", "summary": "s", "remediation": "r.", "scope": "cluster"});
        assert!(parse_meta(&bad_scope).unwrap_err().contains("scope"));
        let related = serde_json::json!({"id": "a-b", "area": "x", "severity": "error", "summary": "s", "remediation": "r.", "scope": "related"});
        assert_eq!(parse_meta(&related).map(|m| m.scope), Ok(Scope::Related));
        let missing = serde_json::json!({"id": "a", "severity": "error"});
        assert!(parse_meta(&missing).unwrap_err().contains("required"));
        let typo = serde_json::json!({"id": "a-b", "area": "x", "severity": "error", "summary": "s", "remediation": "r.", "kind": ["Pod"]});
        let error = parse_meta(&typo).unwrap_err();
        assert!(
            error.contains("metadata.kind is not a metadata key (did you mean \"kinds\"?)"),
            "{error}"
        );
        let reads = serde_json::json!({"id": "a-b", "area": "x", "severity": "error", "summary": "s", "remediation": "r.", "reads": ["policy/v1/PodDisruptionBudget", "v1/LimitRange"]});
        let meta = parse_meta(&reads).expect("valid reads");
        assert_eq!(meta.reads[0].api_version(), "policy/v1");
        assert_eq!(meta.reads[0].plural(), "poddisruptionbudgets");
        assert_eq!(meta.reads[1].to_string(), "v1/LimitRange");
        let bad_reads = serde_json::json!({"id": "a-b", "area": "x", "severity": "error", "summary": "s", "remediation": "r.", "reads": ["PodDisruptionBudget"]});
        assert!(parse_meta(&bad_reads)
            .unwrap_err()
            .contains("GROUP/VERSION/Kind"));
        // `content`: left out, every kind's; a list of kinds, only theirs; anything else, an error.
        assert_eq!(parse_meta(&reads).map(|m| m.content), Ok(None));
        let content = serde_json::json!({"id": "a-b", "area": "x", "severity": "error", "summary": "s", "remediation": "r.", "content": ["PodDisruptionBudget"]});
        assert_eq!(
            parse_meta(&content).map(|m| m.content),
            Ok(Some(vec!["PodDisruptionBudget".to_string()]))
        );
        let none = serde_json::json!({"id": "a-b", "area": "x", "severity": "error", "summary": "s", "remediation": "r.", "content": []});
        assert_eq!(parse_meta(&none).map(|m| m.content), Ok(Some(Vec::new())));
        for bad in [
            serde_json::json!("PodDisruptionBudget"),
            serde_json::json!(["policy/v1/PodDisruptionBudget"]),
            serde_json::json!(["pod"]),
            serde_json::json!([true]),
        ] {
            let meta = serde_json::json!({"id": "a-b", "area": "x", "severity": "error", "summary": "s", "remediation": "r.", "content": bad});
            let error = parse_meta(&meta).unwrap_err();
            assert!(error.starts_with("metadata.content"), "{bad}: {error}");
        }
    }
}
