//! Pairing codes and paired senders on both engines: a code is drawn from GoClaw's alphabet and
//! lives 60 minutes; asking again while it waits gives the same code; an account has at most 3
//! waiting; approving pairs the sender for 30 days and uses the code up; denying and revoking
//! remove; expired rows are never returned; and nothing crosses tenants.

use chrono::{Duration, Utc};
use goclaw_core::pairing::is_pairing_code;
use goclaw_core::{
    MASTER_TENANT_ID, NewPairingRequest, PairingAsked, PairingRequest, PairingStore, StoreError,
    TenantId,
};
use goclaw_store::database_test;
use goclaw_store::testing::TestDatabase;

const ACME: &str = "0193a5b0-7000-7000-8000-0000000000a1";
const MISSING: &str = "0193a5b0-7000-7000-8000-0000000000ff";

fn tenant(id: &str) -> TenantId {
    id.parse().expect("tenant id")
}

fn asking(tenant: TenantId, sender: &str, account: &str) -> NewPairingRequest {
    NewPairingRequest {
        tenant_id: tenant,
        sender_id: sender.to_owned(),
        channel: "telegram".to_owned(),
        chat_id: format!("chat-{sender}"),
        account_id: account.to_owned(),
    }
}

async fn created(store: &dyn PairingStore, request: NewPairingRequest) -> PairingRequest {
    match store.request(request).await.expect("request") {
        PairingAsked::Created(created) => created,
        other => panic!("expected a new code, got {other:?}"),
    }
}

database_test!(
    a_code_is_made_once_and_asked_again_gives_it_back,
    |db: TestDatabase| async move {
        db.migrator().up(|_, _| {}).await.expect("up");
        let store = db.store();
        let pairing = store.pairing();
        let before = Utc::now();
        let code = created(pairing, asking(MASTER_TENANT_ID, "4711", "")).await;
        assert!(is_pairing_code(&code.code), "{}", code.code);
        assert_eq!(code.account_id, "default");
        assert_eq!(code.chat_id, "chat-4711");
        let ttl = code.expires_at - code.created_at;
        assert_eq!(ttl, Duration::minutes(60), "{code:?}");
        assert!(code.created_at >= before - Duration::seconds(1));

        let again = pairing
            .request(asking(MASTER_TENANT_ID, "4711", ""))
            .await
            .expect("again");
        assert_eq!(again, PairingAsked::Waiting(code.clone()));
        let listed = pairing.list_pending(MASTER_TENANT_ID).await.expect("list");
        assert_eq!(listed, std::slice::from_ref(&code));
        let found = pairing
            .pending_for(MASTER_TENANT_ID, "4711", "telegram")
            .await
            .expect("pending");
        assert_eq!(found, Some(code));
        assert_eq!(
            pairing
                .pending_for(MASTER_TENANT_ID, "4711", "discord")
                .await
                .expect("other channel"),
            None
        );
    }
);

database_test!(
    an_account_has_at_most_three_codes_waiting,
    |db: TestDatabase| async move {
        db.migrator().up(|_, _| {}).await.expect("up");
        let store = db.store();
        let pairing = store.pairing();
        let mut codes = Vec::new();
        for sender in ["s1", "s2", "s3"] {
            codes.push(created(pairing, asking(MASTER_TENANT_ID, sender, "bot")).await);
        }
        let fourth = pairing
            .request(asking(MASTER_TENANT_ID, "s4", "bot"))
            .await
            .expect("fourth");
        assert_eq!(fourth, PairingAsked::TooManyPending);
        // A sender whose code already waits still gets it back at the limit.
        let again = pairing
            .request(asking(MASTER_TENANT_ID, "s2", "bot"))
            .await
            .expect("again");
        assert_eq!(again, PairingAsked::Waiting(codes[1].clone()));
        // Another account of the tenant has its own three.
        created(pairing, asking(MASTER_TENANT_ID, "s4", "other-bot")).await;
        // Once one is answered, there is room again.
        assert!(
            pairing
                .deny(MASTER_TENANT_ID, &codes[0].code)
                .await
                .expect("deny")
        );
        created(pairing, asking(MASTER_TENANT_ID, "s5", "bot")).await;
        let distinct: std::collections::BTreeSet<String> = pairing
            .list_pending(MASTER_TENANT_ID)
            .await
            .expect("list")
            .into_iter()
            .map(|r| r.code)
            .collect();
        assert_eq!(distinct.len(), 4, "{distinct:?}");
    }
);

