//! The exact nearest neighbours of a sample of queries, computed in process while the bench
//! writes its chunks, to measure how many of them a store's vector search finds (recall of
//! the approximate index: sqlite-vec's binary signatures re-ranked, PostgreSQL's HNSW).

/// Exact cosine top-`k` of each query over the chunks seen so far.
#[derive(Debug)]
pub struct ExactNeighbours {
    k: usize,
    queries: Vec<Vec<f32>>,
    /// Per query, the best (similarity, chunk number) pairs, best first, at most `k`.
    best: Vec<Vec<(f32, usize)>>,
}

impl ExactNeighbours {
    /// Nothing seen yet for `queries` (their vectors), keeping `k` neighbours each.
    pub fn new(queries: Vec<Vec<f32>>, k: usize) -> Self {
        let best = vec![Vec::with_capacity(k + 1); queries.len()];
        Self { k, queries, best }
    }

    pub fn queries(&self) -> &[Vec<f32>] {
        &self.queries
    }

    /// Takes chunk number `n` with its `vector` into account.
    pub fn observe(&mut self, n: usize, vector: &[f32]) {
        let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm == 0.0 {
            return;
        }
        let non_zero: Vec<(usize, f32)> = vector
            .iter()
            .enumerate()
            .filter(|(_, x)| **x != 0.0)
            .map(|(i, x)| (i, *x))
            .collect();
        for (query, best) in self.queries.iter().zip(&mut self.best) {
            let query_norm = query.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
            let dot: f32 = non_zero
                .iter()
                .map(|(i, x)| x * query.get(*i).copied().unwrap_or(0.0))
                .sum();
            let similarity = dot / (norm * query_norm);
            if best.len() == self.k && best.last().is_some_and(|(s, _)| *s >= similarity) {
                continue;
            }
            let at = best.partition_point(|(s, _)| *s >= similarity);
            best.insert(at, (similarity, n));
            best.truncate(self.k);
        }
    }

    /// The share of query `q`'s exact neighbours among `found` (chunk numbers).
    pub fn recall(&self, q: usize, found: &[usize]) -> f64 {
        let Some(best) = self.best.get(q) else {
            return 0.0;
        };
        if best.is_empty() {
            return 1.0;
        }
        let hits = best.iter().filter(|(_, n)| found.contains(n)).count();
        hits as f64 / best.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_most_similar_chunks() {
        let mut exact = ExactNeighbours::new(vec![vec![1.0, 0.0]], 2);
        exact.observe(0, &[0.0, 1.0]);
        exact.observe(1, &[1.0, 1.0]);
        exact.observe(2, &[2.0, 0.1]);
        exact.observe(3, &[-1.0, 0.0]);
        assert_eq!(exact.recall(0, &[2, 1]), 1.0);
        assert_eq!(exact.recall(0, &[2, 0]), 0.5);
        assert_eq!(exact.recall(0, &[3]), 0.0);
    }
}
