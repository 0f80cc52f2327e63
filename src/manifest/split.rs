//! Splits a YAML stream into documents before parsing, so one broken document is reported and the
//! others are still read, and remembers Helm's `# Source: chart/templates/x.yaml` markers.

use super::lines;

/// One document's text and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Chunk<'a> {
    pub text: &'a str,
    /// 0-based line of the file the chunk starts on (added to the parser's 1-based lines).
    pub first_line: u32,
    /// The Helm template named by a `# Source:` comment before the document's content.
    pub source: Option<String>,
}

/// A `---` line starts a new document, as it does for kubectl's document reader (which splits at
/// nothing else: after `...` the rest of a section is part of it). Such a line cannot occur
/// inside a valid document: YAML forbids document markers in scalars.
fn is_separator(line: &str) -> bool {
    let line = line.trim_end_matches(['\r', '\n']);
    match line.strip_prefix("---") {
        Some(rest) => rest.is_empty() || rest.starts_with([' ', '\t']),
        None => false,
    }
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
    for (line_no, line) in (0u32..).zip(lines::lines_with_breaks(text)) {
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

/// What the YAML parser reads of a chunk.
#[derive(Debug, Clone, PartialEq)]
pub struct Body<'a> {
    pub text: &'a str,
    /// 0-based line of the file `text` starts on.
    pub first_line: u32,
    /// 0-based line of the first content after a `...` end marker, which kubectl never reads.
    pub ignored_from: Option<u32>,
}

/// The text the YAML parser reads for a chunk, as kubectl's reader hands it to go-yaml: without a
/// separator line that holds nothing but `---` and a comment (a byte order mark after it then
/// starts the parser's stream, where it is allowed), and up to the first `...` end marker, after
/// which go-yaml stops reading. YAML forbids a `...` line inside a scalar, so the cut is safe.
pub fn body<'a>(chunk: &Chunk<'a>) -> Body<'a> {
    let mut text = chunk.text;
    let mut first_line = chunk.first_line;
    if let Some(first) = lines::lines_with_breaks(text).next() {
        if is_separator(first) && separator_content(chunk).is_none() {
            text = &text[first.len()..];
            first_line += 1;
        }
    }
    let mut offset = 0;
    let mut end_marker = None;
    for (index, line) in (0u32..).zip(lines::lines_with_breaks(text)) {
        offset += line.len();
        if let Some(rest) = line.trim_end_matches(['\r', '\n']).strip_prefix("...") {
            if rest.is_empty() || rest.starts_with([' ', '\t']) {
                end_marker = Some((index, offset));
                break;
            }
        }
    }
    let Some((marker_line, end)) = end_marker else {
        return Body {
            text,
            first_line,
            ignored_from: None,
        };
    };
    let ignored_from = (marker_line + 1..)
        .zip(lines::lines(&text[end..]))
        .find(|(_, line)| {
            let trimmed = line.trim();
            !trimmed.is_empty() && !trimmed.starts_with('#')
        })
        .map(|(index, _)| first_line + index);
    Body {
        text: &text[..end],
        first_line,
        ignored_from,
    }
}

/// Content after `---` on a chunk's separator line, with its 1-based column: kubectl's document
/// reader accepts only a comment there ("invalid Yaml document separator"), though YAML allows more.
pub fn separator_content(chunk: &Chunk) -> Option<(u32, String)> {
    let first = lines::lines(chunk.text).next()?;
    let rest = first.strip_prefix("---")?;
    let content = rest.trim_start_matches([' ', '\t']);
    if content.is_empty() || content.starts_with('#') || !is_separator(first) {
        return None;
    }
    let column = 3 + (rest.len() - content.len()) + 1;
    Some((column as u32, content.trim_end().to_string()))
}

/// The first directive (`%YAML 1.1`, `%TAG ...`) of a chunk that holds nothing but directives,
/// comments and a separator, with its 0-based line in the chunk. kubectl's document reader
/// splits at every `---` line, so such a directive ends up in a document of its own.
pub fn lone_directive(chunk: &Chunk) -> Option<(u32, String)> {
    let mut directive = None;
    for (index, line) in (0u32..).zip(lines::lines(chunk.text)) {
        let trimmed = line.trim();
        if line.starts_with('%') {
            directive.get_or_insert((index, trimmed.to_string()));
        } else if !(trimmed.is_empty() || trimmed.starts_with('#') || is_separator(line)) {
            return None;
        }
    }
    directive
}

fn make_chunk(text: &str, first_line: u32) -> Chunk<'_> {
    let mut source = None;
    for line in lines::lines(text) {
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
        let text = "a: 1\n---\nb: 2\n--- # comment\nc: 3\n...\nd: 4\n";
        let chunks = split_documents(text);
        let starts: Vec<u32> = chunks.iter().map(|c| c.first_line).collect();
        assert_eq!(starts, vec![0, 1, 3]);
        assert_eq!(chunks[1].text, "---\nb: 2\n");
        assert_eq!(
            body(&chunks[2]),
            Body {
                text: "c: 3\n...\n",
                first_line: 4,
                ignored_from: Some(6)
            }
        );
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
    fn lone_carriage_returns_end_lines() {
        let chunks = split_documents("a: 1\r---\rb: 2\r");
        let starts: Vec<u32> = chunks.iter().map(|c| c.first_line).collect();
        assert_eq!(starts, vec![0, 1]);
    }

    #[test]
    fn crlf_separators() {
        assert_eq!(split_documents("a: 1\r\n---\r\nb: 2\r\n").len(), 2);
    }
}
