//! A `LeaseHolder` on SQLite in a temporary directory (no services): of two holders one
//! takes a free lease, renewal is due after a third of the duration, a lease handed back is
//! free at once, and one that expired is taken over, fencing its old holder's writes off.

use std::time::Duration;

use atone_lease::LeaseHolder;
use atone_storage::leases::{self, Progress};
use atone_storage::{DatabaseConnection, DbConfig, StorageError};

const SOURCE: &str = "billing";
const KIND: &str = "billing";

struct Db {
    conn: DatabaseConnection,
    _dir: tempfile::TempDir,
}

async fn db() -> Db {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("atone.db").display()
    );
    let conn = atone_storage::connect(&DbConfig::new(url))
        .await
        .expect("connect");
    atone_storage::migrate(&conn).await.expect("migrate");
    Db { conn, _dir: dir }
}

fn holder(db: &Db, owner: &str, duration: Duration) -> LeaseHolder {
    LeaseHolder::new(db.conn.clone(), owner.into(), duration)
}

async fn owner(db: &Db) -> Option<String> {
    leases::get(&db.conn, SOURCE)
        .await
        .expect("read the lease")
        .expect("the lease's row")
        .owner
}

fn progress() -> Progress {
    Progress {
        checkpoint: Some("42".into()),
        applied: 1,
        invalid: 0,
        lag_millis: None,
    }
}

#[tokio::test]
async fn one_of_two_holders_takes_a_free_lease_and_hands_it_back() {
    let db = db().await;
    let one = holder(&db, "one", Duration::from_secs(60));
    let two = holder(&db, "two", Duration::from_secs(60));

    let mut held = one
        .take_if_free(SOURCE, KIND)
        .await
        .expect("take")
        .expect("a free lease is taken");
    assert!(
        two.take_if_free(SOURCE, KIND)
            .await
            .expect("take")
            .is_none(),
        "a held lease is not taken while it lasts"
    );
    assert_eq!(owner(&db).await.as_deref(), Some("one"));

    // Not due yet: keeping it writes nothing; renewing it now extends it.
    let until = leases::get(&db.conn, SOURCE)
        .await
        .expect("read")
        .expect("row");
    assert!(one.keep(&mut held).await.expect("keep"));
    let kept = leases::get(&db.conn, SOURCE)
        .await
        .expect("read")
        .expect("row");
    assert_eq!(kept.lease_expires_at, until.lease_expires_at);
    assert!(one.renew_due(&held) > tokio::time::Instant::now());
    assert!(one.renew(&mut held).await.expect("renew"));
    let renewed = leases::get(&db.conn, SOURCE)
        .await
        .expect("read")
        .expect("row");
    assert!(renewed.lease_expires_at >= until.lease_expires_at);

    // Writes under the lease go through while it is held.
    leases::record_progress(&db.conn, SOURCE, &progress(), Some(one.fence(&held)))
        .await
        .expect("a fenced write by the holder");

    one.release(held).await;
    assert_eq!(
        owner(&db).await,
        None,
        "handed back, the lease is free at once"
    );
    let taken = two
        .take_if_free(SOURCE, KIND)
        .await
        .expect("take")
        .expect("the lease handed back is taken");
    assert_eq!(owner(&db).await.as_deref(), Some("two"));
    assert!(taken.counter > 1, "a new owner, a new fencing counter");
}

#[tokio::test]
async fn an_expired_lease_is_taken_over_and_its_old_holder_is_fenced_off() {
    let db = db().await;
    // A holder whose leases last no time: each has expired by the time another looks.
    let paused = holder(&db, "paused", Duration::ZERO);
    let other = holder(&db, "other", Duration::from_secs(60));

    let mut stale = paused
        .take_if_free(SOURCE, KIND)
        .await
        .expect("take")
        .expect("a free lease is taken");
    let fresh = other
        .take_if_free(SOURCE, KIND)
        .await
        .expect("take")
        .expect("an expired lease is taken over");
    assert!(fresh.counter > stale.counter);

    // The old holder can neither renew it, nor write under it, nor hand it back.
    assert!(!paused.renew(&mut stale).await.expect("renew"), "lost");
    let write =
        leases::record_progress(&db.conn, SOURCE, &progress(), Some(paused.fence(&stale))).await;
    assert!(
        matches!(write, Err(StorageError::Fenced { ref source_id }) if source_id == SOURCE),
        "{write:?}"
    );
    paused.release(stale).await;
    assert_eq!(
        owner(&db).await.as_deref(),
        Some("other"),
        "still the new holder's"
    );
    leases::record_progress(&db.conn, SOURCE, &progress(), Some(other.fence(&fresh)))
        .await
        .expect("the new holder writes");
}
