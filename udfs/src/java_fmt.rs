//! Numbers as Java prints them.
//!
//! Spark casts `double` to `string` with Java's `Double.toString` (so `StringIndexer` fitted on a
//! double column holds labels such as `"1.0"` and `"1.0E7"`), and writes numbers in CSV and JSON
//! output the same way. Java 8–18 (Spark 4 runs on Java 17) use the old `FloatingDecimal`
//! algorithm, which prints the shortest digits that round-trip except for integer-valued doubles
//! between 2^53 and 2^63, where it prints the exact integer with at most two digits rounded away.
//! This module reproduces that (shortest digits from `ryu`, which like Java breaks exact
//! decimal ties to even), and the two-digit `4.9E-324`; `tests/fixtures/java/double_tostring.txt` (written by Java 17,
//! see `scripts/JavaNumberCorpus.java`) is the reference it is tested against.
//!
//! Layout rules (Java's): magnitudes in `[1e-3, 1e7)` print as plain decimals with at least one
//! fractional digit (`100.0`, `0.001`); others as `d.dddE±n` without a `+` (`1.0E7`, `1.0E-4`);
//! also `NaN`, `Infinity`, `-Infinity`, `0.0`, `-0.0`.

use std::fmt::Write;

/// Decimal digits (no leading or trailing zeros) and the exponent `e` such that the value is
/// `0.d1d2d3… × 10^e`.
struct Decimal {
    digits: [u8; 24],
    len: usize,
    exp: i32,
}

impl Decimal {
    /// Parses ryu's shortest rendering (`97524076221609.12`, `1e23`, `5e-324`, `0.001`).
    fn from_ryu(text: &str) -> Self {
        let (mantissa, e) = match text.split_once('e') {
            Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
            None => (text, 0),
        };
        let int_len = mantissa.find('.').unwrap_or(mantissa.len()) as i32;
        let mut digits = [0u8; 24];
        let mut len = 0usize;
        let mut leading = 0i32;
        for b in mantissa.bytes().filter(u8::is_ascii_digit) {
            if len == 0 && b == b'0' {
                leading += 1;
                continue;
            }
            if len < digits.len() {
                digits[len] = b;
                len += 1;
            }
        }
        while len > 1 && digits[len - 1] == b'0' {
            len -= 1;
        }
        if len == 0 {
            digits[0] = b'0';
            len = 1;
        }
        Self {
            digits,
            len,
            exp: int_len - leading + e,
        }
    }

