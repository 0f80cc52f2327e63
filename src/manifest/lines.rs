//! Lines and columns as editors count them: a line ends at `\n`, `\r\n` or a lone `\r`; columns
//! count characters. The YAML parser reports byte offsets; [`Positions`] turns them into spans, so
//! every stage (document splitting, spans, quoting a source line) agrees on what a line is.

use super::node::Span;

/// The lines of `text` with their line breaks removed. A lone `\r` ends a line, as `\n` and
/// `\r\n` do (`str::lines` only knows the last two).
pub fn lines(text: &str) -> impl Iterator<Item = &str> {
    lines_with_breaks(text).map(|line| line.trim_end_matches(['\r', '\n']))
}

/// The lines of `text`, each with its line break.
pub fn lines_with_breaks(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let bytes = rest.as_bytes();
        // memchr looks at a word (or a vector register) of bytes at a time: the loader splits,
        // cuts and indexes every file line by line, three passes over every byte.
        let end = match memchr::memchr2(b'\n', b'\r', bytes) {
            None => rest.len(),
            Some(i) if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') => i + 2,
            Some(i) => i + 1,
        };
        let (line, tail) = rest.split_at(end);
        rest = tail;
        Some(line)
    })
}

/// Byte offsets in one text to 1-based line and column.
pub struct Positions<'a> {
    text: &'a str,
    /// Byte offset where each line starts; the first is 0.
    line_starts: Vec<usize>,
    /// The last offset located, its line and column: events arrive in source order, so counting
    /// on from there keeps a long line from being counted again for every node on it.
    cursor: (usize, usize, u32),
}

impl<'a> Positions<'a> {
    pub fn new(text: &'a str) -> Self {
        let mut line_starts = vec![0];
        let mut offset = 0;
        for line in lines_with_breaks(text) {
            offset += line.len();
            if offset < text.len() || line.ends_with(['\r', '\n']) {
                line_starts.push(offset);
            }
        }
        Positions {
            text,
            line_starts,
            cursor: (0, 0, 0),
        }
    }

    /// The 1-based line and column of a byte offset (an offset past the end is the end). A byte
    /// order mark inside the text takes no column, as editors show it.
    pub fn span(&mut self, offset: usize) -> Span {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let (cursor_offset, cursor_line, cursor_column) = self.cursor;
        // Events come in source order, mostly on the cursor's line or the next: look there
        // before searching every line.
        let starts_after = |line: usize| {
            self.line_starts
                .get(line + 1)
                .is_none_or(|&next| offset < next)
        };
        let line = if cursor_offset <= offset && starts_after(cursor_line) {
            cursor_line
        } else if cursor_offset <= offset
            && self
                .line_starts
                .get(cursor_line + 1)
                .is_some_and(|&next| next <= offset)
            && starts_after(cursor_line + 1)
        {
            cursor_line + 1
        } else {
            self.line_starts.partition_point(|&start| start <= offset) - 1
        };
        let (from, base) = if cursor_line == line && cursor_offset <= offset {
            (cursor_offset, cursor_column)
        } else {
            (self.line_starts[line], 0)
        };
        let segment = &self.text[from..offset];
        // ASCII (most YAML) has a column per byte and no byte order mark.
        let counted = if segment.is_ascii() {
            segment.len() as u32
        } else {
            segment.chars().filter(|&c| c != '\u{feff}').count() as u32
        };
        let column = base + counted;
        self.cursor = (offset, line, column);
        Span::new(line as u32 + 1, column + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_break_style_ends_a_line() {
        let text = "a\nb\r\nc\rd";
        assert_eq!(lines(text).collect::<Vec<_>>(), ["a", "b", "c", "d"]);
        assert_eq!(lines("a\n").collect::<Vec<_>>(), ["a"]);
        assert_eq!(lines("\r\r").collect::<Vec<_>>(), ["", ""]);
    }

    /// The lines of a text found byte by byte, the way the search before memchr did.
    fn split_by_bytes(text: &str) -> Vec<&str> {
        let mut lines = Vec::new();
        let mut start = 0;
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'\r' || bytes[i] == b'\n' {
                let end = if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
                    i + 2
                } else {
                    i + 1
                };
                lines.push(&text[start..end]);
                start = end;
                i = end;
            } else {
                i += 1;
            }
        }
        if start < text.len() {
            lines.push(&text[start..]);
        }
        lines
    }

    #[test]
    fn breaks_anywhere_in_long_lines_are_found() {
        // Breaks of every style at every distance from each other, across the widths memchr
        // reads at once (and `\r\n` split across them).
        let mut text = String::new();
        for length in 0..80 {
            text.push_str(&"é-x".repeat(length / 3));
            text.push_str(["\n", "\r\n", "\r", "\r\r\n"][length % 4]);
        }
        text.push_str("no break at the end");
        let found: Vec<&str> = lines_with_breaks(&text).collect();
        assert_eq!(found, split_by_bytes(&text));
        assert_eq!(found.concat(), text);
    }

    #[test]
    fn offsets_become_lines_and_character_columns() {
        let text = "ab\r\ncé d\re\n\nf";
        let mut positions = Positions::new(text);
        assert_eq!(positions.span(0), Span::new(1, 1));
        assert_eq!(positions.span(4), Span::new(2, 1));
        // `é` is two bytes but one column.
        assert_eq!(positions.span(8), Span::new(2, 4));
        assert_eq!(positions.span(10), Span::new(3, 1));
        assert_eq!(positions.span(13), Span::new(5, 1));
        // Backwards after forwards, and past the end.
        assert_eq!(positions.span(5), Span::new(2, 2));
        assert_eq!(positions.span(99), Span::new(5, 2));
    }

    /// Line and column counted from the start of the text, character by character.
    fn counted(text: &str, offset: usize) -> Span {
        let (mut line, mut column) = (1, 1);
        let mut chars = text.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            if at >= offset {
                break;
            }
            match c {
                // `\r\n` is one break, at its `\n`.
                '\r' if chars.peek().is_some_and(|&(_, n)| n == '\n') => column += 1,
                '\r' | '\n' => (line, column) = (line + 1, 1),
                '\u{feff}' => {}
                _ => column += 1,
            }
        }
        Span::new(line, column)
    }

    #[test]
    fn every_offset_in_order_forwards_backwards_and_skipping_gets_the_counted_position() {
        let text = "a: b\n  c: dé\r\n\n\u{feff}e: [f, g]\rh: \"ü\"\n  - i\n";
        let boundaries: Vec<usize> = (0..=text.len())
            .filter(|&o| text.is_char_boundary(o))
            .collect();
        let mut orders = vec![
            boundaries.clone(),
            boundaries.iter().rev().copied().collect(),
        ];
        orders.push(boundaries.iter().step_by(3).copied().collect());
        for order in orders {
            let mut positions = Positions::new(text);
            for offset in order {
                assert_eq!(
                    positions.span(offset),
                    counted(text, offset),
                    "offset {offset}"
                );
            }
        }
    }

    #[test]
    fn a_byte_order_mark_takes_no_column() {
        let mut positions = Positions::new("a\n\u{feff}key: v");
        assert_eq!(positions.span(5), Span::new(2, 1));
        assert_eq!(positions.span(10), Span::new(2, 6));
    }
}
