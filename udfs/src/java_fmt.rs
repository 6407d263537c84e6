//! Numbers as Java prints them.
//!
//! Spark casts `double` to `string` with Java's `Double.toString` (so `StringIndexer` fitted on a
//! double column holds labels such as `"1.0"` and `"1.0E7"`), and writes numbers in CSV and JSON
//! output the same way. Java 8–18 (Spark 4 runs on Java 17) use the old `FloatingDecimal`
//! algorithm, which prints the shortest digits that round-trip except for integer-valued doubles
//! between 2^53 and 2^63, where it prints the exact integer with at most two digits rounded away.
//! This module reproduces that, Java's round-half-even choice between two equally short
//! candidates, and the two-digit `4.9E-324`; `tests/fixtures/java/double_tostring.txt` (written by Java 17,
//! see `scripts/JavaNumberCorpus.java`) is the reference it is tested against.
//!
//! Layout rules (Java's): magnitudes in `[1e-3, 1e7)` print as plain decimals with at least one
//! fractional digit (`100.0`, `0.001`); others as `d.dddE±n` without a `+` (`1.0E7`, `1.0E-4`);
//! also `NaN`, `Infinity`, `-Infinity`, `0.0`, `-0.0`.

use std::fmt::Write;

/// Decimal digits (no leading or trailing zeros) and the exponent `e` such that the value is
/// `0.d1d2d3… × 10^e`.
struct Decimal {
    digits: Vec<u8>,
    exp: i32,
}

fn shortest_digits(text: &str) -> Decimal {
    // `text` is Rust's `{:e}` rendering: shortest round-trip digits, e.g. "1.2345e-5".
    let (mantissa, exp) = text
        .split_once('e')
        .expect("LowerExp output has an exponent");
    let exp: i32 = exp.parse().expect("LowerExp exponent is an integer");
    let mut digits: Vec<u8> = mantissa.bytes().filter(|b| b.is_ascii_digit()).collect();
    while digits.len() > 1 && digits.last() == Some(&b'0') {
        digits.pop();
    }
    Decimal {
        digits,
        exp: exp + 1,
    }
}

fn decimal(a: f64, scratch: &mut String) -> Decimal {
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
        if v % p >= p / 2 && drop > 0 {
            q += 1;
        }
        scratch.clear();
        write!(scratch, "{q}").expect("write to String");
        let exp = scratch.len() as i32 + drop as i32;
        let mut digits: Vec<u8> = scratch.bytes().collect();
        while digits.len() > 1 && digits.last() == Some(&b'0') {
            digits.pop();
        }
        return Decimal { digits, exp };
    }
    scratch.clear();
    write!(scratch, "{a:e}").expect("write to String");
    let mut dec = shortest_digits(scratch);
    round_ties_to_even(a, &mut dec, scratch);
    dec
}

/// Rust's shortest formatting breaks an exact decimal tie (the double lies exactly halfway
/// between two shortest candidates, e.g. `97524076221609.125` at 16 digits) upwards; Java picks
/// the candidate with the even last digit. Both candidates round-trip, so switching is safe.
fn round_ties_to_even(a: f64, dec: &mut Decimal, scratch: &mut String) {
    let n = dec.digits.len();
    scratch.clear();
    // n + 25 significant digits: exact for any double whose expansion is that short
    write!(scratch, "{a:.*e}", n + 24).expect("write to String");
    let (mantissa, exp) = scratch
        .split_once('e')
        .expect("LowerExp output has an exponent");
    if exp.parse::<i32>().ok().map(|e| e + 1) != Some(dec.exp) {
        return;
    }
    let exact: Vec<u8> = mantissa.bytes().filter(|b| b.is_ascii_digit()).collect();
    if exact[n] != b'5' || exact[n + 1..].iter().any(|d| *d != b'0') {
        return;
    }
    // a tie between T = exact[..n] and T + 1 (one of them is `dec`)
    let mut even = exact[..n].to_vec();
    if (even[n - 1] - b'0') % 2 == 1 {
        // T is odd: the even candidate is T + 1
        let mut i = n;
        loop {
            i -= 1;
            if even[i] == b'9' {
                even[i] = b'0';
                if i == 0 {
                    return; // carry out of the leading digit: not a same-length tie
                }
            } else {
                even[i] += 1;
                break;
            }
        }
    }
    while even.len() > 1 && even.last() == Some(&b'0') {
        even.pop();
    }
    dec.digits = even;
}

fn layout(out: &mut String, negative: bool, d: &Decimal) {
    if negative {
        out.push('-');
    }
    let digits = &d.digits;
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
        let mut scratch = String::with_capacity(32);
        let dec = decimal(d.abs(), &mut scratch);
        layout(out, d < 0.0, &dec);
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
        let mut scratch = String::with_capacity(24);
        write!(scratch, "{:e}", f.abs()).expect("write to String");
        let dec = shortest_digits(&scratch);
        layout(out, f < 0.0, &dec);
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
