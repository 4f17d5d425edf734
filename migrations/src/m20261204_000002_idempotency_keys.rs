//! Idempotency keys in a table of their own, kept for a retention period, instead of inside
//! each member's state (and every snapshot of it) for good: a row per command that a
//! caller may retry, with what it asked and answered. Snapshots gain the schema of the
//! state they hold; those of the old shape (0) are folded afresh from the events.
//!
//! The keys of the commands appended before are read back from the event store once,
//! here; their retention counts from this migration.

use atone_domain::{Event, Processed, RecordedEvent};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

use crate::columns::{instant, table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            table(m, "idempotency_keys")
                .col(string_len("user_id", 128))
                .col(string_len("idempotency_key", 128))
                // The command and its reply (atone_domain::Processed) as JSON.
                .col(json("processed"))
                .col(instant(m, "created_at"))
                .primary_key(Index::create().col("user_id").col("idempotency_key"))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_idempotency_keys_created_at")
                .table("idempotency_keys")
                .col("created_at")
                .take(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("snapshots")
                .add_column(integer("schema_version").default(0))
                .take(),
        )
        .await?;
        backfill(m).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("idempotency_keys").take())
            .await?;
        m.alter_table(
            Table::alter()
                .table("snapshots")
                .drop_column("schema_version")
                .take(),
        )
        .await
    }
}

/// Members read per page while the keys are read back.
const PAGE: u64 = 500;

/// A row per key of every member's stream, member by member.
async fn backfill(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = m.get_connection();
    let backend = db.get_database_backend();
    let text = match backend {
        DbBackend::MySql => "CAST(event_data AS CHAR)",
        _ => "CAST(event_data AS TEXT)",
    };
    let mut after = String::new();
    loop {
        let members = db
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                format!(
                    "SELECT DISTINCT user_id FROM events WHERE user_id > ? ORDER BY user_id LIMIT {PAGE}"
                ),
                [Value::from(after.clone())],
            ))
            .await?;
        let Some(last) = members.last() else {
            return Ok(());
        };
        after = last.try_get("", "user_id")?;
        for member in &members {
            let user_id: String = member.try_get("", "user_id")?;
            let events = db
                .query_all_raw(Statement::from_sql_and_values(
                    backend,
                    format!(
                        "SELECT version, event_type, {text} AS data, idempotency_key FROM events WHERE user_id = ? ORDER BY version"
                    ),
                    [Value::from(user_id.clone())],
                ))
                .await?;
            let mut stream = Vec::with_capacity(events.len());
            for row in &events {
                let event_type: String = row.try_get("", "event_type")?;
                let data: String = row.try_get("", "data")?;
                // An event this build cannot read has no key to give back.
                let Some(event) = serde_json::from_str(&data)
                    .ok()
                    .and_then(|json| Event::from_json(&event_type, json).ok())
                else {
                    continue;
                };
                stream.push(RecordedEvent {
                    version: row.try_get("", "version")?,
                    idempotency_key: row.try_get("", "idempotency_key")?,
                    event,
                });
            }
            insert_keys(db, backend, &user_id, &stream).await?;
        }
    }
}

async fn insert_keys(
    db: &impl ConnectionTrait,
    backend: DbBackend,
    user_id: &str,
    stream: &[RecordedEvent],
) -> Result<(), DbErr> {
    let mut keys: Vec<&str> = stream.iter().map(|e| e.idempotency_key.as_str()).collect();
    keys.sort_unstable();
    keys.dedup();
    for key in keys {
        let Some(processed) = Processed::of_key(stream, key) else {
            continue;
        };
        let json = serde_json::to_string(&processed)
            .map_err(|e| DbErr::Custom(format!("a key of {user_id} does not serialize: {e}")))?;
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            "INSERT INTO idempotency_keys (user_id, idempotency_key, processed, created_at) VALUES (?, ?, ?, CURRENT_TIMESTAMP)",
            [
                Value::from(user_id.to_owned()),
                Value::from(key.to_owned()),
                Value::from(json),
            ],
        ))
        .await?;
    }
    Ok(())
}
