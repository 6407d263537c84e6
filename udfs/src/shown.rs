//! Input values quoted in error messages and logs, kept short and on one line.
//!
//! An error that names the offending value helps its reader, but a value comes from the client
//! or the input file: it may be megabytes long, or hold a newline that forges a log line. Every
//! message that quotes an input value quotes it through [`Shown`], which:
//!
//! * keeps at most [`SHOWN_MAX_CHARS`] characters and says how many more there were
//!   (`… (5242880 chars in all)`);
//! * escapes control characters (`\n`, `\r`, `\t`, `\u{1b}`, …) as Rust's `escape_debug` does,
//!   so the message stays on one line and no terminal escape reaches a log.
//!
//! ```
//! use ember_udfs::shown::Shown;
//!
//! assert_eq!(Shown("plain").to_string(), "plain");
//! assert_eq!(Shown("two\nlines").to_string(), "two\\nlines");
//! let long = "x".repeat(1000);
//! assert_eq!(
//!     Shown(&long).to_string(),
//!     format!("{}… (1000 chars in all)", "x".repeat(100))
//! );
//! ```

use std::fmt::{self, Write};

/// The most characters of an input value any message quotes.
pub const SHOWN_MAX_CHARS: usize = 100;

/// An input value as quoted in a message: at most [`SHOWN_MAX_CHARS`] characters, control
/// characters escaped (see the module docs).
#[derive(Debug, Clone, Copy)]
pub struct Shown<'a>(pub &'a str);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut chars = self.0.chars();
        for c in chars.by_ref().take(SHOWN_MAX_CHARS) {
            if c.is_control() {
                for e in c.escape_debug() {
                    f.write_char(e)?;
                }
            } else {
                f.write_char(c)?;
            }
        }
        if chars.next().is_some() {
            write!(f, "… ({} chars in all)", self.0.chars().count())?;
        }
        Ok(())
    }
}

/// A message (for example a parser's own error text, which may quote its input) cut to
/// [`SHOWN_MAX_CHARS`] × 4 characters with control characters escaped, for messages built
/// from text ember did not write.
pub fn shown_message(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(SHOWN_MAX_CHARS * 4 + 32));
    let mut chars = message.chars();
    for c in chars.by_ref().take(SHOWN_MAX_CHARS * 4) {
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    if chars.next().is_some() {
        let _ = write!(out, "… ({} chars in all)", message.chars().count());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_values_pass_unchanged() {
        assert_eq!(Shown("").to_string(), "");
        assert_eq!(Shown("vlow").to_string(), "vlow");
        assert_eq!(Shown(&"y".repeat(100)).to_string(), "y".repeat(100));
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            Shown("a\r\nb\tc\u{1b}[31m").to_string(),
            "a\\r\\nb\\tc\\u{1b}[31m"
        );
        assert!(!shown_message("x\ny").contains('\n'));
    }

    #[test]
    fn long_values_are_cut_and_counted() {
        let v = "é".repeat(5000);
        let s = Shown(&v).to_string();
        assert!(s.starts_with(&"é".repeat(100)));
        assert!(s.ends_with("… (5000 chars in all)"), "{s}");
        assert!(s.chars().count() < 130);
        let m = shown_message(&"z".repeat(10_000));
        assert!(m.ends_with("… (10000 chars in all)"));
        assert!(m.len() < 450);
    }
}
