//! One agent's chunk signatures in memory, and the nearest of them to a probe by Hamming
//! distance, within an owner's scope.
//!
//! Signatures are kept in the order of their `seq` (the store hands them over oldest first),
//! so a removal finds its entry by binary search. A removed entry is marked dead in place and
//! the vectors are compacted once a quarter of them are dead.

use std::collections::{BinaryHeap, HashMap};

use crate::signature::SIGNATURE_BYTES;

/// 64-bit words of a signature.
pub(super) const WORDS: usize = SIGNATURE_BYTES / 8;

/// A signature as words, least significant bit first (the stored blob's byte order).
pub(super) type Words = [u64; WORDS];

/// The owner index of a removed entry.
const DEAD: u32 = u32::MAX;

/// Bytes one entry holds: its `seq`, owner and signature.
pub(super) const ENTRY_BYTES: usize = 8 + 4 + SIGNATURE_BYTES;

/// The words of a stored signature blob; `None` when it is not [`SIGNATURE_BYTES`] long.
pub(super) fn words(blob: &[u8]) -> Option<Words> {
    if blob.len() != SIGNATURE_BYTES {
        return None;
    }
    let mut words = [0_u64; WORDS];
    for (word, bytes) in words.iter_mut().zip(blob.chunks_exact(8)) {
        let mut le = [0_u8; 8];
        le.copy_from_slice(bytes);
        *word = u64::from_le_bytes(le);
    }
    Some(words)
}

/// An agent's signatures: parallel vectors of `seq`, owner and signature.
#[derive(Default)]
pub(super) struct Signatures {
    seqs: Vec<i64>,
    owners: Vec<u32>,
    signatures: Vec<Words>,
    /// Owner names ('' = shared) by index, and back.
    owner_names: Vec<String>,
    owner_index: HashMap<String, u32>,
    dead: usize,
}

impl Signatures {
    /// Live entries.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.seqs.len() - self.dead
    }

    /// Bytes held, about.
    pub(super) fn bytes(&self) -> usize {
        self.seqs.capacity() * ENTRY_BYTES
    }

    /// Appends a signature; `seq` must be above every `seq` held (older ones are ignored).
    pub(super) fn add(&mut self, seq: i64, owner: &str, signature: Words) {
        if self.seqs.last().is_some_and(|last| *last >= seq) {
            return;
        }
        let owner = match self.owner_index.get(owner) {
            Some(index) => *index,
            None => {
                let index = u32::try_from(self.owner_names.len()).unwrap_or(DEAD - 1);
                self.owner_names.push(owner.to_owned());
                self.owner_index.insert(owner.to_owned(), index);
                index
            }
        };
        self.seqs.push(seq);
        self.owners.push(owner);
        self.signatures.push(signature);
    }

    /// Marks the entry of `seq` dead, if held.
    pub(super) fn remove(&mut self, seq: i64) {
        if let Ok(at) = self.seqs.binary_search(&seq)
            && self.owners[at] != DEAD
        {
            self.owners[at] = DEAD;
            self.dead += 1;
        }
        if self.dead > 64 && self.dead * 4 > self.seqs.len() {
            self.compact();
        }
    }

    fn compact(&mut self) {
        let mut kept = 0;
        for at in 0..self.seqs.len() {
            if self.owners[at] != DEAD {
                self.seqs[kept] = self.seqs[at];
                self.owners[kept] = self.owners[at];
                self.signatures[kept] = self.signatures[at];
                kept += 1;
            }
        }
        self.seqs.truncate(kept);
        self.owners.truncate(kept);
        self.signatures.truncate(kept);
        self.seqs.shrink_to_fit();
        self.owners.shrink_to_fit();
        self.signatures.shrink_to_fit();
        self.dead = 0;
    }

    /// The `seq` of at most `k` signatures nearest `probe` by Hamming distance, nearest first
    /// (ties by `seq`), among the shared ones and `user`'s.
    pub(super) fn nearest(&self, user: Option<&str>, probe: &Words, k: usize) -> Vec<i64> {
        let mut visible = vec![false; self.owner_names.len()];
        for name in ["", user.unwrap_or("")] {
            if let Some(index) = self.owner_index.get(name) {
                visible[*index as usize] = true;
            }
        }
        let mut best = BinaryHeap::with_capacity(k + 1);
        if k > 0 {
            scan(self, &visible, probe, k, &mut best);
        }
        let mut best: Vec<(u32, usize)> = best.into_vec();
        best.sort_unstable_by_key(|(distance, at)| (*distance, self.seqs[*at]));
        best.into_iter().map(|(_, at)| self.seqs[at]).collect()
    }
}

