//! Connecting to the database, and its schema.

use std::time::Duration;

use atone_migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

use crate::StorageError;

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct DbConfig {
    /// `sqlite://atone.db?mode=rwc`, `mysql://user:password@host:3306/atone`, ...
    pub url: String,
    pub max_connections: u32,
}

impl DbConfig {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 16,
        }
    }

    pub fn is_sqlite(&self) -> bool {
        self.url.starts_with("sqlite:")
    }
}

/// Opens a connection pool. SQLite runs in WAL mode with a full fsync per commit, so an
/// acknowledged command survives a crash of the process or the machine.
pub async fn connect(config: &DbConfig) -> Result<DatabaseConnection, StorageError> {
    let mut options = ConnectOptions::new(config.url.clone());
    options
        .max_connections(config.max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(10))
                .create_if_missing(true)
        })
        .map_sqlx_mysql_opts(|o| o.charset("utf8mb4"));
    Ok(sea_orm::Database::connect(options).await?)
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), StorageError> {
    Ok(Migrator::up(db, None).await?)
}

/// The names of migrations the database has not had yet.
pub async fn pending_migrations(db: &DatabaseConnection) -> Result<Vec<String>, StorageError> {
    Ok(Migrator::get_pending_migrations(db)
        .await?
        .iter()
        .map(|m| m.name().to_owned())
        .collect())
}

/// Begins a transaction that writes. On SQLite it takes the write lock at once (`BEGIN
/// IMMEDIATE`), so it cannot fail halfway on a lock upgrade after reading.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, StorageError> {
    let options = TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    };
    Ok(db.begin_with_options(options).await?)
}

/// Begins a transaction that only reads, so several reads see one consistent state.
pub async fn begin_read(db: &DatabaseConnection) -> Result<DatabaseTransaction, StorageError> {
    Ok(db.begin().await?)
}

pub fn is_mysql(db: &impl ConnectionTrait) -> bool {
    db.get_database_backend() == DbBackend::MySql
}
