//! When a cron job fires: GoClaw's three schedule kinds and the one pure function that says
//! when a schedule fires next.
//!
//! - `at`: once, at an epoch-millisecond instant; past it, never again.
//! - `every`: every `everyMs` milliseconds (at least one second), counted from the job's
//!   anchor (its creation, or the last change of its schedule) rather than from its last run,
//!   so a late run does not push every later one back.
//! - `cron`: a five-field expression (minute, hour, day of month, month, day of week; day of
//!   month and day of week are OR-ed as in Vixie cron) read in an IANA time zone — the job's
//!   own `tz`, else the gateway's default.
//!
//! Daylight saving time follows the `croner` crate (the Open Cron Pattern Specification,
//! as Vixie cron does it). A wall-clock time that does not exist on a spring-forward day
//! (`30 2 * * *` in New York on the day 02:00 jumps to 03:00) fires once, at the first
//! instant after the gap (03:00 local). A wall-clock time that exists twice on a fall-back day
//! (`30 1 * * *` when 02:00 falls back to 01:00) fires once, at its first occurrence (the
//! daylight-time one). Expressions with a wildcard or step in the hour or minute field fire
//! for every matching wall-clock time, in both passes of a repeated hour, and skip those in
//! a gap.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};
use serde::{Deserialize, Serialize};

/// The shortest period an `every` schedule may have.
pub const MIN_EVERY_MS: i64 = 1_000;

/// The longest cron expression stored (GoClaw's column holds 100 characters).
pub const MAX_EXPR_LEN: usize = 100;

/// A job's schedule, in GoClaw's JSON shape: `{"kind":"at","atMs":…}`,
/// `{"kind":"every","everyMs":…}`, `{"kind":"cron","expr":"…","tz":"…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum CronSchedule {
    /// Once, at this instant (milliseconds since the Unix epoch).
    At {
        #[serde(rename = "atMs")]
        at_ms: i64,
    },
    /// Every `every_ms` milliseconds from the job's anchor.
    Every {
        #[serde(rename = "everyMs")]
        every_ms: i64,
    },
    /// A five-field cron expression in a time zone (`None` or empty: the default zone).
    Cron {
        expr: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tz: Option<String>,
    },
}

/// Why a schedule cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("invalid cron expression {expr:?}: {reason}")]
    Expression { expr: String, reason: String },
    #[error("unknown time zone {0:?} (expected an IANA name such as \"Europe/Berlin\")")]
    TimeZone(String),
    #[error("interval of {0} ms is too short (at least {MIN_EVERY_MS} ms)")]
    TooShort(i64),
    #[error("time {0} ms is out of range")]
    OutOfRange(i64),
}

impl CronSchedule {
    /// The kind as GoClaw names it: `at`, `every` or `cron`.
    pub fn kind(&self) -> &'static str {
        match self {
            CronSchedule::At { .. } => "at",
            CronSchedule::Every { .. } => "every",
            CronSchedule::Cron { .. } => "cron",
        }
    }

    /// Checks the schedule and prepares it for computing fire times; `default_tz` is the zone
    /// of a `cron` schedule without its own (empty: UTC).
    pub fn compile(&self, default_tz: &str) -> Result<CompiledSchedule, ScheduleError> {
        Ok(CompiledSchedule(match self {
            CronSchedule::At { at_ms } => Compiled::At(
                DateTime::from_timestamp_millis(*at_ms).ok_or(ScheduleError::OutOfRange(*at_ms))?,
            ),
            CronSchedule::Every { every_ms } if *every_ms < MIN_EVERY_MS => {
                return Err(ScheduleError::TooShort(*every_ms));
            }
            CronSchedule::Every { every_ms } => Compiled::Every(TimeDelta::milliseconds(*every_ms)),
            CronSchedule::Cron { expr, tz } => {
                let zone = tz.as_deref().filter(|z| !z.trim().is_empty());
                Compiled::Cron(
                    Box::new(parse_expression(expr)?),
                    parse_zone(zone.unwrap_or(default_tz))?,
                )
            }
        }))
    }

    /// When the schedule fires first for a job anchored at `anchor`, strictly after `after`.
    pub fn next_after(
        &self,
        anchor: DateTime<Utc>,
        after: DateTime<Utc>,
        default_tz: &str,
    ) -> Result<Option<DateTime<Utc>>, ScheduleError> {
        Ok(self.compile(default_tz)?.next_after(anchor, after))
    }
}