/// Fills `best` (a max-heap by distance) with the `k` nearest visible entries, with the
/// processor's population count instruction when it has one.
fn scan(
    signatures: &Signatures,
    visible: &[bool],
    probe: &Words,
    k: usize,
    best: &mut BinaryHeap<(u32, usize)>,
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("popcnt") {
        // SAFETY: the processor supports `popcnt`, the one feature the function enables.
        #[allow(unsafe_code)]
        unsafe {
            scan_popcnt(signatures, visible, probe, k, best);
        }
        return;
    }
    scan_portable(signatures, visible, probe, k, best);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt")]
fn scan_popcnt(
    signatures: &Signatures,
    visible: &[bool],
    probe: &Words,
    k: usize,
    best: &mut BinaryHeap<(u32, usize)>,
) {
    scan_portable(signatures, visible, probe, k, best);
}

#[inline(always)]
fn scan_portable(
    signatures: &Signatures,
    visible: &[bool],
    probe: &Words,
    k: usize,
    best: &mut BinaryHeap<(u32, usize)>,
) {
    let mut worst = u32::MAX;
    for (at, (owner, signature)) in signatures
        .owners
        .iter()
        .zip(&signatures.signatures)
        .enumerate()
    {
        if !visible.get(*owner as usize).copied().unwrap_or(false) {
            continue;
        }
        let distance = hamming(signature, probe);
        if best.len() < k {
            best.push((distance, at));
            if best.len() == k {
                worst = best.peek().map_or(u32::MAX, |(d, _)| *d);
            }
        } else if distance < worst {
            best.pop();
            best.push((distance, at));
            worst = best.peek().map_or(u32::MAX, |(d, _)| *d);
        }
    }
}

#[inline(always)]
fn hamming(a: &Words, b: &Words) -> u32 {
    a.iter().zip(b).map(|(x, y)| (x ^ y).count_ones()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A signature whose first `ones` bits are set.
    fn with_bits(ones: usize) -> Words {
        let mut words = [0_u64; WORDS];
        for bit in 0..ones {
            words[bit / 64] |= 1 << (bit % 64);
        }
        words
    }

    fn probe() -> Words {
        [0_u64; WORDS]
    }

    #[test]
    fn nearest_first_within_the_owners_scope() {
        let mut signatures = Signatures::default();
        signatures.add(1, "", with_bits(30));
        signatures.add(2, "alice", with_bits(10));
        signatures.add(3, "bob", with_bits(1));
        signatures.add(4, "", with_bits(20));
        signatures.add(5, "alice", with_bits(40));
        assert_eq!(
            signatures.nearest(Some("alice"), &probe(), 3),
            vec![2, 4, 1]
        );
        assert_eq!(signatures.nearest(Some("bob"), &probe(), 2), vec![3, 4]);
        assert_eq!(signatures.nearest(None, &probe(), 10), vec![4, 1]);
        assert_eq!(signatures.nearest(Some("carol"), &probe(), 10), vec![4, 1]);
        assert!(signatures.nearest(Some("alice"), &probe(), 0).is_empty());
    }

    #[test]
    fn ties_go_to_the_older_signature() {
        let mut signatures = Signatures::default();
        for seq in 1..=5 {
            signatures.add(seq, "", with_bits(7));
        }
        assert_eq!(signatures.nearest(None, &probe(), 2), vec![1, 2]);
    }

    #[test]
    fn removed_signatures_are_never_returned_and_space_comes_back() {
        let mut signatures = Signatures::default();
        for seq in 1..=400 {
            signatures.add(seq, "", with_bits((seq % 50) as usize));
        }
        signatures.remove(50);
        signatures.remove(100);
        signatures.remove(9_999);
        assert_eq!(signatures.len(), 398);
        let nearest = signatures.nearest(None, &probe(), 8);
        assert!(
            !nearest.contains(&50) && !nearest.contains(&100),
            "{nearest:?}"
        );
        assert_eq!(nearest[..6], [150, 200, 250, 300, 350, 400]);
        for seq in 101..=300 {
            signatures.remove(seq);
        }
        assert_eq!(signatures.len(), 198);
        assert!(
            signatures.seqs.len() < 300,
            "compacted once a quarter were dead"
        );
        assert_eq!(signatures.nearest(None, &probe(), 3), vec![350, 400, 1]);
        signatures.remove(350);
        assert_eq!(signatures.nearest(None, &probe(), 2), vec![400, 1]);
    }

    #[test]
    fn an_older_seq_is_not_added_twice() {
        let mut signatures = Signatures::default();
        signatures.add(5, "", with_bits(1));
        signatures.add(5, "", with_bits(1));
        signatures.add(3, "", with_bits(1));
        assert_eq!(signatures.len(), 1);
    }

    #[test]
    fn blobs_read_as_little_endian_words() {
        let mut blob = vec![0_u8; SIGNATURE_BYTES];
        blob[0] = 0b101;
        blob[9] = 1;
        let words = words(&blob).expect("a whole signature");
        assert_eq!(words[0], 0b101);
        assert_eq!(words[1], 1 << 8);
        assert_eq!(hamming(&words, &probe()), 3);
        assert!(super::words(&blob[1..]).is_none());
    }
}
