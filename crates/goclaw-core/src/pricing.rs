//! [`PriceList`]: what model calls cost, from `telemetry.model_pricing` — prices per million
//! tokens, keyed `"provider/model"` — and the cost of one call's [`Usage`].
//!
//! A model without a price costs 0: pricing is an operator's estimate, never a reason for a run
//! to fail. Tokens are billed as providers report them: `input_tokens` at the input price,
//! cache reads and cache writes at their own prices, `output_tokens` at the output price —
//! except the reasoning part of them (`thinking_tokens`, which providers count inside the
//! output), billed at the reasoning price when one is set.

use std::collections::BTreeMap;

use crate::llm::Usage;

/// Price of one model, in currency units per million tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ModelPrice {
    pub input_per_million: f64,
    pub output_per_million: f64,
    pub cache_read_per_million: f64,
    pub cache_create_per_million: f64,
    /// 0 bills reasoning tokens as output tokens.
    pub reasoning_per_million: f64,
}

impl ModelPrice {
    /// The cost of a call that used `usage`.
    pub fn cost(&self, usage: &Usage) -> f64 {
        let per_token = |count: u64, per_million: f64| count as f64 * per_million / 1_000_000.0;
        let (output, reasoning) = if self.reasoning_per_million > 0.0 {
            let thinking = usage.thinking_tokens.min(usage.output_tokens);
            (usage.output_tokens - thinking, thinking)
        } else {
            (usage.output_tokens, 0)
        };
        per_token(usage.input_tokens, self.input_per_million)
            + per_token(output, self.output_per_million)
            + per_token(reasoning, self.reasoning_per_million)
            + per_token(usage.cache_read_tokens, self.cache_read_per_million)
            + per_token(usage.cache_creation_tokens, self.cache_create_per_million)
    }
}

/// Prices of models by `"provider/model"`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PriceList {
    prices: BTreeMap<String, ModelPrice>,
}

impl PriceList {
    /// A list of `("provider/model", price)` entries.
    pub fn new(prices: impl IntoIterator<Item = (String, ModelPrice)>) -> Self {
        Self {
            prices: prices.into_iter().collect(),
        }
    }

    /// The price of `model` served by `provider`, if listed.
    pub fn price(&self, provider: &str, model: &str) -> Option<&ModelPrice> {
        self.prices.get(&format!("{provider}/{model}"))
    }

    /// The cost of a call of `model` on `provider` that used `usage`; 0 for an unlisted model.
    pub fn cost(&self, provider: &str, model: &str, usage: &Usage) -> f64 {
        self.price(provider, model)
            .map_or(0.0, |price| price.cost(usage))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(input: u64, output: u64, cache_read: u64, cache_create: u64, thinking: u64) -> Usage {
        Usage {
            input_tokens: input,
            output_tokens: output,
            cache_creation_tokens: cache_create,
            cache_read_tokens: cache_read,
            thinking_tokens: thinking,
        }
    }

    fn list() -> PriceList {
        let price = ModelPrice {
            input_per_million: 3.0,
            output_per_million: 15.0,
            cache_read_per_million: 0.3,
            cache_create_per_million: 3.75,
            reasoning_per_million: 0.0,
        };
        let reasoning = ModelPrice {
            reasoning_per_million: 60.0,
            ..price
        };
        PriceList::new([
            ("anthropic/claude".to_owned(), price),
            ("openai/o-model".to_owned(), reasoning),
        ])
    }

    fn check(provider: &str, model: &str, used: Usage, expected: f64) {
        let cost = list().cost(provider, model, &used);
        assert!(
            (cost - expected).abs() < 1e-12,
            "{provider}/{model}: {cost} != {expected}"
        );
    }

    #[test]
    fn costs_of_calls() {
        check("anthropic", "claude", usage(1_000_000, 0, 0, 0, 0), 3.0);
        check("anthropic", "claude", usage(0, 1_000_000, 0, 0, 0), 15.0);
        check("anthropic", "claude", usage(1000, 500, 0, 0, 0), 0.0105);
        check(
            "anthropic",
            "claude",
            usage(0, 0, 1_000_000, 1_000_000, 0),
            4.05,
        );
        // Without a reasoning price, thinking is billed as the output it is part of.
        check("anthropic", "claude", usage(0, 1000, 0, 0, 400), 0.015);
        // With one, the thinking part of the output is billed at it.
        check(
            "openai",
            "o-model",
            usage(0, 1000, 0, 0, 400),
            0.009 + 0.024,
        );
        check("openai", "o-model", usage(0, 100, 0, 0, 400), 0.006);
        check("anthropic", "unknown", usage(1000, 1000, 0, 0, 0), 0.0);
        check("openai", "claude", usage(1000, 1000, 0, 0, 0), 0.0);
    }
}
