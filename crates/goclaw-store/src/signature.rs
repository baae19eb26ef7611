//! The binary signature of an embedding that SQLite's vector index compares: the signs of a
//! fixed pseudo-random rotation of the vector (SimHash), [`SIGNATURE_BITS`] bits.
//!
//! Two vectors' signatures differ in a share of bits close to the angle between them over π,
//! whatever the vectors look like: dense vectors of a real model and sparse non-negative ones
//! alike (plain sign bits of a non-negative vector only record which coordinates are non-zero,
//! so their Hamming distance mostly measures how many a vector has). The rotation is two rounds
//! of random sign flips each followed by a Walsh–Hadamard transform over the vector padded to
//! [`ROTATED`] coordinates: O(n log n), about 45,000 additions for 1536 dimensions. The
//! signature's first [`SIGNATURE_BITS`] coordinates are kept, bit `i` set when coordinate `i` is
//! positive, least significant bit first in each byte (sqlite-vec's `bit` layout).
//!
//! The signs come from a fixed seed: stored signatures are only comparable with signatures made
//! by this same function, so changing it needs a migration that recomputes them.

/// Bits of a signature (a multiple of 64, so sqlite-vec compares whole words).
pub(crate) const SIGNATURE_BITS: usize = 2048;

/// Bytes of a signature.
pub(crate) const SIGNATURE_BYTES: usize = SIGNATURE_BITS / 8;

/// Coordinates the vector is padded (or cut) to before rotating: a power of two.
const ROTATED: usize = 2048;

/// The seed of the random signs; part of the stored format.
const SEED: u64 = 0x676f_636c_6177_5348;

/// The signature of `vector` (at most [`ROTATED`] coordinates are used).
pub(crate) fn signature(vector: &[f32]) -> [u8; SIGNATURE_BYTES] {
    let mut values = [0.0_f32; ROTATED];
    for (slot, value) in values.iter_mut().zip(vector) {
        *slot = if value.is_finite() { *value } else { 0.0 };
    }
    let mut state = SEED;
    for _ in 0..2 {
        flip_signs(&mut values, &mut state);
        hadamard(&mut values);
    }
    let mut bits = [0_u8; SIGNATURE_BYTES];
    for (i, value) in values.iter().take(SIGNATURE_BITS).enumerate() {
        if *value > 0.0 {
            bits[i / 8] |= 1 << (i % 8);
        }
    }
    bits
}

/// The signature of a SQLite embedding blob (little-endian float32s); `None` when the blob is
/// not a whole number of floats.
pub(crate) fn blob_signature(blob: &[u8]) -> Option<[u8; SIGNATURE_BYTES]> {
    if !blob.len().is_multiple_of(4) {
        return None;
    }
    let vector: Vec<f32> = blob
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Some(signature(&vector))
}

/// Multiplies each value by a pseudo-random ±1 drawn from `state` (SplitMix64, 64 signs a draw).
fn flip_signs(values: &mut [f32; ROTATED], state: &mut u64) {
    for block in values.chunks_mut(64) {
        *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut x = *state;
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^= x >> 31;
        for (i, value) in block.iter_mut().enumerate() {
            if x >> i & 1 == 1 {
                *value = -*value;
            }
        }
    }
}

/// The unnormalized Walsh–Hadamard transform, in place.
fn hadamard(values: &mut [f32; ROTATED]) {
    let mut half = 1;
    while half < ROTATED {
        for block in values.chunks_exact_mut(2 * half) {
            let (low, high) = block.split_at_mut(half);
            for (a, b) in low.iter_mut().zip(high.iter_mut()) {
                let (x, y) = (*a, *b);
                *a = x + y;
                *b = x - y;
            }
        }
        half *= 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hamming(a: &[u8; SIGNATURE_BYTES], b: &[u8; SIGNATURE_BYTES]) -> u32 {
        a.iter().zip(b).map(|(x, y)| (x ^ y).count_ones()).sum()
    }

    /// A deterministic pseudo-random vector of `n` values in -1..1.
    fn vector(seed: u64, n: usize) -> Vec<f32> {
        let mut state = seed;
        (0..n)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
            })
            .collect()
    }

    #[test]
    fn hadamard_twice_scales_by_the_length() {
        let mut values = [0.0_f32; ROTATED];
        for (i, v) in values.iter_mut().enumerate().take(40) {
            *v = i as f32 - 7.0;
        }
        let original = values;
        hadamard(&mut values);
        hadamard(&mut values);
        for (a, b) in values.iter().zip(&original) {
            assert!((a - b * ROTATED as f32).abs() < 1e-2, "{a} vs {b}");
        }
    }

    #[test]
    fn signatures_depend_on_direction_only() {
        let v = vector(1, 1536);
        let scaled: Vec<f32> = v.iter().map(|x| x * 3.5).collect();
        assert_eq!(signature(&v), signature(&scaled));
        let negated: Vec<f32> = v.iter().map(|x| -x).collect();
        assert!(hamming(&signature(&v), &signature(&negated)) as usize > SIGNATURE_BITS * 9 / 10);
        let blob: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
        assert_eq!(blob_signature(&blob), Some(signature(&v)));
        assert_eq!(blob_signature(&blob[..5]), None);
    }

    #[test]
    fn hamming_distance_follows_the_angle() {
        // Sparse non-negative vectors, like hashed-word embeddings: `near` shares most of its
        // coordinates with `base`, `far` few of them; all have as many non-zero coordinates.
        let sparse = |ones: &[usize]| {
            let mut v = vec![0.0_f32; 1536];
            for &i in ones {
                v[i] = 1.0;
            }
            v
        };
        let base: Vec<usize> = (0..60).map(|i| i * 25).collect();
        let near: Vec<usize> = (0..50).map(|i| i * 25).chain(1500..1510).collect();
        let far: Vec<usize> = (0..10).map(|i| i * 25).chain(1..51).collect();
        let (b, n, f) = (
            signature(&sparse(&base)),
            signature(&sparse(&near)),
            signature(&sparse(&far)),
        );
        let share = |bits: u32| f64::from(bits) / SIGNATURE_BITS as f64;
        let (to_near, to_far) = (share(hamming(&b, &n)), share(hamming(&b, &f)));
        // The expected share of differing bits is the angle over π: cos 5/6 is 33.6° (0.187),
        // cos 1/6 is 80.4° (0.447), unrelated vectors 90° (0.5).
        assert!((0.14..0.24).contains(&to_near), "{to_near}");
        assert!((0.39..0.50).contains(&to_far), "{to_far}");
        let random = share(hamming(
            &signature(&vector(2, 1536)),
            &signature(&vector(3, 1536)),
        ));
        assert!((0.45..0.55).contains(&random), "{random}");
    }
}
