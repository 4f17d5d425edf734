//! Connecting to the database, and its schema.

use std::time::Duration;

use atone_migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ColumnTrait, ConnectOptions, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    DbBackend, EntityTrait, IsolationLevel, QuerySelect, Select, SqliteTransactionMode, Statement,
    TransactionOptions, TransactionTrait,
};
use tokio::sync::{Mutex, MutexGuard};

use crate::StorageError;

/// The database when none is configured: a SQLite file in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://atone.db?mode=rwc";

/// How to reach the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbConfig {
    /// `sqlite://atone.db?mode=rwc`, `mysql://user:password@host:3306/atone`, ...
    pub url: String,
    pub max_connections: u32,
}

impl Default for DbConfig {
    fn default() -> Self {
        Self {
            url: DEFAULT_DATABASE_URL.to_owned(),
            max_connections: 16,
        }
    }
}

impl DbConfig {
    /// The defaults, at `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            ..Self::default()
        }
    }

    pub fn is_sqlite(&self) -> bool {
        self.url.starts_with("sqlite:")
    }
}

/// Prepared statements each MySQL connection keeps (sqlx's default is 100). A batch's
/// multi-row INSERTs and upserts differ in shape with their row counts, so a small cache
/// keeps closing and preparing statements. sqlx sends the close without waiting for an
/// answer and the prepare right after it; with Nagle's algorithm on (sqlx does not set
/// TCP_NODELAY) the prepare then waits for the server's delayed ACK, about 40 ms, in the
/// middle of a transaction. Kept well under MariaDB's server-wide `max_prepared_stmt_count`
/// (16,382 by default) for a few processes' pools: a batch has at most a few hundred
/// shapes.
const MYSQL_STATEMENT_CACHE: usize = 512;

/// Opens a connection pool. SQLite runs in WAL mode with a full fsync per commit, so an
/// acknowledged command survives a crash of the process or the machine.
pub async fn connect(config: &DbConfig) -> Result<DatabaseConnection, StorageError> {
    Ok(sea_orm::Database::connect(options(config)).await?)
}

/// Opens a pool of `max_connections` for transactions that project (inline appends): on
/// MySQL each connection's session runs at READ COMMITTED (see [`begin_projection`]), so a
/// transaction needs no `SET TRANSACTION` before its `BEGIN`. `None` on SQLite, where
/// [`begin_projection`] on the main pool costs nothing more.
pub async fn connect_projecting(
    config: &DbConfig,
    max_connections: u32,
) -> Result<Option<DatabaseConnection>, StorageError> {
    if config.is_sqlite() {
        return Ok(None);
    }
    let mut options = options(config);
    options
        .max_connections(max_connections)
        .map_sqlx_mysql_pool_opts(|pool| {
            pool.after_connect(|conn, _| {
                Box::pin(async move {
                    use sea_orm::sqlx::Executor;
                    conn.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
                        .await
                        .map(|_| ())
                })
            })
        });
    Ok(Some(sea_orm::Database::connect(options).await?))
}

fn options(config: &DbConfig) -> ConnectOptions {
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
        .map_sqlx_mysql_opts(|o| {
            o.charset("utf8mb4")
                .statement_cache_capacity(MYSQL_STATEMENT_CACHE)
        });
    options
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

/// SQLite has one writer at a time, and a second one waits in SQLite's busy handler, which
/// sleeps in steps of up to 100 ms and so wakes well after the lock is free: with the
/// appender and the projector writing at once, a change took hundreds of milliseconds to
/// reach its watchers now and then. This process's writers take turns here instead, each
/// woken as the one before it finishes.
static SQLITE_WRITER: Mutex<()> = Mutex::const_new(());

/// This process's writer turn on SQLite, held (by the caller, beside the transaction) until
/// the write transaction has ended; nothing on MySQL.
#[must_use = "the turn ends when it is dropped: keep it until the transaction has ended"]
pub struct WriterTurn {
    _guard: Option<MutexGuard<'static, ()>>,
}

impl WriterTurn {
    /// No turn: for a transaction on MySQL.
    pub(crate) fn none() -> Self {
        Self { _guard: None }
    }
}

/// Begins a transaction that writes, and the writer turn to keep until it has ended. On
/// SQLite it waits for this process's turn, then takes the write lock at once (`BEGIN
/// IMMEDIATE`), so it cannot fail halfway on a lock upgrade after reading.
pub async fn begin_write(
    db: &DatabaseConnection,
) -> Result<(DatabaseTransaction, WriterTurn), StorageError> {
    let turn = match db.get_database_backend() {
        DbBackend::Sqlite => Some(SQLITE_WRITER.lock().await),
        _ => None,
    };
    let options = TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    };
    Ok((
        db.begin_with_options(options).await?,
        WriterTurn { _guard: turn },
    ))
}

