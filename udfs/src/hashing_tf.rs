//! HashingTF: term frequencies of an array of strings in a hashed feature space.
//!
//! Each term's index is `nonNegativeMod(murmur3(term), numFeatures)` with Spark's 32-bit
//! MurmurHash3 (seed 42) over the term's UTF-8 bytes; a null term hashes to the seed (Spark's `FeatureHasher.murmur3Hash`). Spark 3+ uses
//! `hashUnsafeBytes2` (standard MurmurHash3 tail handling); models saved by Spark 2.x (and MLeap
//! bundles without `hashUnsafeBytesVersion`) use the original `hashUnsafeBytes`, which mixes
//! each trailing byte (sign-extended) as a whole block. The output is a sparse vector of size
//! `numFeatures`, indices ascending, values the counts (1.0 with `binary`).
//!
//! Spark accepts arrays of any element type; ember supports arrays of strings.
//!
//! # Null Handling
//! A null array is an error (Spark's UDF dereferences it); a null term counts at index
//! `42 mod numFeatures`.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::ArrayRef;
use arrow::datatypes::DataType;
use datafusion::common::Result;

use crate::common::{ArgKind, StageRef};
use crate::text::{TextKernel, TextUdf, for_each_string_list, null_row_error};
use crate::vector::{VectorBuilder, vector_data_type};

const C1: u32 = 0xcc9e_2d51;
const C2: u32 = 0x1b87_3593;
/// The seed Spark's feature hashing uses.
pub const SEED: u32 = 42;

fn mix_k1(k1: u32) -> u32 {
    k1.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2)
}

fn mix_h1(h1: u32, k1: u32) -> u32 {
    (h1 ^ k1)
        .rotate_left(13)
        .wrapping_mul(5)
        .wrapping_add(0xe654_6b64)
}

fn fmix(mut h1: u32, len: usize) -> u32 {
    h1 ^= len as u32;
    h1 ^= h1 >> 16;
    h1 = h1.wrapping_mul(0x85eb_ca6b);
    h1 ^= h1 >> 13;
    h1 = h1.wrapping_mul(0xc2b2_ae35);
    h1 ^ (h1 >> 16)
}

fn hash_blocks(bytes: &[u8], seed: u32) -> u32 {
    bytes.chunks_exact(4).fold(seed, |h1, c| {
        mix_h1(h1, mix_k1(u32::from_le_bytes([c[0], c[1], c[2], c[3]])))
    })
}

/// Spark's `Murmur3_x86_32.hashUnsafeBytes2` (Spark 3+): standard MurmurHash3 x86 32-bit.
pub fn murmur3_v2(bytes: &[u8], seed: u32) -> i32 {
    let aligned = bytes.len() - bytes.len() % 4;
    let mut h1 = hash_blocks(&bytes[..aligned], seed);
    let mut k1 = 0u32;
    for (shift, b) in bytes[aligned..].iter().enumerate() {
        k1 ^= u32::from(*b) << (8 * shift);
    }
    h1 ^= mix_k1(k1);
    fmix(h1, bytes.len()) as i32
}

/// Spark's `Murmur3_x86_32.hashUnsafeBytes` (Spark 2.x HashingTF): each trailing byte,
/// sign-extended, is mixed as a full block.
pub fn murmur3_v1(bytes: &[u8], seed: u32) -> i32 {
    let aligned = bytes.len() - bytes.len() % 4;
    let mut h1 = hash_blocks(&bytes[..aligned], seed);
    for b in &bytes[aligned..] {
        h1 = mix_h1(h1, mix_k1(*b as i8 as i32 as u32));
    }
    fmix(h1, bytes.len()) as i32
}

/// Which of Spark's two byte hashes a model uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashVersion {
    /// `hashUnsafeBytes` (Spark 2.x).
    V1,
    /// `hashUnsafeBytes2` (Spark 3+).
    V2,
}

/// A HashingTF.
#[derive(Debug, Clone)]
pub struct HashingTf {
    /// Output vector size.
    pub num_features: usize,
    /// Presence (1.0) instead of counts.
    pub binary: bool,
    /// The byte hash.
    pub version: HashVersion,
}

