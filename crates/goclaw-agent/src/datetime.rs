//! The built-in `datetime` tool: the current date and time in UTC, and optionally in an IANA
//! time zone the model names.

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use goclaw_core::{Tool, ToolContext, ToolDefinition, ToolOutput};
use serde_json::{Value, json};

/// Tells the current date and time.
#[derive(Debug, Clone, Copy, Default)]
pub struct DateTimeTool;

#[async_trait]
impl Tool for DateTimeTool {
    fn definition(&self) -> ToolDefinition {
        ToolDefinition {
            name: "datetime".to_owned(),
            description: "Get the current date and time. Returns UTC (RFC 3339), and the local \
                          time when an IANA time zone such as Europe/Berlin is given."
                .to_owned(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "timezone": {
                        "type": "string",
                        "description": "IANA time zone name, e.g. America/New_York; default UTC"
                    }
                },
                "additionalProperties": false
            }),
        }
    }

    async fn call(&self, _ctx: &ToolContext, arguments: Value) -> ToolOutput {
        describe(Utc::now(), &arguments)
    }
}

/// The tool's answer for the instant `now`.
fn describe(now: DateTime<Utc>, arguments: &Value) -> ToolOutput {
    let zone = match arguments.get("timezone") {
        None | Some(Value::Null) => None,
        Some(Value::String(name)) if name.trim().is_empty() => None,
        Some(Value::String(name)) => Some(name.trim()),
        Some(other) => {
            return ToolOutput::error(format!(
                "timezone must be a string such as \"Europe/Berlin\", got {other}"
            ));
        }
    };
    let utc = now.to_rfc3339_opts(SecondsFormat::Secs, true);
    let Some(zone) = zone else {
        return ToolOutput::ok(
            json!({
                "utc": utc,
                "timezone": "UTC",
                "local": utc,
                "weekday": now.format("%A").to_string(),
                "unix": now.timestamp(),
            })
            .to_string(),
        );
    };
    let Ok(tz) = zone.parse::<chrono_tz::Tz>() else {
        return ToolOutput::error(format!(
            "unknown timezone {zone:?}: use an IANA name such as Europe/Berlin, America/New_York \
             or UTC"
        ));
    };
    let local = now.with_timezone(&tz);
    ToolOutput::ok(
        json!({
            "utc": utc,
            "timezone": tz.name(),
            "local": local.to_rfc3339_opts(SecondsFormat::Secs, false),
            "weekday": local.format("%A").to_string(),
            "unix": now.timestamp(),
        })
        .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn check(arguments: Value, expected: Result<Value, &str>) {
        let now = Utc
            .with_ymd_and_hms(2025, 1, 6, 12, 30, 0)
            .single()
            .expect("valid instant");
        let out = describe(now, &arguments);
        match expected {
            Ok(value) => {
                assert!(!out.is_error, "{arguments}: {}", out.content);
                let got: Value = serde_json::from_str(&out.content).expect("json output");
                assert_eq!(got, value, "{arguments}");
            }
            Err(fragment) => {
                assert!(out.is_error, "{arguments}");
                assert!(out.content.contains(fragment), "{}", out.content);
            }
        }
    }

    #[test]
    fn answers() {
        let utc = json!({"utc": "2025-01-06T12:30:00Z", "timezone": "UTC",
            "local": "2025-01-06T12:30:00Z", "weekday": "Monday", "unix": 1736166600});
        check(json!({}), Ok(utc.clone()));
        check(json!({"timezone": null}), Ok(utc.clone()));
        check(json!({"timezone": " "}), Ok(utc));
        check(
            json!({"timezone": "Europe/Berlin"}),
            Ok(
                json!({"utc": "2025-01-06T12:30:00Z", "timezone": "Europe/Berlin",
                "local": "2025-01-06T13:30:00+01:00", "weekday": "Monday", "unix": 1736166600}),
            ),
        );
        check(
            json!({"timezone": "Pacific/Kiritimati"}),
            Ok(
                json!({"utc": "2025-01-06T12:30:00Z", "timezone": "Pacific/Kiritimati",
                "local": "2025-01-07T02:30:00+14:00", "weekday": "Tuesday", "unix": 1736166600}),
            ),
        );
        check(
            json!({"timezone": "Mars/Base"}),
            Err("unknown timezone \"Mars/Base\""),
        );
        check(json!({"timezone": 5}), Err("must be a string"));
    }
}
