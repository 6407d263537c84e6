//! A small seeded mutator for the bounded run: AFL-style havoc (bit flips, interesting
//! values, byte runs inserted, deleted or duplicated, dictionary tokens, splices of two seeds)
//! over a seed corpus. Deterministic for a given seed, so a failure in CI replays exactly.
//!
//! (A hand-written SplitMix64 rather than the `rand` crate: adding `rand` with other features
//! than DataFusion's would unify features and rebuild DataFusion in `cargo test --workspace`.)

/// SplitMix64: a tiny, well-known 64-bit generator (Steele, Lea, Flood 2014).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// Tokens that matter to the parsers (JSON, CSV, vectors, schema and metadata keys).
pub const DICTIONARY: &[&[u8]] = &[
    b"\"",
    b",",
    b"\n",
    b"\r\n",
    b"\r",
    b"[",
    b"]",
    b"{",
    b"}",
    b"(",
    b")",
    b":",
    b"null",
    b"true",
    b"false",
    b"NaN",
    b"-Infinity",
    b"1e308",
    b"-0",
    b"2147483647",
    b"2147483648",
    b"4294967298",
    b"-1",
    b"9223372036854775808",
    b"1.5",
    b"\"schema\":",
    b"\"data\":",
    b"\"input\":",
    b"\"output\":",
    b"\"name\":",
    b"\"type\":",
    b"\"struct\":",
    b"\"vector\"",
    b"\"array\"",
    b"\"basic\"",
    b"\"double\"",
    b"\"string\"",
    b"\"int\"",
    b"\"boolean\"",
    b"\"byte\"",
    b"\"long\"",
    b"\"float\"",
    b"\"short\"",
    b"\"paramMap\":",
    b"\"defaultParamMap\":",
    b"\"class\":",
    b"\"uid\":",
    b"\"stageUids\":",
    b"\"attributes\":",
    b"\"op\":",
    b"\"shape\":",
    b"\"port\":",
    b"\"value\":",
    b"\"format\":",
    b"=== ",
    b"\xff",
    b"\xc3\xa9",
    b"\0",
];

const INTERESTING: &[u8] = &[0, 1, 0x7f, 0x80, 0xff, b'0', b'9', b' ', b'-', b'.', b'e'];

/// Returns a mutation of `input` (often several stacked), splicing with `other` at times;
/// the result is at most `max_len` bytes.
pub fn mutate(rng: &mut Rng, input: &[u8], other: &[u8], max_len: usize) -> Vec<u8> {
    let mut out = input.to_vec();
    let rounds = 1 << rng.below(5);
    for _ in 0..rounds {
        let len = out.len();
        match rng.below(10) {
            0 if len > 0 => {
                let i = rng.below(len);
                out[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                out[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 if len > 0 => {
                let i = rng.below(len);
                out[i] = rng.next_u64() as u8;
            }
            3 if len > 1 => {
                let a = rng.below(len);
                let n = 1 + rng.below((len - a).min(32));
                out.drain(a..a + n);
            }
            4 if len > 0 => {
                // duplicate a run
                let a = rng.below(len);
                let n = 1 + rng.below((len - a).min(64));
                let run = out[a..a + n].to_vec();
                let at = rng.below(len + 1);
                out.splice(at..at, run);
            }
            5 | 6 => {
                let token = DICTIONARY[rng.below(DICTIONARY.len())];
                let at = rng.below(len + 1);
                if rng.below(2) == 0 || at == len {
                    out.splice(at..at, token.iter().copied());
                } else {
                    let end = (at + token.len()).min(len);
                    out.splice(at..end, token.iter().copied());
                }
            }
            7 if !other.is_empty() => {
                // splice: a prefix of this, a suffix of the other
                let a = rng.below(len + 1);
                let b = rng.below(other.len());
                out.truncate(a);
                out.extend_from_slice(&other[b..]);
            }
            8 if len > 0 => {
                // a random ASCII digit run (numbers are what most values are)
                let at = rng.below(len + 1);
                let n = 1 + rng.below(20);
                let digits: Vec<u8> = (0..n).map(|_| b'0' + rng.below(10) as u8).collect();
                out.splice(at..at, digits);
            }
            _ => {
                let at = rng.below(len + 1);
                out.insert(at, rng.next_u64() as u8);
            }
        }
        out.truncate(max_len);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_mutations() {
        let run = |seed| {
            let mut rng = Rng::new(seed);
            (0..50)
                .map(|_| mutate(&mut rng, b"1,2,3\n4,5,6", b"{\"data\":[1]}", 256))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        assert!(run(9).iter().all(|m| m.len() <= 256));
    }
}