/// A checked schedule, ready to compute fire times.
#[derive(Debug, Clone)]
pub struct CompiledSchedule(Compiled);

#[derive(Debug, Clone)]
enum Compiled {
    At(DateTime<Utc>),
    Every(TimeDelta),
    Cron(Box<Cron>, Tz),
}

impl CompiledSchedule {
    /// The first fire time strictly after `after`, for a job anchored at `anchor`; `None`
    /// when there is none (an `at` that is past, a cron expression no date matches).
    ///
    /// `every` fires at `anchor + k·period` for the least `k ≥ 1` past `after`.
    pub fn next_after(&self, anchor: DateTime<Utc>, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match &self.0 {
            Compiled::At(at) => (*at > after).then_some(*at),
            Compiled::Every(period) => {
                let period_ms = period.num_milliseconds();
                let elapsed_ms = (after - anchor).num_milliseconds();
                let periods = if elapsed_ms < 0 {
                    1
                } else {
                    elapsed_ms / period_ms + 1
                };
                anchor.checked_add_signed(TimeDelta::milliseconds(periods.checked_mul(period_ms)?))
            }
            Compiled::Cron(cron, zone) => {
                let mut from = after.with_timezone(zone);
                // An `after` inside a second may be rounded down by the search; step past it.
                for _ in 0..2 {
                    let next = cron.find_next_occurrence(&from, false).ok()?;
                    let next = next.with_timezone(&Utc);
                    if next > after {
                        return Some(next);
                    }
                    from = next.with_timezone(zone);
                }
                None
            }
        }
    }
}

/// Parses a five-field cron expression (no seconds, no year).
fn parse_expression(expr: &str) -> Result<Cron, ScheduleError> {
    let error = |reason: String| ScheduleError::Expression {
        expr: expr.to_owned(),
        reason,
    };
    if expr.len() > MAX_EXPR_LEN {
        return Err(error(format!("longer than {MAX_EXPR_LEN} characters")));
    }
    let fields = expr.split_whitespace().count();
    if fields != 5 && !(fields == 1 && expr.trim_start().starts_with('@')) {
        return Err(error(format!("expected 5 fields, found {fields}")));
    }
    CronParser::builder()
        .seconds(Seconds::Disallowed)
        .year(Year::Disallowed)
        .build()
        .parse(expr)
        .map_err(|e| error(e.to_string()))
}

fn parse_zone(name: &str) -> Result<Tz, ScheduleError> {
    let name = name.trim();
    if name.is_empty() {
        return Ok(Tz::UTC);
    }
    Tz::from_str(name).map_err(|_| ScheduleError::TimeZone(name.to_owned()))
}