    /// The digits of `q`, scaled by `10^scale`.
    fn from_integer(q: u64, scale: i32) -> Self {
        let mut reversed = [0u8; 24];
        let mut n = 0;
        let mut v = q;
        loop {
            reversed[n] = b'0' + (v % 10) as u8;
            n += 1;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        let mut digits = [0u8; 24];
        for i in 0..n {
            digits[i] = reversed[n - 1 - i];
        }
        let mut len = n;
        while len > 1 && digits[len - 1] == b'0' {
            len -= 1;
        }
        Self {
            digits,
            len,
            exp: n as i32 + scale,
        }
    }

    fn digits(&self) -> &[u8] {
        &self.digits[..self.len]
    }
}

fn decimal(a: f64) -> Decimal {
    let biased = ((a.to_bits() >> 52) & 0x7ff) as i32;
    let binary_exp = biased - 1023;
    if (53..=62).contains(&binary_exp) {
        // Integer-valued and below 2^63: FloatingDecimal prints the exact integer, rounding
        // away the digits it deems insignificant (half up).
        let drop = match binary_exp {
            ..=57 => 0u32,
            58..=60 => 1,
            _ => 2,
        };
        let v = a as u64;
        let p = 10u64.pow(drop);
        let mut q = v / p;
        if drop > 0 && v % p >= p / 2 {
            q += 1;
        }
        return Decimal::from_integer(q, drop as i32);
    }
    // Shortest round-trip digits; ryu breaks exact decimal ties to even, as Java does.
    let mut b = ryu::Buffer::new();
    Decimal::from_ryu(b.format_finite(a))
}

fn layout(out: &mut String, negative: bool, d: &Decimal) {
    if negative {
        out.push('-');
    }
    let digits = d.digits();
    let e = d.exp;
    let push_digits = |out: &mut String, ds: &[u8]| ds.iter().for_each(|b| out.push(*b as char));
    if e > 0 && e < 8 {
        // plain, integer part present
        let e = e as usize;
        if digits.len() <= e {
            push_digits(out, digits);
            (digits.len()..e).for_each(|_| out.push('0'));
            out.push_str(".0");
        } else {
            push_digits(out, &digits[..e]);
            out.push('.');
            push_digits(out, &digits[e..]);
        }
    } else if e <= 0 && e > -3 {
        out.push_str("0.");
        (0..-e).for_each(|_| out.push('0'));
        push_digits(out, digits);
    } else {
        out.push(digits[0] as char);
        out.push('.');
        if digits.len() > 1 {
            push_digits(out, &digits[1..]);
        } else {
            out.push('0');
        }
        out.push('E');
        write!(out, "{}", e - 1).expect("write to String");
    }
}

/// Appends `d` formatted as Java's `Double.toString(d)` (Java 8–18).
pub fn write_java_double(out: &mut String, d: f64) {
    if d.is_nan() {
        out.push_str("NaN");
    } else if d.is_infinite() {
        out.push_str(if d > 0.0 { "Infinity" } else { "-Infinity" });
    } else if d == 0.0 {
        out.push_str(if d.is_sign_negative() { "-0.0" } else { "0.0" });
    } else if d.abs() == f64::from_bits(1) {
        // Double.MIN_VALUE: FloatingDecimal prints two digits where one round-trips
        out.push_str(if d < 0.0 { "-4.9E-324" } else { "4.9E-324" });
    } else {
        layout(out, d < 0.0, &decimal(d.abs()));
    }
}

/// `d` formatted as Java's `Double.toString(d)` (Java 8–18).
pub fn java_double_to_string(d: f64) -> String {
    let mut s = String::with_capacity(24);
    write_java_double(&mut s, d);
    s
}

/// Appends `f` formatted in the layout of Java's `Float.toString(f)`, with the shortest digits
/// that round-trip as `f32`. Java 8–18 print more digits than needed for some floats (for
/// example `1.17549435E-38` where this gives `1.1754944E-38`).
pub fn write_java_float(out: &mut String, f: f32) {
    if f.is_nan() {
        out.push_str("NaN");
    } else if f.is_infinite() {
        out.push_str(if f > 0.0 { "Infinity" } else { "-Infinity" });
    } else if f == 0.0 {
        out.push_str(if f.is_sign_negative() { "-0.0" } else { "0.0" });
    } else {
        let mut b = ryu::Buffer::new();
        layout(out, f < 0.0, &Decimal::from_ryu(b.format_finite(f.abs())));
    }
}

/// `f` formatted like Java's `Float.toString(f)`; see [`write_java_float`].
pub fn java_float_to_string(f: f32) -> String {
    let mut s = String::with_capacity(16);
    write_java_float(&mut s, f);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_cases() {
        for (d, s) in [
            (1.0, "1.0"),
            (100.0, "100.0"),
            (0.001, "0.001"),
            (1e-4, "1.0E-4"),
            (1e7, "1.0E7"),
            (9999999.0, "9999999.0"),
            (123456.789, "123456.789"),
            (-0.0, "-0.0"),
            (0.1, "0.1"),
            (1.5e-4, "1.5E-4"),
            (1e21, "1.0E21"),
            (1.23456789123e8, "1.23456789123E8"),
            (f64::MIN_POSITIVE, "2.2250738585072014E-308"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Infinity"),
        ] {
            assert_eq!(java_double_to_string(d), s, "{d:e}");
        }
    }

    #[test]
    fn integer_fast_path_keeps_java_digits() {
        // Java 17 prints these with more digits than the shortest round-trip form
        assert_eq!(
            java_double_to_string(2.82879384806159E17),
            "2.82879384806159008E17"
        );
        assert_eq!(
            java_double_to_string(1959642074231560192.0),
            "1.95964207423156019E18"
        );
    }

    #[test]
    fn float_layout() {
        assert_eq!(java_float_to_string(0.2), "0.2");
        assert_eq!(java_float_to_string(1e7), "1.0E7");
        assert_eq!(java_float_to_string(-1.5), "-1.5");
    }
}
