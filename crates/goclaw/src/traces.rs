//! Run tracing in the application: the `TraceRecorder` runs write to, the price list of model
//! calls from `telemetry.model_pricing`, the OTLP exporter built from `telemetry.*`, the close of traces a previous process left `running`, and the hourly
//! retention pruning.
//!
//! OTLP goes over HTTP/protobuf only. `telemetry.protocol` defaults to `grpc` (GoClaw's
//! default), but gRPC would need tonic and its stack; with `grpc` a warning is logged at
//! start-up and the spans are sent over HTTP/protobuf to the same endpoint, so point
//! `telemetry.endpoint` at the collector's HTTP port (4318) or set `protocol: "http"`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use goclaw_config::{LoadedConfig, OtlpProtocol, TelemetryConfig};
use goclaw_core::{ModelPrice, PriceList, Store};
use goclaw_telemetry::{
    OtlpExporter, OtlpSettings, RecorderSettings, SpanDropCounter, StoreSink, TraceRecorder,
};
use tokio::task::JoinHandle;

/// How long traces are kept: older ones are deleted by the hourly pruning.
pub const TRACE_RETENTION: Duration = Duration::from_secs(30 * 24 * 60 * 60);
/// How often the retention pruning runs.
pub const PRUNE_INTERVAL: Duration = Duration::from_secs(60 * 60);
/// Status and error given to traces found `running` at start-up.
pub const INTERRUPTED_STATUS: &str = "error";
pub const INTERRUPTED_ERROR: &str = "interrupted: the gateway stopped before the run ended";
/// How long one OTLP request may take.
const OTLP_TIMEOUT: Duration = Duration::from_secs(10);

/// The recorder and the pruning task of a running application.
pub struct TraceSetup {
    pub recorder: TraceRecorder,
    pruner: JoinHandle<()>,
}

impl TraceSetup {
    /// Closes stale `running` traces, then starts the recorder (with the OTLP exporter when
    /// `telemetry.enabled`) and the retention pruning.
    pub async fn start(
        loaded: &LoadedConfig,
        store: Arc<dyn Store>,
        drop_counter: Option<SpanDropCounter>,
    ) -> Self {
        match store
            .traces()
            .close_running(INTERRUPTED_STATUS, INTERRUPTED_ERROR)
            .await
        {
            Ok(0) => {}
            Ok(closed) => tracing::info!(
                closed,
                "closed traces of runs a previous process left running"
            ),
            Err(error) => tracing::warn!(error = %error, "closing stale running traces failed"),
        }
        let exporter = otlp_exporter(&loaded.config.telemetry).map(Arc::new);
        let recorder = TraceRecorder::start(
            Arc::new(StoreSink(store.clone())),
            exporter,
            RecorderSettings::default(),
            drop_counter,
        );
        let pruner = tokio::spawn(prune_forever(store));
        Self { recorder, pruner }
    }

    /// Stops the pruning and flushes what the recorder still holds.
    pub async fn shutdown(&self) {
        self.pruner.abort();
        self.recorder.shutdown().await;
    }
}

/// The prices of `telemetry.model_pricing`, read at start-up.
pub fn price_list(config: &TelemetryConfig) -> Arc<PriceList> {
    let prices = config.model_pricing.iter().map(|(key, price)| {
        let price = ModelPrice {
            input_per_million: price.input_per_million,
            output_per_million: price.output_per_million,
            cache_read_per_million: price.cache_read_per_million,
            cache_create_per_million: price.cache_create_per_million,
            reasoning_per_million: price.reasoning_per_million,
        };
        (key.clone(), price)
    });
    Arc::new(PriceList::new(prices))
}

async fn prune_forever(store: Arc<dyn Store>) {
    let mut ticks = tokio::time::interval(PRUNE_INTERVAL);
    loop {
        ticks.tick().await;
        let Ok(retention) = chrono::Duration::from_std(TRACE_RETENTION) else {
            return;
        };
        match store
            .traces()
            .delete_before(chrono::Utc::now() - retention)
            .await
        {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "deleted traces past their retention"),
            Err(error) => tracing::warn!(error = %error, "pruning old traces failed"),
        }
    }
}

/// The exporter `telemetry.*` asks for, if any; a configuration it cannot use is logged and
/// leaves export off, never stops the gateway.
fn otlp_exporter(config: &TelemetryConfig) -> Option<OtlpExporter> {
    if !config.enabled {
        return None;
    }
    let Some(endpoint) = config
        .endpoint
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    else {
        tracing::warn!("telemetry.enabled is set without telemetry.endpoint; OTLP export is off");
        return None;
    };
    let endpoint = traces_url(endpoint, config.insecure);
    if config.protocol == OtlpProtocol::Grpc {
        tracing::warn!(
            endpoint = %endpoint,
            "OTLP over gRPC is not available in this build; exporting over HTTP/protobuf instead (set telemetry.protocol to \"http\")"
        );
    }
    let settings = OtlpSettings {
        endpoint: endpoint.clone(),
        headers: config
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<HashMap<_, _>>(),
        service_name: config.service_name.clone(),
        timeout: OTLP_TIMEOUT,
    };
    match OtlpExporter::new(&settings) {
        Ok(exporter) => {
            tracing::info!(endpoint = %endpoint, service_name = %config.service_name, "exporting traces over OTLP/HTTP");
            Some(exporter)
        }
        Err(error) => {
            tracing::warn!(error = %error, "OTLP export is off");
            None
        }
    }
}

/// The collector URL of the traces signal: a scheme is added when missing (`http://` with
/// `insecure`, else `https://`), and `/v1/traces` when the URL has no path.
pub fn traces_url(endpoint: &str, insecure: bool) -> String {
    let with_scheme = if endpoint.contains("://") {
        endpoint.to_owned()
    } else if insecure {
        format!("http://{endpoint}")
    } else {
        format!("https://{endpoint}")
    };
    let after_scheme = with_scheme.split_once("://").map_or("", |(_, rest)| rest);
    match after_scheme.find('/') {
        Some(slash) if after_scheme.len() > slash + 1 => with_scheme,
        _ => format!("{}/v1/traces", with_scheme.trim_end_matches('/')),
    }
}

#[cfg(test)]
mod tests {
    use super::traces_url;

    fn check(endpoint: &str, insecure: bool, expected: &str) {
        assert_eq!(traces_url(endpoint, insecure), expected, "{endpoint}");
    }

    #[test]
    fn collector_urls() {
        check("localhost:4318", true, "http://localhost:4318/v1/traces");
        check(
            "otel.example.com:4318",
            false,
            "https://otel.example.com:4318/v1/traces",
        );
        check("http://127.0.0.1:9/", false, "http://127.0.0.1:9/v1/traces");
        check(
            "https://x.example/otlp/v1/traces",
            false,
            "https://x.example/otlp/v1/traces",
        );
    }
}
