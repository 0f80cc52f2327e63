//! Splits a YAML stream into documents before parsing, so one broken document is reported and the
//! others are still read, and remembers Helm's `# Source: chart/templates/x.yaml` markers.

/// One document's text and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Chunk<'a> {
    pub text: &'a str,
    /// 0-based line of the file the chunk starts on (added to the parser's 1-based lines).
    pub first_line: u32,
    /// The Helm template named by a `# Source:` comment before the document's content.
    pub source: Option<String>,
}

/// `---` (optionally followed by content) or `...` at the start of a line separates documents.
/// Such a line cannot occur inside a valid document: YAML forbids document markers in scalars.
fn is_separator(line: &str) -> bool {
    let line = line.trim_end_matches(['\r', '\n']);
    for marker in ["---", "..."] {
        if let Some(rest) = line.strip_prefix(marker) {
            if rest.is_empty() || rest.starts_with([' ', '\t']) {
                return true;
            }
        }
    }
    false
}

/// Helm writes `# Source: <chart>/templates/<file>` at the start of the line, with a path that has
/// no spaces; a comment that merely starts with "Source:" is prose, not a marker.
fn helm_source(line: &str) -> Option<&str> {
    let path = line.trim_end().strip_prefix("# Source: ")?.trim();
    (!path.is_empty() && !path.contains(char::is_whitespace) && path.contains('/')).then_some(path)
}

pub fn split_documents(text: &str) -> Vec<Chunk<'_>> {
    let mut chunks = Vec::new();
    let mut start = 0usize;
    let mut start_line = 0u32;
    let mut offset = 0usize;
    for (line_no, line) in (0u32..).zip(text.split_inclusive('\n')) {
        if line_no > start_line && is_separator(line) {
            chunks.push(make_chunk(&text[start..offset], start_line));
            start = offset;
            start_line = line_no;
        }
        offset += line.len();
    }
    if start < text.len() || chunks.is_empty() {
        chunks.push(make_chunk(&text[start..], start_line));
    }
    chunks
}

fn make_chunk(text: &str, first_line: u32) -> Chunk<'_> {
    let mut source = None;
    for line in text.lines() {
        let trimmed = line.trim();
        if let Some(path) = helm_source(line) {
            source = Some(path.to_string());
        } else if !(trimmed.is_empty() || trimmed.starts_with('#') || is_separator(line)) {
            break;
        }
    }
    Chunk {
        text,
        first_line,
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_markers_and_keeps_line_numbers() {
        let text = "a: 1\n---\nb: 2\n--- # comment\nc: 3\n...\n";
        let chunks = split_documents(text);
        let starts: Vec<u32> = chunks.iter().map(|c| c.first_line).collect();
        assert_eq!(starts, vec![0, 1, 3, 5]);
        assert_eq!(chunks[1].text, "---\nb: 2\n");
    }

    #[test]
    fn a_dash_line_inside_content_is_not_a_separator() {
        let text = "a: |\n  ---\n  x\nb: ----\n";
        assert_eq!(split_documents(text).len(), 1);
    }

    #[test]
    fn remembers_helm_source_markers() {
        let text = "---\n# Source: app/templates/deploy.yaml\napiVersion: v1\n---\n# Source: app/templates/svc.yaml\nkind: x\n";
        let sources: Vec<Option<String>> = split_documents(text)
            .into_iter()
            .map(|c| c.source)
            .collect();
        assert_eq!(
            sources,
            vec![
                Some("app/templates/deploy.yaml".to_string()),
                Some("app/templates/svc.yaml".to_string())
            ]
        );
    }

    #[test]
    fn prose_comments_are_not_source_markers() {
        let text = "# Source: shared/seeds/001.txt. Kept as written.\napiVersion: v1\n";
        assert_eq!(split_documents(text)[0].source, None);
    }

    #[test]
    fn crlf_separators() {
        assert_eq!(split_documents("a: 1\r\n---\r\nb: 2\r\n").len(), 2);
    }
}
