//! Arrays of strings (Spark's `array<string>`): the Arrow layout ember uses, a row reader and a
//! builder, and the Java string semantics the text stages share (UTF-16 lengths, `toLowerCase`,
//! `String.split` with a regex).
//!
//! An `array<string>` column is `List<Utf8>` with a nullable item named `element`: what the
//! Parquet reader produces for the LIST Spark writes (`containsNull = true`). Other list and
//! string encodings (`LargeList`, `Utf8View`, JSON's `item` field) are cast to it by the
//! compiler before a stage UDF sees them.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, ListBuilder, StringBuilder};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, exec_err};

use crate::common::is_string_type;

/// The item field of an `array<string>` column (one shared `Arc`, so type comparisons between
/// ember's list columns succeed on pointer equality).
pub fn string_list_item() -> FieldRef {
    static ITEM: std::sync::OnceLock<FieldRef> = std::sync::OnceLock::new();
    Arc::clone(ITEM.get_or_init(|| Arc::new(Field::new("element", DataType::Utf8, true))))
}

/// The Arrow type of an `array<string>` column inside ember.
pub fn string_list_type() -> DataType {
    DataType::List(string_list_item())
}

/// True for any list encoding whose items are strings (convertible to [`string_list_type`]).
pub fn is_string_list_type(t: &DataType) -> bool {
    match t {
        DataType::List(f) | DataType::LargeList(f) => {
            is_string_type(f.data_type()) || f.data_type() == &DataType::Null
        }
        _ => false,
    }
}

/// Calls `f(row, tokens)` for each row of an `array<string>` argument (`None` for a null row;
/// null items are `None`). The row's tokens are collected into a reused buffer.
pub fn for_each_string_list(
    udf: &str,
    a: &ArrayRef,
    mut f: impl FnMut(usize, Option<&[Option<&str>]>) -> Result<()>,
) -> Result<()> {
    if !is_string_list_type(a.data_type()) {
        return exec_err!("{udf}: expected an array of strings, got {}", a.data_type());
    }
    let owned;
    let a = if a.data_type() == &string_list_type() {
        a
    } else {
        owned = cast(a, &string_list_type())?;
        &owned
    };
    let list = a.as_list::<i32>();
    let values = list.values().as_string::<i32>();
    let offsets = list.value_offsets();
    let mut buf: Vec<Option<&str>> = Vec::new();
    for row in 0..list.len() {
        if list.is_null(row) {
            f(row, None)?;
            continue;
        }
        buf.clear();
        let (start, end) = (offsets[row] as usize, offsets[row + 1] as usize);
        buf.extend((start..end).map(|i| (!values.is_null(i)).then(|| values.value(i))));
        f(row, Some(&buf))?;
    }
    Ok(())
}

/// Builds an `array<string>` column row by row.
#[derive(Debug)]
pub struct StringListBuilder(ListBuilder<StringBuilder>);

impl StringListBuilder {
    /// A builder for about `rows` rows.
    pub fn with_capacity(rows: usize) -> Self {
        Self(
            ListBuilder::with_capacity(StringBuilder::with_capacity(rows * 4, rows * 16), rows)
                .with_field(string_list_item()),
        )
    }

    /// Appends one token to the current row.
    pub fn token(&mut self, token: Option<&str>) {
        self.0.values().append_option(token);
    }

    /// Ends the current row.
    pub fn end_row(&mut self) {
        self.0.append(true);
    }

    /// Appends a row from tokens.
    pub fn row<'a>(&mut self, tokens: impl IntoIterator<Item = Option<&'a str>>) {
        for t in tokens {
            self.token(t);
        }
        self.end_row();
    }

    /// Appends a null row.
    pub fn null(&mut self) {
        self.0.append(false);
    }

    /// The finished column.
    pub fn finish(mut self) -> ArrayRef {
        Arc::new(self.0.finish())
    }
}

/// Java's `String.length()`: the number of UTF-16 code units (a character outside the Basic
/// Multilingual Plane counts twice).
pub fn java_length(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// Java's `s.toLowerCase(new Locale(locale))`.
///
/// Rust's `to_lowercase` applies the same Unicode default mappings as Java (including the
/// final-sigma rule and `İ` → `i̇`). Java tailors Turkish and Azerbaijani (`I` → `ı`, `İ` → `i`),
/// which is applied here when the locale's language is `tr` or `az`. Note that
/// `new Locale("tr_TR")` (how Spark's StopWordsRemover builds its locale from the param) has
/// the language `tr_tr`, which Java does not tailor, so only a bare `tr`/`az` is Turkic.
/// Lithuanian's tailoring (dots kept above accented `i`) is not reproduced.
pub fn java_lowercase(s: &str, locale: &str) -> String {
    let turkic = locale.eq_ignore_ascii_case("tr") || locale.eq_ignore_ascii_case("az");
    if !turkic || !s.contains(['I', 'İ']) {
        return s.to_lowercase();
    }
    let mut tailored = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            // `I` followed by a combining dot above lowercases to a plain `i`
            'I' if chars.peek() == Some(&'\u{307}') => {
                chars.next();
                tailored.push('i');
            }
            'I' => tailored.push('ı'),
            'İ' => tailored.push('i'),
            c => tailored.push(c),
        }
    }
    tailored.to_lowercase()
}

