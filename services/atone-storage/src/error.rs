use sea_orm::{DbErr, RuntimeErr};

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// Another writer appended to the member's stream first: reload and decide again.
    #[error("version conflict on user {user_id} at version {version}")]
    Conflict { user_id: String, version: i64 },
    /// This projector no longer holds the source's lease: another owner took it over, and
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

impl StorageError {
    /// Worth retrying as is: the same work may succeed once the database is back or the
    /// lock it lost is free again.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Unavailable(_) | Self::Conflict { .. } => true,
            Self::Db(e) => is_lock_error(e),
            Self::Corrupt(_) | Self::Fenced { .. } => false,
        }
    }
}

fn is_connection_error(e: &DbErr) -> bool {
    match e {
        DbErr::Conn(_) | DbErr::ConnectionAcquire(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => matches!(
            &**e,
            sea_orm::sqlx::Error::Io(_)
                | sea_orm::sqlx::Error::PoolTimedOut
                | sea_orm::sqlx::Error::PoolClosed
                | sea_orm::sqlx::Error::WorkerCrashed
                | sea_orm::sqlx::Error::Protocol(_)
                | sea_orm::sqlx::Error::Tls(_)
        ),
        _ => false,
    }
}

/// A deadlock or lock wait timeout (MySQL), or a busy database (SQLite): the transaction
/// was rolled back and can run again.
fn is_lock_error(e: &DbErr) -> bool {
    let text = e.to_string();
    [
        "Deadlock found",
        "Lock wait timeout",
        "database is locked",
        "SQLITE_BUSY",
        "(code: 5)",
        "(code: 517)",
        "1213",
        "1205",
    ]
    .iter()
    .any(|needle| text.contains(needle))
}