database_test!(
    approving_pairs_the_sender_for_thirty_days_and_uses_the_code_up,
    |db: TestDatabase| async move {
        db.migrator().up(|_, _| {}).await.expect("up");
        let store = db.store();
        let pairing = store.pairing();
        let code = created(pairing, asking(MASTER_TENANT_ID, "4711", "")).await;
        assert_eq!(
            pairing
                .paired(MASTER_TENANT_ID, "4711", "telegram")
                .await
                .expect("paired"),
            None
        );
        let device = pairing
            .approve(MASTER_TENANT_ID, &code.code, "operator")
            .await
            .expect("approve")
            .expect("the code waited");
        assert_eq!(
            (
                device.sender_id.as_str(),
                device.channel.as_str(),
                device.chat_id.as_str(),
                device.paired_by.as_str()
            ),
            ("4711", "telegram", "chat-4711", "operator")
        );
        assert_eq!(device.expires_at - device.paired_at, Duration::days(30));
        assert_eq!(
            pairing
                .approve(MASTER_TENANT_ID, &code.code, "operator")
                .await
                .expect("again"),
            None,
            "a code is used once"
        );
        assert!(
            pairing
                .list_pending(MASTER_TENANT_ID)
                .await
                .expect("list")
                .is_empty()
        );
        let found = pairing
            .paired(MASTER_TENANT_ID, "4711", "telegram")
            .await
            .expect("paired");
        assert_eq!(found, Some(device.clone()));
        assert_eq!(
            pairing.list_paired(MASTER_TENANT_ID).await.expect("list"),
            [device]
        );
        assert_eq!(
            pairing
                .paired(MASTER_TENANT_ID, "4711", "discord")
                .await
                .expect("other channel"),
            None
        );

        // Paired again later: one row, renewed.
        let second = created(pairing, asking(MASTER_TENANT_ID, "4711", "")).await;
        pairing
            .approve(MASTER_TENANT_ID, &second.code, "ada")
            .await
            .expect("approve")
            .expect("waited");
        let listed = pairing.list_paired(MASTER_TENANT_ID).await.expect("list");
        assert_eq!(listed.len(), 1, "{listed:?}");
        assert_eq!(listed[0].paired_by, "ada");

        assert!(
            pairing
                .revoke(MASTER_TENANT_ID, "4711", "telegram")
                .await
                .expect("revoke")
        );
        assert!(
            !pairing
                .revoke(MASTER_TENANT_ID, "4711", "telegram")
                .await
                .expect("revoke again")
        );
        assert_eq!(
            pairing
                .paired(MASTER_TENANT_ID, "4711", "telegram")
                .await
                .expect("paired"),
            None
        );
    }
);

database_test!(
    denied_and_expired_codes_are_gone,
    |db: TestDatabase| async move {
        db.migrator().up(|_, _| {}).await.expect("up");
        let store = db.store();
        let pairing = store.pairing();
        let code = created(pairing, asking(MASTER_TENANT_ID, "a1", "")).await;
        assert!(
            pairing
                .deny(MASTER_TENANT_ID, &code.code)
                .await
                .expect("deny")
        );
        assert!(
            !pairing
                .deny(MASTER_TENANT_ID, &code.code)
                .await
                .expect("again")
        );
        assert_eq!(
            pairing
                .approve(MASTER_TENANT_ID, &code.code, "operator")
                .await
                .expect("approve"),
            None
        );

        let waiting = created(pairing, asking(MASTER_TENANT_ID, "a2", "")).await;
        let paired_code = created(pairing, asking(MASTER_TENANT_ID, "a3", "")).await;
        pairing
            .approve(MASTER_TENANT_ID, &paired_code.code, "operator")
            .await
            .expect("approve")
            .expect("waited");
        db.execute("UPDATE pairing_requests SET expires_at = '2000-01-01T00:00:00.000Z'")
            .await;
        db.execute("UPDATE paired_devices SET expires_at = '2000-01-01T00:00:00.000Z'")
            .await;
        assert!(
            pairing
                .list_pending(MASTER_TENANT_ID)
                .await
                .expect("list")
                .is_empty()
        );
        assert!(
            pairing
                .list_paired(MASTER_TENANT_ID)
                .await
                .expect("list")
                .is_empty()
        );
        assert_eq!(
            pairing
                .approve(MASTER_TENANT_ID, &waiting.code, "operator")
                .await
                .expect("approve"),
            None,
            "an expired code is not approved"
        );
        assert_eq!(
            pairing
                .paired(MASTER_TENANT_ID, "a3", "telegram")
                .await
                .expect("paired"),
            None
        );
        // The expired code no longer counts: the sender gets a new one.
        let fresh = created(pairing, asking(MASTER_TENANT_ID, "a2", "")).await;
        assert_ne!(fresh.code, waiting.code);
    }
);

database_test!(nothing_crosses_tenants, |db: TestDatabase| async move {
    let db = db.migrated_with_tenant(ACME, "acme").await;
    let store = db.store();
    let pairing = store.pairing();
    let acme = tenant(ACME);
    let theirs = created(pairing, asking(acme, "4711", "")).await;
    let ours = created(pairing, asking(MASTER_TENANT_ID, "4711", "")).await;
    assert_ne!(theirs.code, ours.code);
    assert_eq!(
        pairing.list_pending(MASTER_TENANT_ID).await.expect("list"),
        [ours]
    );
    assert_eq!(
        pairing
            .approve(MASTER_TENANT_ID, &theirs.code, "operator")
            .await
            .expect("approve"),
        None,
        "another tenant's code"
    );
    assert!(
        !pairing
            .deny(MASTER_TENANT_ID, &theirs.code)
            .await
            .expect("deny")
    );
    pairing
        .approve(acme, &theirs.code, "carol")
        .await
        .expect("approve")
        .expect("waited");
    assert!(
        pairing
            .list_paired(MASTER_TENANT_ID)
            .await
            .expect("list")
            .is_empty()
    );
    assert!(
        !pairing
            .revoke(MASTER_TENANT_ID, "4711", "telegram")
            .await
            .expect("revoke")
    );
    assert!(
        pairing
            .paired(acme, "4711", "telegram")
            .await
            .expect("paired")
            .is_some()
    );

    let missing = pairing.request(asking(tenant(MISSING), "4711", "")).await;
    assert!(
        matches!(missing, Err(StoreError::NotFound("tenant"))),
        "{missing:?}"
    );
});