/// Begins a transaction that applies events to the read models. On MySQL it runs at READ
/// COMMITTED: its locking reads lock the rows they find and no gaps between them, so the
/// batches of projectors of different shards, which share no member, never wait on each
/// other. (Under REPEATABLE READ two batches inserting new promises or bills, whose UUIDv7
/// ids all sort at the end of the index, deadlocked on the gap locks of their reads.) Two
/// transactions of one member still take turns on the member's row. On SQLite it is
/// [`begin_write`].
pub async fn begin_projection(
    db: &DatabaseConnection,
) -> Result<(DatabaseTransaction, WriterTurn), StorageError> {
    if !is_mysql(db) {
        return begin_write(db).await;
    }
    let options = TransactionOptions {
        isolation_level: Some(IsolationLevel::ReadCommitted),
        ..Default::default()
    };
    Ok((
        db.begin_with_options(options).await?,
        WriterTurn { _guard: None },
    ))
}

/// Begins a transaction that only reads, so several reads see one consistent state.
pub async fn begin_read(db: &DatabaseConnection) -> Result<DatabaseTransaction, StorageError> {
    Ok(db.begin().await?)
}

pub fn is_mysql(db: &impl ConnectionTrait) -> bool {
    db.get_database_backend() == DbBackend::MySql
}

/// A counter row: `value` of the row whose `key` column is the key, in `table`.
pub(crate) struct Counter {
    pub table: &'static str,
    pub key: &'static str,
    pub value: &'static str,
}

impl Counter {
    /// Raises the counter of `key` by `n` and returns its new value, in one statement
    /// (MySQL hands it back through `LAST_INSERT_ID(expr)` in the statement's result,
    /// SQLite through `RETURNING`); `None` when there is no row for `key`. The row stays
    /// locked until `txn` ends: whoever raises it next waits, so the numbers taken commit in
    /// their order, and a rolled-back transaction gives its numbers back.
    pub async fn raise(
        &self,
        txn: &DatabaseTransaction,
        key: &str,
        n: i64,
    ) -> Result<Option<i64>, StorageError> {
        let Self {
            table,
            key: key_column,
            value,
        } = self;
        let backend = txn.get_database_backend();
        if is_mysql(txn) {
            let raised = txn
                .execute_raw(Statement::from_sql_and_values(
                    backend,
                    format!(
                        "UPDATE {table} SET {value} = LAST_INSERT_ID({value} + ?) WHERE {key_column} = ?"
                    ),
                    [n.into(), key.into()],
                ))
                .await?;
            if raised.rows_affected() == 0 {
                return Ok(None);
            }
            let last = i64::try_from(raised.last_insert_id())
                .map_err(|_| StorageError::Corrupt(format!("{table} {key} numbered past i64")))?;
            return Ok(Some(last));
        }
        let row = txn
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                format!("UPDATE {table} SET {value} = {value} + ? WHERE {key_column} = ? RETURNING {value}"),
                [n.into(), key.into()],
            ))
            .await?;
        row.map(|row| row.try_get::<i64>("", value))
            .transpose()
            .map_err(StorageError::from)
    }
}

/// The largest `column` among the rows `query` selects; 0 when it selects none.
pub(crate) async fn max_or_zero<E: EntityTrait>(
    conn: &impl ConnectionTrait,
    query: Select<E>,
    column: E::Column,
) -> Result<i64, StorageError> {
    Ok(query
        .select_only()
        .column_as(column.max(), "max")
        .into_tuple::<Option<i64>>()
        .one(conn)
        .await?
        .flatten()
        .unwrap_or(0))
}

/// The pool's connections: (open, idle).
pub fn pool_usage(db: &DatabaseConnection) -> (u32, u32) {
    match db.get_database_backend() {
        sea_orm::DbBackend::MySql => {
            let pool = db.get_mysql_connection_pool();
            (
                pool.size(),
                u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            )
        }
        sea_orm::DbBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (
                pool.size(),
                u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            )
        }
        _ => (0, 0),
    }
}
