//! `gateway.quota` in the application: its settings turned into the gateway's
//! [`RequestQuota`], which the runtime asks before each turn and `quota.usage` reports on.

use std::sync::Arc;

use goclaw_config::{QuotaConfig, QuotaWindow};
use goclaw_core::Store;
use goclaw_gateway::request_quota::{QuotaLimits, QuotaRules, RequestQuota};

/// The quota checker of `config` (read at start-up), counting from `store`.
pub fn request_quota(config: &QuotaConfig, store: Arc<dyn Store>) -> Arc<RequestQuota> {
    let limits = |window: &QuotaWindow| QuotaLimits {
        hour: window.hour,
        day: window.day,
        week: window.week,
    };
    let each = |map: &std::collections::BTreeMap<String, QuotaWindow>| {
        map.iter()
            .map(|(key, w)| (key.clone(), limits(w)))
            .collect()
    };
    let rules = QuotaRules {
        enabled: config.enabled,
        default: limits(&config.default),
        providers: each(&config.providers),
        channels: each(&config.channels),
        groups: each(&config.groups),
    };
    Arc::new(RequestQuota::new(rules, store))
}