impl fmt::Display for CronSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CronSchedule::At { at_ms } => match DateTime::from_timestamp_millis(*at_ms) {
                Some(at) => write!(f, "at {}", at.to_rfc3339()),
                None => write!(f, "at {at_ms} ms"),
            },
            CronSchedule::Every { every_ms } => write!(f, "every {every_ms} ms"),
            CronSchedule::Cron { expr, tz: Some(tz) } if !tz.is_empty() => {
                write!(f, "cron {expr} ({tz})")
            }
            CronSchedule::Cron { expr, .. } => write!(f, "cron {expr}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeZone, Utc};
    use serde_json::json;

    use super::{CronSchedule, ScheduleError};

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("test time")
            .with_timezone(&Utc)
    }

    fn cron(expr: &str, tz: &str) -> CronSchedule {
        CronSchedule::Cron {
            expr: expr.to_owned(),
            tz: Some(tz.to_owned()),
        }
    }

    /// The fire times of `schedule` after `after`, `count` of them, in RFC 3339 UTC.
    fn check(schedule: &CronSchedule, anchor: &str, after: &str, expected: &[&str]) {
        let compiled = schedule.compile("UTC").expect("valid schedule");
        let mut at = utc(after);
        let mut fired = Vec::new();
        for _ in 0..expected.len() {
            let Some(next) = compiled.next_after(utc(anchor), at) else {
                break;
            };
            fired.push(next.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
            at = next;
        }
        assert_eq!(fired, expected, "{schedule}");
    }

    fn check_error(schedule: CronSchedule, default_tz: &str, expected: &str) {
        let error = schedule.compile(default_tz).expect_err("invalid schedule");
        assert!(error.to_string().contains(expected), "{error}");
    }

    #[test]
    fn every_fires_on_exact_periods_from_its_anchor() {
        let anchor = utc("2026-03-01T10:00:00.250Z");
        let compiled = CronSchedule::Every { every_ms: 90_000 }
            .compile("")
            .expect("valid");
        // Each run is late by a varying amount; the periods do not drift.
        let mut after = anchor;
        for k in 1..=10i64 {
            let next = compiled.next_after(anchor, after).expect("next");
            assert_eq!(next, anchor + chrono::TimeDelta::milliseconds(90_000 * k));
            after = next + chrono::TimeDelta::milliseconds(k * 1_000);
        }
        // Long missed: the next one after now, not one per missed period.
        let now = anchor + chrono::TimeDelta::hours(5) + chrono::TimeDelta::milliseconds(1);
        assert_eq!(
            compiled.next_after(anchor, now),
            Some(anchor + chrono::TimeDelta::milliseconds(90_000 * 201))
        );
        // Before its anchor: one period after it.
        assert_eq!(
            compiled.next_after(anchor, anchor - chrono::TimeDelta::days(1)),
            Some(anchor + chrono::TimeDelta::milliseconds(90_000))
        );
    }

    #[test]
    fn at_fires_once_and_never_when_past() {
        let at = utc("2026-05-01T12:00:00.123Z");
        let schedule = CronSchedule::At {
            at_ms: at.timestamp_millis(),
        };
        check(
            &schedule,
            "2026-01-01T00:00:00Z",
            "2026-04-30T00:00:00Z",
            &["2026-05-01T12:00:00.123Z"],
        );
        check(
            &schedule,
            "2026-01-01T00:00:00Z",
            "2026-05-01T12:00:00.123Z",
            &[],
        );
        check(
            &schedule,
            "2026-01-01T00:00:00Z",
            "2027-01-01T00:00:00Z",
            &[],
        );
    }

    #[test]
    fn cron_follows_new_york_across_spring_forward() {
        // 2026-03-08: 02:00 EST jumps to 03:00 EDT. 02:30 does not exist that day: it fires
        // once at 03:00 EDT (07:00Z), then at 02:30 EDT on the following days.
        check(
            &cron("30 2 * * *", "America/New_York"),
            "2026-01-01T00:00:00Z",
            "2026-03-06T12:00:00Z",
            &[
                "2026-03-07T07:30:00.000Z",
                "2026-03-08T07:00:00.000Z",
                "2026-03-09T06:30:00.000Z",
            ],
        );
        // An hourly step skips the missing hour.
        check(
            &cron("0 * * * *", "America/New_York"),
            "2026-01-01T00:00:00Z",
            "2026-03-08T05:30:00Z",
            &[
                "2026-03-08T06:00:00.000Z",
                "2026-03-08T07:00:00.000Z",
                "2026-03-08T08:00:00.000Z",
            ],
        );
    }

    #[test]
    fn cron_follows_new_york_across_fall_back() {
        // 2026-11-01: 02:00 EDT falls back to 01:00 EST. 01:00 happens twice; a fixed time
        // fires once, at the first (EDT, 05:00Z), then at 01:00 EST on the following days.
        check(
            &cron("0 1 * * *", "America/New_York"),
            "2026-01-01T00:00:00Z",
            "2026-10-31T12:00:00Z",
            &["2026-11-01T05:00:00.000Z", "2026-11-02T06:00:00.000Z"],
        );
        // A wildcard hour fires in both passes of the repeated hour.
        check(
            &cron("30 * * * *", "America/New_York"),
            "2026-01-01T00:00:00Z",
            "2026-11-01T04:45:00Z",
            &[
                "2026-11-01T05:30:00.000Z",
                "2026-11-01T06:30:00.000Z",
                "2026-11-01T07:30:00.000Z",
            ],
        );
    }

    #[test]
    fn cron_follows_berlin_and_the_default_zone() {
        // 2026-03-29: 02:00 CET jumps to 03:00 CEST.
        check(
            &cron("30 2 * * *", "Europe/Berlin"),
            "2026-01-01T00:00:00Z",
            "2026-03-28T12:00:00Z",
            &["2026-03-29T01:00:00.000Z", "2026-03-30T00:30:00.000Z"],
        );
        let schedule = CronSchedule::Cron {
            expr: "0 9 * * 1-5".to_owned(),
            tz: None,
        };
        let after = utc("2026-07-03T08:00:00Z"); // a Friday
        let next = |tz: &str| schedule.next_after(after, after, tz).expect("valid");
        assert_eq!(next(""), Some(utc("2026-07-03T09:00:00Z")));
        assert_eq!(next("Asia/Tokyo"), Some(utc("2026-07-06T00:00:00Z")));
        let own = cron("0 9 * * 1-5", "Europe/Berlin");
        assert_eq!(
            own.next_after(after, after, "Asia/Tokyo").expect("valid"),
            Some(utc("2026-07-06T07:00:00Z"))
        );
    }

    #[test]
    fn cron_fires_strictly_after_inside_a_second() {
        check(
            &cron("*/15 * * * *", "UTC"),
            "2026-01-01T00:00:00Z",
            "2026-01-01T00:15:00.400Z",
            &["2026-01-01T00:30:00.000Z", "2026-01-01T00:45:00.000Z"],
        );
        check(
            &cron("0 0 1 1 *", "UTC"),
            "2026-01-01T00:00:00Z",
            "2025-12-31T23:59:59.999Z",
            &["2026-01-01T00:00:00.000Z", "2027-01-01T00:00:00.000Z"],
        );
    }

    #[test]
    fn an_expression_no_date_matches_never_fires() {
        let started = std::time::Instant::now();
        check(
            &cron("0 0 31 2 *", "UTC"),
            "2026-01-01T00:00:00Z",
            "2026-01-01T00:00:00Z",
            &[],
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn invalid_schedules_say_why() {
        check_error(cron("61 * * * *", "UTC"), "", "invalid cron expression");
        check_error(cron("* * * *", "UTC"), "", "expected 5 fields, found 4");
        check_error(cron("0 * * * * *", "UTC"), "", "expected 5 fields, found 6");
        check_error(cron("", "UTC"), "", "expected 5 fields, found 0");
        check_error(
            cron("hello world a b c", "UTC"),
            "",
            "invalid cron expression",
        );
        check_error(
            cron("0 9 * * *", "Mars/Olympus"),
            "",
            "unknown time zone \"Mars/Olympus\"",
        );
        check_error(
            CronSchedule::Cron {
                expr: "0 9 * * *".to_owned(),
                tz: None,
            },
            "Nowhere",
            "unknown time zone \"Nowhere\"",
        );
        check_error(CronSchedule::Every { every_ms: 999 }, "", "too short");
        check_error(CronSchedule::Every { every_ms: -5 }, "", "too short");
        check_error(CronSchedule::At { at_ms: i64::MAX }, "", "out of range");
        assert_eq!(
            CronSchedule::Every { every_ms: 0 }.compile("").map(|_| ()),
            Err(ScheduleError::TooShort(0))
        );
    }

    #[test]
    fn schedules_have_goclaw_json_shape() {
        let cases = [
            (
                CronSchedule::At {
                    at_ms: 1_700_000_000_000,
                },
                json!({"kind": "at", "atMs": 1_700_000_000_000_i64}),
            ),
            (
                CronSchedule::Every { every_ms: 60_000 },
                json!({"kind": "every", "everyMs": 60_000}),
            ),
            (
                cron("0 9 * * *", "Europe/Berlin"),
                json!({"kind": "cron", "expr": "0 9 * * *", "tz": "Europe/Berlin"}),
            ),
            (
                CronSchedule::Cron {
                    expr: "@daily".to_owned(),
                    tz: None,
                },
                json!({"kind": "cron", "expr": "@daily"}),
            ),
        ];
        for (schedule, shape) in cases {
            assert_eq!(serde_json::to_value(&schedule).expect("serialize"), shape);
            let back: CronSchedule = serde_json::from_value(shape).expect("deserialize");
            assert_eq!(back, schedule);
        }
        assert!(serde_json::from_value::<CronSchedule>(json!({"kind": "hourly"})).is_err());
        assert!(serde_json::from_value::<CronSchedule>(json!({"kind": "every"})).is_err());
        // `@daily` is midnight.
        let daily = CronSchedule::Cron {
            expr: "@daily".to_owned(),
            tz: None,
        };
        let after = Utc
            .with_ymd_and_hms(2026, 2, 3, 4, 5, 6)
            .single()
            .expect("time");
        assert_eq!(
            daily.next_after(after, after, "").expect("valid"),
            Some(utc("2026-02-04T00:00:00Z"))
        );
    }
}
