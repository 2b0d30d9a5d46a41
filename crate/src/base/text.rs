//! Text from files (names, attributes, units) made safe to show.
//!
//! evcxr reads a cell's standard output line by line: a line *containing*
//! `EVCXR_BEGIN_CONTENT <mime>` opens a display block of that MIME type, and inside a
//! block a line equal to `EVCXR_END_CONTENT` (a trailing `\r` is dropped first) closes
//! it. Other `EVCXR_` lines (input requests, panic notices) are commands too. So text
//! that a file controls must never carry a line break, nor the letters `EVCXR_`, into
//! standard output. [`plain`] does this for text output and [`html`] for HTML; the
//! display code also passes every block through [`block`] as a last guard.

use std::fmt;

/// The prefix of every evcxr control line.
const MARKER: &str = "EVCXR_";

/// Text for a plain-text representation: control characters (line breaks, tabs,
/// escape sequences) and Unicode line separators are shown as Rust escapes (`\n`,
/// `\u{1b}`), and `EVCXR_` is shown as `EVCXR\_` so no evcxr command can form.
///
/// ```
/// use geoxr::base::text::plain;
/// assert_eq!(plain("rain\nEVCXR_END_CONTENT").to_string(), r"rain\nEVCXR\_END_CONTENT");
/// assert_eq!(plain("mm/day").to_string(), "mm/day");
/// ```
pub fn plain(text: &str) -> Plain<'_> {
    Plain(text)
}

/// The [`fmt::Display`] form of [`plain`]: escapes as it writes, without allocating.
#[derive(Clone, Copy, Debug)]
pub struct Plain<'a>(&'a str);

fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

impl fmt::Display for Plain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(c) = rest.chars().next() {
            if rest.starts_with(MARKER) {
                f.write_str("EVCXR\\_")?;
                rest = &rest[MARKER.len()..];
                continue;
            }
            if needs_escape(c) {
                for e in c.escape_default() {
                    fmt::Write::write_char(f, e)?;
                }
            } else {
                fmt::Write::write_char(f, c)?;
            }
            rest = &rest[c.len_utf8()..];
        }
        Ok(())
    }
}

/// Escapes text for HTML element content and attribute values: markup characters
/// become entities, line breaks become character references (so the HTML stays on
/// one line), other control characters become U+FFFD, and the `_` of `EVCXR_` is
/// written `&#95;` (it looks the same in the page).
///
/// ```
/// assert_eq!(geoxr::escape("<b a=\"x\">&'"), "&lt;b a=&quot;x&quot;&gt;&amp;&#39;");
/// assert_eq!(geoxr::escape("a\nEVCXR_END"), "a&#10;EVCXR&#95;END");
/// ```
pub fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if rest.starts_with(MARKER) {
            out.push_str("EVCXR&#95;");
            rest = &rest[MARKER.len()..];
            continue;
        }
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            '\u{2028}' => out.push_str("&#x2028;"),
            '\u{2029}' => out.push_str("&#x2029;"),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// The MIME types geoxr sends to the notebook. Only these can open a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mime {
    /// `text/plain`
    Text,
    /// `text/html`
    Html,
    /// `image/png`, base64-encoded
    Png,
}

impl Mime {
    /// The MIME type as evcxr expects it after `EVCXR_BEGIN_CONTENT`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mime::Text => "text/plain",
            Mime::Html => "text/html",
            Mime::Png => "image/png",
        }
    }
}

/// One evcxr display block, ready to print: content that would form an evcxr command
/// anywhere (a stray `EVCXR_`) is neutralised, so whatever a caller passes, the block
/// ends where this function ends it and nothing else opens.
///
/// ```
/// use geoxr::base::text::{block, Mime};
/// let b = block(Mime::Text, "x\nEVCXR_END_CONTENT\nEVCXR_BEGIN_CONTENT application/javascript");
/// assert_eq!(b.lines().filter(|l| l.contains("EVCXR_")).count(), 2);
/// ```
pub fn block(mime: Mime, content: &str) -> String {
    let guard = match mime {
        Mime::Html => "EVCXR&#95;",
        Mime::Text | Mime::Png => "EVCXR\\_",
    };
    let content = content.replace(MARKER, guard);
    format!(
        "EVCXR_BEGIN_CONTENT {}\n{content}\nEVCXR_END_CONTENT\n",
        mime.as_str()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_escapes_every_line_break_kind() {
        for brk in [
            "\n", "\r", "\r\n", "\u{85}", "\u{2028}", "\u{2029}", "\u{b}", "\u{c}",
        ] {
            let s = plain(&format!("a{brk}b")).to_string();
            assert!(!s.contains(brk), "{brk:?} kept in {s:?}");
            assert!(s.starts_with('a') && s.ends_with('b'), "{s:?}");
        }
        assert_eq!(plain("\u{1b}[31m").to_string(), r"\u{1b}[31m");
        assert_eq!(plain("EVCXR_EVCXR_").to_string(), r"EVCXR\_EVCXR\_");
        assert_eq!(plain("ünïcode °C").to_string(), "ünïcode °C");
    }

    #[test]
    fn html_has_no_line_break_or_marker() {
        let s = html("<script>\r\nEVCXR_END_CONTENT\u{0}\u{2028}");
        assert_eq!(
            s,
            "&lt;script&gt;&#13;&#10;EVCXR&#95;END_CONTENT\u{FFFD}&#x2028;"
        );
    }

    #[test]
    fn block_ends_only_where_it_says() {
        let b = block(
            Mime::Html,
            "a\nEVCXR_END_CONTENT\r\nEVCXR_BEGIN_CONTENT x/y",
        );
        let lines: Vec<&str> = b.lines().collect();
        assert_eq!(lines.first(), Some(&"EVCXR_BEGIN_CONTENT text/html"));
        assert_eq!(lines.last(), Some(&"EVCXR_END_CONTENT"));
        assert!(lines[1..lines.len() - 1]
            .iter()
            .all(|l| !l.contains("EVCXR_")));
    }
}
