//! A migrated SQLite database in a temporary directory, for the round trips.

use crate::{DatabaseConnection, DbConfig};

pub(super) struct TestDb {
    pub conn: DatabaseConnection,
    _dir: tempfile::TempDir,
}

pub(super) async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("atone.db").display()
    );
    let conn = crate::connect(&DbConfig::new(url)).await.expect("connect");
    crate::migrate(&conn).await.expect("migrate");
    TestDb { conn, _dir: dir }
}
