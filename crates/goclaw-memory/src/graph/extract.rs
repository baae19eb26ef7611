//! What the model is asked for a knowledge graph and how its answer is read: the episode's
//! summary in, a JSON object of `entities` (`id`, `name`, `type`, `description`,
//! `properties`) and `relations` (`source`, `type`, `target`, `confidence`, and `valid_until`
//! or `ended` for facts that no longer hold) out. Anything unusable is left out, never
//! guessed: a relation naming an entity the answer does not define is dropped.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::{Map, Value};

/// The system prompt of the extraction call.
pub const GRAPH_SYSTEM_PROMPT: &str = "You extract a knowledge graph from notes about a \
conversation. Answer with one JSON object and nothing else: {\"entities\": [{\"id\": \
\"short_snake_case_id\", \"name\": \"...\", \"type\": \"person|organization|place|project|\
concept|event|thing\", \"description\": \"...\", \"properties\": {}}], \"relations\": \
[{\"source\": \"entity id\", \"type\": \"snake_case_verb\", \"target\": \"entity id\", \
\"confidence\": 0.0-1.0, \"ended\": false}]}. Use the same id for the same thing. Mark a \
relation \"ended\": true (or give \"valid_until\" as a date) when the notes say it no longer \
holds. Only facts the notes state.";

/// Most entities and relations taken from one answer.
const MAX_ITEMS: usize = 50;

/// An entity as extracted.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtractedEntity {
    pub id: String,
    pub name: String,
    pub entity_type: String,
    pub description: String,
    pub properties: Value,
}

/// A relation as extracted, between two extracted entities' ids.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtractedRelation {
    pub source: String,
    pub relation_type: String,
    pub target: String,
    pub confidence: f64,
    /// The fact ended: then, or (`ended` without a date) by now.
    pub ended: Option<Option<DateTime<Utc>>>,
}

/// Everything one answer holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extraction {
    pub entities: Vec<ExtractedEntity>,
    pub relations: Vec<ExtractedRelation>,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    entities: Vec<Value>,
    #[serde(default)]
    relations: Vec<Value>,
}

fn text(value: &Value, keys: &[&str]) -> String {
    keys.iter()
        .find_map(|k| value.get(*k).and_then(Value::as_str))
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

/// An id as the graph keeps it: lower case, runs of other characters as one `_`.
fn normalize_id(raw: &str) -> String {
    let mut id = String::new();
    for c in raw.trim().to_lowercase().chars() {
        if c.is_alphanumeric() {
            id.push(c);
        } else if !id.ends_with('_') {
            id.push('_');
        }
    }
    id.trim_matches('_').chars().take(100).collect()
}

fn date(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        return Some(at.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// The graph in a model's answer; empty when it holds none.
pub fn parse_extraction(answer: &str) -> Extraction {
    let parsed = match (answer.find('{'), answer.rfind('}')) {
        (Some(start), Some(end)) if start < end => {
            serde_json::from_str::<Answer>(&answer[start..=end]).ok()
        }
        _ => None,
    };
    let Some(parsed) = parsed else {
        return Extraction::default();
    };
    let mut entities: Vec<ExtractedEntity> = Vec::new();
    for raw in parsed.entities.iter().take(MAX_ITEMS) {
        let name = text(raw, &["name"]);
        let id = match normalize_id(&text(raw, &["id", "external_id"])) {
            id if id.is_empty() => normalize_id(&name),
            id => id,
        };
        if name.is_empty() || id.is_empty() || entities.iter().any(|e| e.id == id) {
            continue;
        }
        let properties = match raw.get("properties") {
            Some(Value::Object(map)) => Value::Object(map.clone()),
            _ => Value::Object(Map::new()),
        };
        entities.push(ExtractedEntity {
            id,
            name,
            entity_type: text(raw, &["type", "entity_type"]).to_lowercase(),
            description: text(raw, &["description"]),
            properties,
        });
    }
    let known = |id: &str| entities.iter().any(|e| e.id == id);
    let mut relations = Vec::new();
    for raw in parsed.relations.iter().take(MAX_ITEMS) {
        let source = normalize_id(&text(raw, &["source", "source_id", "from"]));
        let target = normalize_id(&text(raw, &["target", "target_id", "to"]));
        let relation_type = normalize_id(&text(raw, &["type", "relation_type", "relation"]));
        if !known(&source) || !known(&target) || relation_type.is_empty() || source == target {
            continue;
        }
        let confidence = raw
            .get("confidence")
            .and_then(Value::as_f64)
            .filter(|c| c.is_finite())
            .map_or(0.8, |c| c.clamp(0.0, 1.0));
        let until = date(&text(raw, &["valid_until"]));
        let ended_flag = raw.get("ended").and_then(Value::as_bool) == Some(true);
        let ended = match (until, ended_flag) {
            (Some(at), _) => Some(Some(at)),
            (None, true) => Some(None),
            (None, false) => None,
        };
        relations.push(ExtractedRelation {
            source,
            relation_type,
            target,
            confidence,
            ended,
        });
    }
    Extraction {
        entities,
        relations,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn answers_are_read_leniently_and_dangling_relations_dropped() {
        let answer = json!({
            "entities": [
                {"id": "Ada Lovelace", "name": "Ada Lovelace", "type": "Person",
                 "properties": {"born": 1815}},
                {"name": "Analytical Engine", "type": "thing", "description": "a machine"},
                {"id": "ada_lovelace", "name": "duplicate id"},
                {"id": "nameless"},
            ],
            "relations": [
                {"source": "ada_lovelace", "type": "worked on", "target": "analytical_engine",
                 "confidence": 1.7},
                {"source": "ada_lovelace", "type": "lived_in", "target": "london"},
                {"source": "ada_lovelace", "type": "married_to", "target": "analytical_engine",
                 "ended": true},
                {"source": "analytical_engine", "type": "built_in", "target": "ada_lovelace",
                 "valid_until": "1843-07-01"},
            ]
        });
        let got = parse_extraction(&format!("```json\n{answer}\n```"));
        let ids: Vec<&str> = got.entities.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["ada_lovelace", "analytical_engine"]);
        assert_eq!(got.entities[0].entity_type, "person");
        assert_eq!(got.entities[0].properties, json!({"born": 1815}));
        let relations: Vec<(&str, f64, bool)> = got
            .relations
            .iter()
            .map(|r| (r.relation_type.as_str(), r.confidence, r.ended.is_some()))
            .collect();
        assert_eq!(
            relations,
            [
                ("worked_on", 1.0, false),
                ("married_to", 0.8, true),
                ("built_in", 0.8, true)
            ]
        );
        assert_eq!(
            got.relations[2].ended,
            Some(date("1843-07-01T00:00:00Z")),
            "a date ends the fact then"
        );
        assert_eq!(parse_extraction("no graph here"), Extraction::default());
        assert_eq!(parse_extraction("{\"entities\": 3}"), Extraction::default());
    }
}