/// Java's `Pattern.split(input)` (`String.split` with limit 0) over the matches of `re`:
/// substrings between matches; a zero-width match at the start adds no leading empty string;
/// trailing empty strings are removed; no match at all gives the input itself.
pub fn java_split<'a>(re: &regex::Regex, input: &'a str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut last = 0;
    let mut matched = false;
    for m in re.find_iter(input) {
        matched = true;
        if m.end() == 0 {
            // zero-width match at the beginning: no leading empty substring
            continue;
        }
        out.push(&input[last..m.start()]);
        last = m.end();
    }
    if !matched {
        return vec![input];
    }
    out.push(&input[last..]);
    while out.last().is_some_and(|s| s.is_empty()) {
        out.pop();
    }
    out
}

/// Translates a Java regular expression into the `regex` crate's syntax where the two differ in
/// meaning: Java's `\s`, `\d` and `\w` are ASCII-only (without `UNICODE_CHARACTER_CLASS`), the
/// crate's are Unicode-aware. Java's `\b` is Unicode-aware (letters and digits of any script
/// are word characters) like the crate's, so it stays as it is. Everything else passes through; constructs the crate lacks
/// (look-around, back-references, possessive quantifiers) then fail to compile.
pub fn java_regex_to_rust(pattern: &str) -> String {
    const SPACE: &str = r"\t\n\x0B\x0C\r ";
    const DIGIT: &str = "0-9";
    const WORD: &str = "0-9A-Za-z_";
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars();
    let mut class_depth = 0usize;
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if quoted {
            // inside \Q...\E everything is literal
            if c == '\\' {
                let mut look = chars.clone();
                if look.next() == Some('E') {
                    chars.next();
                    quoted = false;
                    continue;
                }
            }
            out.push_str(&regex::escape(&c.to_string()));
            continue;
        }
        match c {
            '\\' => {
                let Some(e) = chars.next() else {
                    out.push('\\');
                    break;
                };
                let class = match e.to_ascii_lowercase() {
                    's' => Some(SPACE),
                    'd' => Some(DIGIT),
                    'w' => Some(WORD),
                    _ => None,
                };
                match (class, e.is_ascii_uppercase(), class_depth > 0) {
                    (Some(set), false, false) => {
                        out.push('[');
                        out.push_str(set);
                        out.push(']');
                    }
                    (Some(set), false, true) => out.push_str(set),
                    (Some(set), true, _) => {
                        out.push_str("[^");
                        out.push_str(set);
                        out.push(']');
                    }
                    (None, _, _) => match e {
                        'Q' => quoted = true,
                        _ => {
                            out.push('\\');
                            out.push(e);
                        }
                    },
                }
            }
            '[' => {
                class_depth += 1;
                out.push('[');
                // a leading ']' (or '^]') is a literal in both dialects
            }
            ']' if class_depth > 0 => {
                class_depth -= 1;
                out.push(']');
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_like_java() {
        let ws = regex::Regex::new(&java_regex_to_rust(r"\s")).unwrap();
        assert_eq!(java_split(&ws, "a b"), vec!["a", "b"]);
        assert_eq!(java_split(&ws, " a  b "), vec!["", "a", "", "b"]);
        assert_eq!(java_split(&ws, ""), vec![""]);
        assert_eq!(java_split(&ws, "   "), Vec::<&str>::new());
        // Java's \s is ASCII: a no-break space is not a separator
        assert_eq!(java_split(&ws, "a\u{a0}b"), vec!["a\u{a0}b"]);
        let empty = regex::Regex::new("").unwrap();
        assert_eq!(java_split(&empty, "ab"), vec!["a", "b"]);
    }

    #[test]
    fn regex_translation() {
        assert_eq!(java_regex_to_rust(r"\s+"), r"[\t\n\x0B\x0C\r ]+");
        assert_eq!(java_regex_to_rust(r"[\s,]"), r"[\t\n\x0B\x0C\r ,]");
        assert_eq!(java_regex_to_rust(r"\W"), r"[^0-9A-Za-z_]");
        assert_eq!(java_regex_to_rust(r"\Q.*\E"), r"\.\*");
        // \b stays Unicode, as in Java: no boundary between ü and n
        let re = regex::Regex::new(&java_regex_to_rust(r"\b[a-z]")).unwrap();
        assert_eq!(re.find("ün wö").unwrap().as_str(), "w");
        let w = regex::Regex::new(&java_regex_to_rust(r"\w+")).unwrap();
        assert_eq!(w.find("héllo").unwrap().as_str(), "h");
    }

    #[test]
    fn lengths_and_case() {
        assert_eq!(java_length("a😀"), 3);
        assert_eq!(java_lowercase("ΟΔΟΣ", "en"), "\u{3bf}\u{3b4}\u{3bf}\u{3c2}");
        assert_eq!(java_lowercase("TITLE", "tr"), "tıtle");
        assert_eq!(java_lowercase("İstanbul", "az"), "istanbul");
        assert_eq!(java_lowercase("TITLE", "tr_TR"), "title");
        assert_eq!(java_lowercase("İ", "en"), "i\u{307}");
    }

    #[test]
    fn lists_round_trip() {
        let mut b = StringListBuilder::with_capacity(3);
        b.row([Some("a"), None]);
        b.null();
        b.row([]);
        let a = b.finish();
        assert_eq!(a.data_type(), &string_list_type());
        let mut seen = Vec::new();
        for_each_string_list("t", &a, |_, r| {
            seen.push(r.map(|t| t.iter().map(|x| x.map(str::to_string)).collect::<Vec<_>>()));
            Ok(())
        })
        .unwrap();
        assert_eq!(
            seen,
            vec![Some(vec![Some("a".into()), None]), None, Some(vec![])]
        );
    }
}

/// The math of a text stage: one input column (a string or an array of strings) to one output
/// column. [`TextUdf`] wraps it as a DataFusion UDF.
pub trait TextKernel: std::fmt::Debug + Send + Sync + 'static {
    /// What the input column holds.
    const INPUT: crate::common::ArgKind;
    /// The output column's Arrow type.
    fn output_type(&self) -> DataType;
    /// Hashes the fitted parameters (for UDF identity).
    fn fingerprint(&self, h: &mut std::collections::hash_map::DefaultHasher);
    /// Transforms a whole column. Errors name `stage`, `column` and the row.
    fn transform(
        &self,
        stage: &crate::common::StageRef,
        column: &str,
        input: &ArrayRef,
    ) -> Result<ArrayRef>;
}

/// A text stage's UDF: `input → output`, computed by a [`TextKernel`].
#[derive(Debug)]
pub struct TextUdf<K: TextKernel> {
    core: crate::common::ModelUdf<K>,
}

crate::udf_identity!(TextUdf<K: TextKernel> by core);

impl<K: TextKernel> TextUdf<K> {
    /// A UDF named `name` applying `kernel` to `column` of `stage`.
    pub fn new(
        name: impl Into<String>,
        stage: crate::common::StageRef,
        column: impl Into<String>,
        kernel: Arc<K>,
    ) -> Self {
        let fingerprint = crate::common::fingerprint(|h| kernel.fingerprint(h));
        Self {
            core: crate::common::ModelUdf::new(name, stage, column, kernel, fingerprint),
        }
    }
}

impl<K: TextKernel> datafusion::logical_expr::ScalarUDFImpl for TextUdf<K> {
    fn name(&self) -> &str {
        &self.core.name
    }

    fn signature(&self) -> &datafusion::logical_expr::Signature {
        &self.core.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(self.core.model.output_type())
    }

    fn return_field_from_args(
        &self,
        args: datafusion::logical_expr::ReturnFieldArgs,
    ) -> Result<FieldRef> {
        self.core
            .return_field(&args, K::INPUT, self.core.model.output_type())
    }

    fn invoke_with_args(
        &self,
        args: datafusion::logical_expr::ScalarFunctionArgs,
    ) -> Result<datafusion::logical_expr::ColumnarValue> {
        let input = crate::common::arrays(&args.args, args.number_rows)?;
        let out = self
            .core
            .model
            .transform(&self.core.stage, &self.core.column, &input[0])?;
        Ok(datafusion::logical_expr::ColumnarValue::Array(out))
    }
}

/// The error for a null input row: Spark's UDF dereferences it and the job fails.
pub fn null_row_error(
    stage: &crate::common::StageRef,
    column: &str,
    row: usize,
) -> datafusion::common::DataFusionError {
    stage.error(
        column,
        row,
        "null input (Spark fails with java.lang.NullPointerException)",
    )
}
