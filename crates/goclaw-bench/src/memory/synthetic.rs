//! Synthetic memory for the search benchmark, the same on every run: chunks of 60 to 120 words
//! drawn with Zipf frequencies (common words common, as in real notes) from a vocabulary of
//! [`VOCABULARY_SIZE`] words — the labelled corpus's words first, by frequency, then made-up
//! words (`kavolen`), because 100,000 chunks of real notes hold tens of thousands of distinct
//! words, not the corpus's few thousand — each chunk with one rare identifier (`ref-1a2b3`);
//! and queries shaped like what people ask ("how do we" + two to four words past the commonest
//! 30, some with an identifier).

use std::collections::HashMap;

use goclaw_memory::quality::Corpus;

/// A small deterministic generator (SplitMix64): the bench must not depend on a seed source.
#[derive(Debug, Clone)]
pub struct Draw(u64);

impl Draw {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut x = self.0;
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^ (x >> 31)
    }

    /// Uniform in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Words by corpus frequency, most frequent first, drawn with probability ∝ 1/rank.
#[derive(Debug, Clone)]
pub struct Vocabulary {
    words: Vec<String>,
    cumulative: Vec<f64>,
}

/// Distinct words of the synthetic notes: about what 100,000 chunks of ~90 words of English
/// notes hold (Heaps' law puts 9 million words of text well above this).
pub const VOCABULARY_SIZE: usize = 50_000;

const SYLLABLES: &[&str] = &[
    "ka", "lo", "ven", "mi", "tor", "sa", "rin", "pe", "dal", "qui", "zu", "bre", "nox", "fa",
    "gel", "hu", "jor", "wi", "ste", "ym",
];

/// The `n`th made-up word: its digits in base 20 spelled as syllables (two or more), so every
/// `n` gets a different word and none is an English word of the corpus.
fn made_up_word(mut n: usize) -> String {
    let mut word = String::new();
    for _ in 0..2 {
        word.push_str(SYLLABLES[n % SYLLABLES.len()]);
        n /= SYLLABLES.len();
    }
    while n > 0 {
        word.push_str(SYLLABLES[n % SYLLABLES.len()]);
        n /= SYLLABLES.len();
    }
    word.push('x');
    word
}

const QUESTION_STARTS: &[&str] = &[
    "what is the",
    "who owns",
    "where do we keep",
    "how do we",
    "when did we change",
    "why does",
    "",
];

impl Vocabulary {
    /// The vocabulary of `corpus`: its lower-cased words of two or more letters.
    pub fn of(corpus: &Corpus) -> Self {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for document in &corpus.documents {
            for word in document
                .content
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| w.chars().count() >= 2)
            {
                *counts.entry(word.to_lowercase()).or_default() += 1;
            }
        }
        let mut words: Vec<(String, usize)> = counts.into_iter().collect();
        words.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let real = words.len();
        words.extend((0..VOCABULARY_SIZE.saturating_sub(real)).map(|n| (made_up_word(n), 0)));
        let mut total = 0.0;
        let cumulative = (1..=words.len())
            .map(|rank| {
                total += 1.0 / rank as f64;
                total
            })
            .collect();
        Self {
            words: words.into_iter().map(|(w, _)| w).collect(),
            cumulative,
        }
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// A word with Zipf probability among ranks `from..`.
    pub fn word(&self, draw: &mut Draw, from: usize) -> &str {
        let from = from.min(self.words.len().saturating_sub(1));
        let low = if from == 0 {
            0.0
        } else {
            self.cumulative[from - 1]
        };
        let high = self.cumulative.last().copied().unwrap_or(0.0);
        let target = low + draw.unit() * (high - low);
        let at = self.cumulative.partition_point(|c| *c <= target);
        &self.words[at.min(self.words.len() - 1)]
    }

    /// The text of chunk `n`: 60 to 120 words and its identifier, in lines of about ten words.
    pub fn chunk(&self, draw: &mut Draw, n: usize) -> String {
        let count = 60 + draw.below(61);
        let identifier_at = draw.below(count);
        let mut text = String::with_capacity(count * 8);
        for i in 0..count {
            if i == identifier_at {
                text.push_str(&identifier(n));
            } else {
                text.push_str(self.word(draw, 0));
            }
            text.push(if i % 10 == 9 { '\n' } else { ' ' });
        }
        text.trim_end().to_owned()
    }

    /// A query: a question start and two to four words past the commonest 30; one in ten
    /// names the identifier of a chunk below `chunks`.
    pub fn query(&self, draw: &mut Draw, chunks: usize) -> String {
        let mut query = QUESTION_STARTS[draw.below(QUESTION_STARTS.len())].to_owned();
        for _ in 0..2 + draw.below(3) {
            query.push(' ');
            query.push_str(self.word(draw, 30));
        }
        if draw.below(10) == 0 {
            query.push(' ');
            query.push_str(&identifier(draw.below(chunks.max(1))));
        }
        query.trim().to_owned()
    }
}

/// The rare identifier of chunk `n`.
pub fn identifier(n: usize) -> String {
    format!("ref-{:05x}", n.wrapping_mul(0x9e37) % 0x100000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_repeatable_and_zipf_shaped() {
        let corpus = Corpus::load(&Corpus::bundled_dir()).expect("corpus");
        let vocabulary = Vocabulary::of(&corpus);
        assert_eq!(vocabulary.len(), VOCABULARY_SIZE);
        let distinct: std::collections::HashSet<&String> = vocabulary.words.iter().collect();
        assert_eq!(
            distinct.len(),
            VOCABULARY_SIZE,
            "made-up words are all different"
        );
        let (mut a, mut b) = (Draw::new(7), Draw::new(7));
        assert_eq!(vocabulary.chunk(&mut a, 3), vocabulary.chunk(&mut b, 3));
        assert_eq!(vocabulary.query(&mut a, 10), vocabulary.query(&mut b, 10));
        let mut draw = Draw::new(1);
        let commonest = vocabulary.words[0].clone();
        let rare = vocabulary.words[vocabulary.len() / 2].clone();
        let mut counts = (0, 0);
        for _ in 0..20_000 {
            let word = vocabulary.word(&mut draw, 0);
            counts.0 += usize::from(word == commonest);
            counts.1 += usize::from(word == rare);
        }
        assert!(counts.0 > 20 * counts.1.max(1), "{counts:?}");
        let mut draw = Draw::new(2);
        for _ in 0..1000 {
            let word = vocabulary.word(&mut draw, 30);
            assert!(!vocabulary.words[..30].iter().any(|w| w == word), "{word}");
        }
        let chunk = vocabulary.chunk(&mut Draw::new(9), 41);
        assert!(chunk.contains(&identifier(41)), "{chunk}");
        assert!((60..=120).contains(&chunk.split_whitespace().count()));
    }
}
