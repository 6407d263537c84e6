//! A file list in one byte string, so that a fuzzer's mutations reach the files of a model
//! (whose container — zip checksums, a directory tree — would otherwise absorb them):
//!
//! ```text
//! === bundle.json
//! {"name": ..}
//! === root/model.json
//! ..
//! ```
//!
//! Each file starts with a line `=== <path>`; its content runs to the `\n` before the next
//! such line (or to the end). Contents may be binary (Parquet, protobuf).

/// The header that starts each file.
pub const HEADER: &[u8] = b"=== ";

/// At most this many files are taken from one input.
pub const MAX_FILES: usize = 256;

/// The files of `data`, or `None` when it does not start with [`HEADER`].
pub fn parse(data: &[u8]) -> Option<Vec<(String, &[u8])>> {
    if !data.starts_with(HEADER) {
        return None;
    }
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(after) = rest.strip_prefix(HEADER) {
        if out.len() == MAX_FILES {
            break;
        }
        let (name, body) = match after.iter().position(|&b| b == b'\n') {
            Some(i) => (&after[..i], &after[i + 1..]),
            None => (after, &[][..]),
        };
        let (content, next) = match find(body, b"\n=== ") {
            Some(i) => (&body[..i], &body[i + 1..]),
            None => (body, &[][..]),
        };
        out.push((String::from_utf8_lossy(name).trim().to_string(), content));
        rest = next;
    }
    Some(out)
}

/// Writes `files` in the list format (the inverse of [`parse`]).
pub fn write(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, (name, content)) in files.iter().enumerate() {
        if i > 0 {
            out.push(b'\n');
        }
        out.extend_from_slice(HEADER);
        out.extend_from_slice(name.as_bytes());
        out.push(b'\n');
        out.extend_from_slice(content);
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A relative path with only normal components (`a/b/c`), or `None`: the targets write files
/// only inside their own temporary directory.
pub fn safe_path(name: &str) -> Option<&str> {
    let ok = !name.is_empty()
        && name.len() <= 200
        && !name.starts_with('/')
        && name
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != ".." && !c.contains(['\\', '\0']));
    ok.then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_list_reads_back_what_was_written() {
        let files = vec![
            ("bundle.json".to_string(), b"{\"a\":1}\n".to_vec()),
            ("root/x.pb".to_string(), vec![0, 10, 255, b'\n']),
            ("empty".to_string(), Vec::new()),
        ];
        let written = write(&files);
        let parsed = parse(&written).expect("a file list");
        let parsed: Vec<(String, Vec<u8>)> =
            parsed.into_iter().map(|(n, c)| (n, c.to_vec())).collect();
        assert_eq!(parsed, files);
        assert!(parse(b"PK\x03\x04").is_none());
    }

    #[test]
    fn only_plain_relative_paths_are_safe() {
        assert_eq!(
            safe_path("stages/0_a/metadata/part-0"),
            Some("stages/0_a/metadata/part-0")
        );
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a//b",
            "./a",
            "a\\b",
            "a/",
        ] {
            assert_eq!(safe_path(bad), None, "{bad:?}");
        }
    }
}