impl HashingTf {
    /// The feature index of a term (`None` = null term, hashed as the seed).
    pub fn index_of(&self, term: Option<&str>) -> usize {
        let h = match term {
            None => SEED as i32,
            Some(t) => match self.version {
                HashVersion::V2 => murmur3_v2(t.as_bytes(), SEED),
                HashVersion::V1 => murmur3_v1(t.as_bytes(), SEED),
            },
        };
        // Spark's Utils.nonNegativeMod on Ints
        let m = self.num_features as i64;
        (i64::from(h) % m + m) as usize % self.num_features
    }
}

impl TextKernel for HashingTf {
    const INPUT: ArgKind = ArgKind::StringList;

    fn output_type(&self) -> DataType {
        vector_data_type()
    }

    fn fingerprint(&self, h: &mut std::collections::hash_map::DefaultHasher) {
        use std::hash::Hash;
        (self.num_features, self.binary, self.version).hash(h);
    }

    fn transform(&self, stage: &StageRef, column: &str, input: &ArrayRef) -> Result<ArrayRef> {
        let mut out = VectorBuilder::with_capacity(input.len(), 8);
        let mut counts: BTreeMap<i32, f64> = BTreeMap::new();
        let (mut idx, mut val) = (Vec::new(), Vec::new());
        for_each_string_list(stage.uid.as_ref(), input, |row, terms| {
            let terms = terms.ok_or_else(|| null_row_error(stage, column, row))?;
            counts.clear();
            for t in terms {
                let c = counts.entry(self.index_of(*t) as i32).or_default();
                *c = if self.binary { 1.0 } else { *c + 1.0 };
            }
            idx.clear();
            val.clear();
            for (i, v) in &counts {
                idx.push(*i);
                val.push(*v);
            }
            out.push_sparse(self.num_features, &idx, &val);
            Ok(())
        })?;
        Ok(out.finish_array())
    }
}

/// Wraps a HashingTF as a UDF: `array<string> → vector`.
pub fn udf(
    name: impl Into<String>,
    stage: StageRef,
    column: impl Into<String>,
    model: Arc<HashingTf>,
) -> TextUdf<HashingTf> {
    TextUdf::new(name, stage, column, model)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murmur3_reference_values() {
        // standard MurmurHash3_x86_32 test vectors (seed 0)
        assert_eq!(murmur3_v2(b"", 0), 0);
        assert_eq!(murmur3_v2(b"", 1) as u32, 0x514e_28b7);
        assert_eq!(murmur3_v2(b"test", 0) as u32, 0xba6b_d213);
        assert_eq!(murmur3_v2(b"Hello, world!", 0) as u32, 0xc036_3e43);
        assert_eq!(
            murmur3_v2(b"The quick brown fox jumps over the lazy dog", 0) as u32,
            0x2e4f_f723
        );
        // v1 differs only when the length is not a multiple of 4
        assert_eq!(murmur3_v1(b"test", 42), murmur3_v2(b"test", 42));
        assert_ne!(murmur3_v1(b"tests", 42), murmur3_v2(b"tests", 42));
    }

    #[test]
    fn matches_sparks_jvm_hashes() {
        // (term, Murmur3_x86_32.hashUnsafeBytes, hashUnsafeBytes2), seed 42, computed by
        // Spark 4.0.1's own class through py4j over each term's UTF-8 bytes
        let jvm: [(&str, i32, i32); 10] = [
            ("", 142593372, 142593372),
            ("a", 1485273170, -1293573533),
            ("ab", -97053317, -684913081),
            ("abc", 1322437556, 1313807976),
            ("abcd", -396302900, -396302900),
            ("abcde", 814637928, -1361433616),
            ("ünï", 750688415, 947881467),
            ("日本語", -1143049834, -976822600),
            ("😀", 1877935379, 1877935379),
            ("spark", 2101843105, -226056714),
        ];
        for (t, v1, v2) in jvm {
            assert_eq!(murmur3_v1(t.as_bytes(), SEED), v1, "v1 {t:?}");
            assert_eq!(murmur3_v2(t.as_bytes(), SEED), v2, "v2 {t:?}");
        }
    }

    #[test]
    fn indices_are_non_negative() {
        let tf = HashingTf {
            num_features: 7,
            binary: false,
            version: HashVersion::V2,
        };
        for t in ["a", "b", "spark", "ünïcode", ""] {
            assert!(tf.index_of(Some(t)) < 7);
        }
        assert_eq!(tf.index_of(None), 0); // 42 mod 7
    }
}
