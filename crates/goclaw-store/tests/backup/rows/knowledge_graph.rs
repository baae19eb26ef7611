//! Rows of the knowledge graph for the round trip: entities (one superseded), a relation
//! between them and a de-duplication candidate, inserted with raw SQL.

use goclaw_core::MASTER_TENANT_ID;
use goclaw_store::testing::TestDatabase;

use super::{V, insert};

/// Knowledge-graph rows with raw SQL: two entities (one superseded), a relation between them
/// and a de-duplication candidate.
pub async fn fill(db: &TestDatabase, agent: &str) {
    use V::*;
    let master = MASTER_TENANT_ID.to_string();
    let (ada, lab) = (
        "0193a5b0-7000-7000-8000-0000000000e1",
        "0193a5b0-7000-7000-8000-0000000000e2",
    );
    let t = "2026-01-02T03:04:05.678Z";
    for (id, external, name, until) in [
        (ada, "ada", "Ada Lovelace", Null),
        (
            lab,
            "lab",
            "Analytical Engine Lab ✨",
            Time("2026-02-03T04:05:06.789Z"),
        ),
    ] {
        insert(
            db,
            "kg_entities",
            &[
                ("id", Uuid(id)),
                ("tenant_id", Uuid(&master)),
                ("agent_id", Uuid(agent)),
                ("user_id", Text("u1")),
                ("external_id", Text(external)),
                ("name", Text(name)),
                ("entity_type", Text("person")),
                ("description", Text("")),
                ("properties", Json(r#"{"born":"1815"}"#)),
                ("source_id", Text("web:one#4")),
                ("confidence", Real(0.875)),
                ("created_at", Time(t)),
                ("updated_at", Time(t)),
                ("valid_from", Time(t)),
                ("valid_until", until),
            ],
        )
        .await;
    }
    insert(
        db,
        "kg_relations",
        &[
            ("id", Uuid("0193a5b0-7000-7000-8000-0000000000e3")),
            ("tenant_id", Uuid(&master)),
            ("agent_id", Uuid(agent)),
            ("user_id", Text("u1")),
            ("source_entity_id", Uuid(ada)),
            ("relation_type", Text("works_at")),
            ("target_entity_id", Uuid(lab)),
            ("confidence", Real(0.5)),
            ("properties", Json("{}")),
            ("created_at", Time(t)),
            ("valid_from", Time(t)),
            ("valid_until", Null),
        ],
    )
    .await;
    insert(
        db,
        "kg_dedup_candidates",
        &[
            ("id", Uuid("0193a5b0-7000-7000-8000-0000000000e4")),
            ("tenant_id", Uuid(&master)),
            ("agent_id", Uuid(agent)),
            ("user_id", Text("u1")),
            ("entity_a_id", Uuid(ada)),
            ("entity_b_id", Uuid(lab)),
            ("similarity", Real(0.93)),
            ("status", Text("pending")),
            ("created_at", Time(t)),
        ],
    )
    .await;
}
