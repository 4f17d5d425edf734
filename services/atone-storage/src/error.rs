use atone_api::tonic::Status;
use sea_orm::sqlx::mysql::MySqlDatabaseError;
use sea_orm::sqlx::sqlite::SqliteError;
use sea_orm::{DbErr, RuntimeErr};

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// Another writer appended to the member's stream first: reload and decide again.
    #[error("version conflict on user {user_id} at version {version}")]
    Conflict { user_id: String, version: i64 },
    /// This process no longer holds the source's lease: another owner took it over, and
    /// the batch was rolled back.
    #[error("lease on {source_id} lost")]
    Fenced { source_id: String },
    /// The database cannot be reached (down, restarting, pool exhausted).
    #[error("database unavailable: {0}")]
    Unavailable(DbErr),
    #[error("database error: {0}")]
    Db(DbErr),
    /// Stored data that cannot be read back: a bug or a foreign write, never user input.
    #[error("corrupt data: {0}")]
    Corrupt(String),
}

impl From<DbErr> for StorageError {
    fn from(e: DbErr) -> Self {
        if is_connection_error(&e) {
            Self::Unavailable(e)
        } else {
            Self::Db(e)
        }
    }
}

impl atone_retry::Retryable for StorageError {
    /// Worth retrying as is: the same work may succeed once the database is back or the
    /// lock it lost is free again.
    fn is_transient(&self) -> bool {
        match self {
            Self::Unavailable(_) | Self::Conflict { .. } => true,
            Self::Db(e) => is_lock_error(e),
            Self::Corrupt(_) | Self::Fenced { .. } => false,
        }
    }
}

impl StorageError {
    /// The database rolled the transaction back for a lock (a deadlock, a lock wait
    /// timeout, a busy SQLite): the same transaction can run again as it is.
    pub fn is_lock(&self) -> bool {
        matches!(self, Self::Db(e) if is_lock_error(e))
    }

    /// The database refused a value a row was to hold (too long, out of range, not
    /// allowed): a fault of the data being written, not of the database. Writing the same
    /// data again fails the same way, so the projector sets the member's events aside.
    pub fn is_data_error(&self) -> bool {
        let Self::Db(e) = self else {
            return false;
        };
        let Some(sea_orm::sqlx::Error::Database(db)) = sqlx_error(e) else {
            return false;
        };
        if let Some(mysql) = db.try_downcast_ref::<MySqlDatabaseError>() {
            return MYSQL_DATA_ERRORS.contains(&mysql.number());
        }
        if db.try_downcast_ref::<SqliteError>().is_some() {
            return db
                .code()
                .and_then(|code| code.parse::<i64>().ok())
                .is_some_and(|code| SQLITE_DATA_ERRORS.contains(&(code & 0xff)));
        }
        false
    }
}

/// MySQL/MariaDB: a duplicate key (1062: a row the database takes for another one, as a
/// PAD SPACE collation did with a trailing space), null in a NOT NULL column (1048), value
/// out of range (1264), a bad date or number (1292), a bad string value (1366), data too
/// long (1406), a failed CHECK (3819 MySQL, 4025 MariaDB).
const MYSQL_DATA_ERRORS: [u16; 8] = [1048, 1062, 1264, 1292, 1366, 1406, 3819, 4025];
/// SQLite primary result codes: a value too big (SQLITE_TOOBIG, 18), a failed constraint
/// (SQLITE_CONSTRAINT, 19: unique, not null, check), a type mismatch (SQLITE_MISMATCH, 20).
const SQLITE_DATA_ERRORS: [i64; 3] = [18, 19, 20];

/// What a caller of any service is told when storage fails. The cause is logged, never
/// shown: it may name tables, hosts or values.
impl From<StorageError> for Status {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Unavailable(cause) => {
                tracing::warn!(error = %cause, "database unavailable");
                Status::unavailable(
                    "the database is unavailable; retry (a command with the same idempotency key)",
                )
            }
            StorageError::Conflict { .. } => {
                Status::aborted("concurrent change; retry with the same idempotency key")
            }
            StorageError::Db(_) | StorageError::Corrupt(_) | StorageError::Fenced { .. } => {
                tracing::error!(error = %e, "storage failed");
                Status::internal("internal error")
            }
        }
    }
}

fn sqlx_error(e: &DbErr) -> Option<&sea_orm::sqlx::Error> {
    match e {
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => Some(e),
        DbErr::Conn(RuntimeErr::SqlxError(e)) => Some(e),
        _ => None,
    }
}

fn is_connection_error(e: &DbErr) -> bool {
    if matches!(e, DbErr::Conn(_) | DbErr::ConnectionAcquire(_)) {
        return true;
    }
    sqlx_error(e).is_some_and(|e| {
        matches!(
            e,
            sea_orm::sqlx::Error::Io(_)
                | sea_orm::sqlx::Error::PoolTimedOut
                | sea_orm::sqlx::Error::PoolClosed
                | sea_orm::sqlx::Error::WorkerCrashed
                | sea_orm::sqlx::Error::Protocol(_)
                | sea_orm::sqlx::Error::Tls(_)
        )
    })
}

/// MySQL/MariaDB: deadlock (1213), lock wait timeout (1205).
const MYSQL_LOCK_ERRORS: [u16; 2] = [1213, 1205];
/// SQLite primary result codes: SQLITE_BUSY (5), SQLITE_LOCKED (6). Extended codes such as
/// SQLITE_BUSY_SNAPSHOT (517) carry the primary one in their low byte.
const SQLITE_LOCK_ERRORS: [i64; 2] = [5, 6];

/// A deadlock or lock wait timeout (MySQL), or a busy database (SQLite), told by the
/// database's error code: the transaction was rolled back and can run again.
fn is_lock_error(e: &DbErr) -> bool {
    let Some(sea_orm::sqlx::Error::Database(db)) = sqlx_error(e) else {
        return false;
    };
    if let Some(mysql) = db.try_downcast_ref::<MySqlDatabaseError>() {
        return MYSQL_LOCK_ERRORS.contains(&mysql.number());
    }
    if db.try_downcast_ref::<SqliteError>().is_some() {
        return db
            .code()
            .and_then(|code| code.parse::<i64>().ok())
            .is_some_and(|code| SQLITE_LOCK_ERRORS.contains(&(code & 0xff)));
    }
    false
}
