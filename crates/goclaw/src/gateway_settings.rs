//! The gateway's settings as the configuration gives them: authentication, allowed origins,
//! listener limits and deadlines, and how long exec approvals wait.

use std::time::Duration;

use goclaw_config::LoadedConfig;
use goclaw_gateway::origins::OriginPolicy;
use goclaw_gateway::{AuthSettings, ConnectionDeadlines, ConnectionLimits, GatewaySettings};

use crate::app::DRAIN_TIMEOUT;

pub(crate) fn approval_timeout(loaded: &LoadedConfig) -> Duration {
    match loaded.config.tools.exec_approval.timeout_ms {
        0 => goclaw_tools::exec::approval::DEFAULT_APPROVAL_TIMEOUT,
        ms => Duration::from_millis(ms),
    }
}

pub(crate) fn auth_settings(loaded: &LoadedConfig) -> AuthSettings {
    let gateway = &loaded.config.gateway;
    let token = gateway
        .token
        .as_ref()
        .map(|t| t.expose().to_owned())
        .filter(|t| !t.is_empty());
    AuthSettings {
        allow_no_auth: token.is_none(),
        token,
        owner_ids: gateway.owner_ids.clone().into(),
    }
}

/// `gateway.allowed_origins`, warning at start-up when it leaves every origin open.
pub(crate) fn origin_policy(loaded: &LoadedConfig) -> OriginPolicy {
    let policy = OriginPolicy::new(&loaded.config.gateway.allowed_origins);
    policy.warn_if_open();
    policy
}

pub(crate) fn gateway_settings(loaded: &LoadedConfig) -> GatewaySettings {
    let gateway = &loaded.config.gateway;
    GatewaySettings {
        host: gateway.host.clone(),
        port: gateway.port,
        token_configured: gateway.token.as_ref().is_some_and(|t| !t.is_empty()),
        allow_insecure_no_auth: loaded.runtime.allow_insecure_no_auth,
        drain_timeout: DRAIN_TIMEOUT,
        limits: ConnectionLimits {
            max_total: gateway.max_connections as usize,
            max_per_ip: gateway.max_connections_per_ip as usize,
        },
    }
}

pub(crate) fn connection_deadlines(loaded: &LoadedConfig) -> ConnectionDeadlines {
    let gateway = &loaded.config.gateway;
    ConnectionDeadlines {
        header_read: gateway.header_read_timeout(),
        idle: gateway.idle_timeout(),
        ws_connect: gateway.ws_connect_timeout(),
    }
}

/// The `cron` section as the cron loop uses it.
pub(crate) fn cron_settings(loaded: &LoadedConfig) -> goclaw_gateway::cron::CronSettings {
    let cron = &loaded.config.cron;
    goclaw_gateway::cron::CronSettings {
        default_timezone: cron.timezone().to_owned(),
        max_retries: cron.max_retries,
        retry_base: cron.retry_base(),
        retry_max: cron.retry_max(),
        job_timeout: cron.timeout(),
    }
}
